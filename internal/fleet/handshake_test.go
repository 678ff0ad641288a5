package fleet

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestRequestConnSendsTheRequestAtItsFirstRead: what net/http writes to a
// dialed connection, piece by piece, goes out in one write when the
// response is first read; later writes go straight through.
func TestRequestConnSendsTheRequestAtItsFirstRead(t *testing.T) {
	client, server := net.Pipe() // a write blocks until the other side reads it
	defer server.Close()
	dial := gatherRequests(func(context.Context, string, string) (net.Conn, error) { return client, nil })
	c, err := dial(context.Background(), "tcp", "pipe")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req, err := http.NewRequest(http.MethodGet, "http://example.test/socket", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Write(c); err != nil { // would block on the pipe if not gathered
		t.Fatal(err)
	}

	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		n, _ := server.Read(buf) // the pipe hands over one write per read
		got <- string(buf[:n])
		_, _ = server.Write([]byte("reply"))
		n, _ = server.Read(buf)
		got <- string(buf[:n])
	}()
	reply := make([]byte, 5)
	if _, err := io.ReadFull(c, reply); err != nil || string(reply) != "reply" {
		t.Fatalf("read %q, %v; want the reply", reply, err)
	}
	sent := <-got
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(sent)))
	if err != nil || r.Host != "example.test" || r.URL.Path != "/socket" {
		t.Fatalf("server read %q in one read: %v", sent, err)
	}
	if _, err := c.Write([]byte("later")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "later" {
		t.Errorf("server read %q, want the later write", s)
	}
}
