package merge

import (
	"os"
	"path/filepath"
)

// CheckOut refuses out, the merged results' directory, when it is one of
// the segments' dirs, whose files the merged results would replace.
func CheckOut(dirs []string, out string) error {
	for _, d := range dirs {
		if sameFile(d, out) {
			return refuse("--out %s is one of the segments' directories, whose files the merged results would replace: choose another directory", out)
		}
	}
	return nil
}

// sameFile reports whether paths a and b name one directory.
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && absA == absB
}
