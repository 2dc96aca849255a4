package main

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// The link model's own tests: what the proxy guarantees (one connection
// at most window ÷ RTT, all of them at most the cap, a first exchange at
// least two round trips), with tolerances wide enough for a loaded
// machine (being slow never breaks an upper bound; the lower bounds are
// a third of the model).

// sink accepts connections and reads each to EOF, reporting the bytes
// and when the last arrived; with echo it writes every byte back.
func sink(t *testing.T, echo bool) (addr string, got chan received) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan received, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var w io.Writer = io.Discard
				if echo {
					w = c
				}
				n, _ := io.Copy(w, c)
				got <- received{n, time.Now()}
			}()
		}
	}()
	return ln.Addr().String(), got
}

type received struct {
	n  int64
	at time.Time
}

// send opens a connection through p and writes size bytes, half-closing.
func send(t *testing.T, p *linkProxy, size int) {
	t.Helper()
	c, err := net.Dial("tcp", p.URL[len("http://"):])
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close()
	if _, err := c.Write(make([]byte, size)); err != nil {
		t.Error(err)
	}
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, c)
}

func TestLinkOneConnectionIsBoundByWindowOverRTT(t *testing.T) {
	addr, got := sink(t, false)
	spec := linkSpec{mbit: 10000, rtt: 50 * time.Millisecond, window: 256 << 10} // window/RTT: 5 MiB/s; the cap far above
	p, err := newLink(spec).proxy(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const size = 3 << 20
	start := time.Now()
	send(t, p, size)
	r := <-got
	if r.n != size {
		t.Fatalf("the sink got %d bytes, want %d", r.n, size)
	}
	rate := float64(size) / r.at.Sub(start).Seconds()
	model := float64(spec.window) / spec.rtt.Seconds()
	t.Logf("one connection: %.2f MiB/s; window/RTT %.2f MiB/s", rate/(1<<20), model/(1<<20))
	if rate > 1.1*model {
		t.Errorf("one connection carried %.2f MiB/s, more than window/RTT (%.2f MiB/s)", rate/(1<<20), model/(1<<20))
	}
	if rate < model/3 {
		t.Errorf("one connection carried %.2f MiB/s, under a third of window/RTT (%.2f MiB/s)", rate/(1<<20), model/(1<<20))
	}
}

func TestLinkConnectionsShareTheCap(t *testing.T) {
	addr, got := sink(t, false)
	// Each connection could carry 5 MiB/s; four of them share 64 Mbit/s
	// (7.6 MiB/s).
	spec := linkSpec{mbit: 64, rtt: 20 * time.Millisecond, window: 100 << 10}
	p, err := newLink(spec).proxy(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const conns, each = 4, 2 << 20
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() { defer wg.Done(); send(t, p, each) }()
	}
	wg.Wait()
	var last time.Time
	var total int64
	for range conns {
		r := <-got
		total += r.n
		last = later(last, r.at)
	}
	if total != conns*each {
		t.Fatalf("the sink got %d bytes, want %d", total, conns*each)
	}
	rate := float64(total) / last.Sub(start).Seconds()
	capacity := spec.bytesPerSecond()
	t.Logf("%d connections: %.2f MiB/s together; the cap %.2f MiB/s", conns, rate/(1<<20), capacity/(1<<20))
	if rate > 1.1*capacity {
		t.Errorf("%d connections carried %.2f MiB/s, more than the cap (%.2f MiB/s)", conns, rate/(1<<20), capacity/(1<<20))
	}
	if rate < capacity/3 {
		t.Errorf("%d connections carried %.2f MiB/s, under a third of the cap (%.2f MiB/s)", conns, rate/(1<<20), capacity/(1<<20))
	}
}

func TestLinkFirstExchangeTakesTwoRoundTrips(t *testing.T) {
	addr, _ := sink(t, true)
	spec := linkSpec{mbit: 1000, rtt: 80 * time.Millisecond, window: 1 << 20}
	p, err := newLink(spec).proxy(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	start := time.Now()
	c, err := net.Dial("tcp", p.URL[len("http://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil || !bytes.Equal(b, []byte("ping")) {
		t.Fatalf("echo: %q, %v", b, err)
	}
	took := time.Since(start)
	// The handshake, then the request out and the answer back.
	if took < 2*spec.rtt-5*time.Millisecond {
		t.Errorf("connect and one exchange took %s, less than two round trips (%s)", took, 2*spec.rtt)
	}
	// A second exchange on the open connection costs one round trip.
	start = time.Now()
	c.Write([]byte("pong"))
	if _, err := io.ReadFull(c, b); err != nil || !bytes.Equal(b, []byte("pong")) {
		t.Fatalf("echo: %q, %v", b, err)
	}
	if took := time.Since(start); took < spec.rtt-5*time.Millisecond {
		t.Errorf("an exchange on an open connection took %s, less than a round trip (%s)", took, spec.rtt)
	}
}

func TestLinkLimit(t *testing.T) {
	gbit := linkSpec{mbit: 1000, rtt: 100 * time.Millisecond, window: 4 << 20}
	// 1 Gbit/s is 125,000,000 bytes a second; one 4 MiB window per
	// 100 ms is 41.9 MB/s.
	for _, c := range []struct {
		streams int
		want    float64 // seconds for 1 GiB
	}{{1, float64(1<<30) / (float64(4<<20) / 0.1)}, {2, float64(1<<30) / (2 * float64(4<<20) / 0.1)}, {10, float64(1<<30) / 125e6}} {
		if got := gbit.limit(1<<30, c.streams).Seconds(); got < c.want*0.999 || got > c.want*1.001 {
			t.Errorf("limit of 1 GiB on %d streams: %.3f s, want %.3f s", c.streams, got, c.want)
		}
	}
	links, err := parseLinks("1000x20,100x100", 4<<20)
	if err != nil || len(links) != 2 || links[1].mbit != 100 || links[1].rtt != 100*time.Millisecond || links[0].String() != "1 Gbit/s, 20 ms RTT" {
		t.Errorf("parseLinks: %v, %v", links, err)
	}
	if _, err := parseLinks("fast", 0); err == nil {
		t.Error("parseLinks accepted \"fast\"")
	}
}
