//go:build unix

package realtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLockWaitsThenFails(t *testing.T) {
	name := "locktest-" + strconv.Itoa(os.Getpid())
	t.Cleanup(func() { _ = os.Remove(filepath.Join(os.TempDir(), "wsstorm-real-"+name+".lock")) })
	unlock, err := Lock(name, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := Lock(name, 300*time.Millisecond); err == nil || !strings.Contains(err.Error(), "another test holds") {
		t.Fatalf("a second Lock while the first is held: %v, want the wait's error", err)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("gave up after %v, want the wait of 300ms", waited)
	}
	unlock()
	again, err := Lock(name, time.Second)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	again()
}
