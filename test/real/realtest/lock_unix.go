//go:build unix

package realtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockKind holds a lock on kind's ports across processes (go test runs
// packages in parallel), waiting at most wait for another test's stack.
func lockKind(kind Kind, wait time.Duration) (unlock func(), err error) {
	path := filepath.Join(os.TempDir(), "wsstorm-real-"+string(kind)+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			_ = f.Close()
			return nil, fmt.Errorf("another test has held the %s stack's ports (%s) for over %v", kind, path, wait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
