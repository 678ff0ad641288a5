package dialabort

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func TestAbort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accept, never answer
		}
	}()

	// Aborted after connecting: the connection is closed under the reader.
	a := &Abort{}
	c, err := NetDial(a.Context(context.Background()), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	a.Abort()
	select {
	case err := <-done:
		if err == nil {
			t.Error("read after Abort succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Abort did not end a read on the dial's connection")
	}

	// Aborted before connecting: the dial refuses its connection.
	b := &Abort{}
	b.Abort()
	if c, err := NetDial(b.Context(context.Background()), "tcp", ln.Addr().String()); !errors.Is(err, context.Canceled) {
		t.Errorf("dial after Abort = %v, %v; want context.Canceled", c, err)
	}

	// Without an Abort it is a plain dial.
	c, err = NetDial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
