package action

import (
	"testing"
	"time"
)

// TestGate: a shut gate holds its waiters until it opens, or until their
// done closes; an open one lets them through at once.
func TestGate(t *testing.T) {
	var g Gate
	if g.Frozen() || !g.Wait(nil) {
		t.Fatal("the zero Gate is not open")
	}
	if !g.Freeze() || g.Freeze() || !g.Frozen() {
		t.Fatal("Freeze: want true, then false, and the gate shut")
	}
	through := make(chan bool, 2)
	go func() { through <- g.Wait(nil) }()
	done := make(chan struct{})
	go func() { through <- g.Wait(done) }()
	select {
	case <-through:
		t.Fatal("a waiter went through a shut gate")
	case <-time.After(50 * time.Millisecond):
	}
	close(done)
	if <-through {
		t.Error("a waiter whose done closed went through")
	}
	g.Thaw()
	if !<-through || g.Frozen() {
		t.Error("the thaw did not let the waiter through")
	}
	g.Thaw() // an open gate stays open
	if !g.Wait(nil) {
		t.Error("an open gate held a waiter")
	}
}
