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

// Lock takes the lock called name, across processes (go test runs
// packages, and other checkouts on this machine run theirs, in parallel),
// for a test that listens on fixed ports. It waits at most wait for
// another holder and then fails, so that a run stuck behind another ends
// with this error rather than go test's timeout. unlock releases it.
func Lock(name string, wait time.Duration) (unlock func(), err error) {
	path := filepath.Join(os.TempDir(), "wsstorm-real-"+name+".lock")
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
			return nil, fmt.Errorf("waited %v for the %s ports: another test holds %s (is another go test of test/real running?)", wait, name, path)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
