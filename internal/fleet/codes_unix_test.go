//go:build unix

package fleet

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/gorilla/websocket"
)

// emfileChild names the environment variable that makes
// TestClassifyRealEMFILE the child that runs out of descriptors.
const emfileChild = "WSSTORM_TEST_EMFILE_CHILD"

// TestClassifyRealEMFILE runs out of file descriptors for real, in a child
// process with a low RLIMIT_NOFILE (as `ulimit -n` sets it), so that this
// test process keeps its own: the dial that fails is too_many_open_files.
func TestClassifyRealEMFILE(t *testing.T) {
	if os.Getenv(emfileChild) == "1" {
		emfile()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestClassifyRealEMFILE$")
	cmd.Env = append(os.Environ(), emfileChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "reason too_many_open_files") {
		t.Errorf("child:\n%s", out)
	}
	t.Logf("child: %s", out)
}

// emfile is the child's part: it holds descriptors up to a low limit,
// dials, and prints the reason.
func emfile() {
	fail := func(msg string, err error) {
		os.Stdout.WriteString(msg + ": " + err.Error() + "\n")
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen", err)
	}
	// Go raised the soft limit at start; lower both, as `ulimit -n 64`.
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 64, Max: 64}); err != nil {
		fail("setrlimit", err)
	}
	var held []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			break
		}
		held = append(held, f)
	}
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/", nil)
	if err == nil {
		os.Stdout.WriteString("the dial succeeded with every descriptor held\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("reason " + classify(err, resp, false).String() + " (" + failureMessage(err) + ")\n")
	for _, f := range held {
		f.Close()
	}
}
