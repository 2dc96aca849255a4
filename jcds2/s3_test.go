package jcds2

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// The first dial opens the other streams' connections beside it, and
// the next dials take those instead of opening new ones.
func TestWarmDialerOpensTheStreamsAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			defer c.Close()
		}
	}()
	const streams = 5
	d := &warmDialer{extra: streams - 1}
	ctx := context.Background()
	var conns []net.Conn
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conns = append(conns, c)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		d.mu.Lock()
		ready := len(d.ready[ln.Addr().String()])
		d.mu.Unlock()
		if ready == streams-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections opened ahead, want %d", ready, streams-1)
		}
	}
	for range streams - 1 {
		c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	d.mu.Lock()
	left := len(d.ready[ln.Addr().String()])
	d.mu.Unlock()
	if left != 0 {
		t.Errorf("%d early connections not taken", left)
	}
	// One more dial opens a new connection: the early ones are spent.
	c, err = d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conns = append(conns, c)
	for deadline := time.Now().Add(time.Minute); accepted.Load() < streams+1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("accepted %d connections, want %d", accepted.Load(), streams+1)
		}
	}
	if n := accepted.Load(); n != streams+1 {
		t.Errorf("accepted %d connections for %d dials, want %d", n, len(conns), streams+1)
	}
	for _, c := range conns {
		c.Close()
	}
}
