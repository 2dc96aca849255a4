package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// link stands for a user's path to a server far away: one uplink of a
// given bandwidth shared by all connections, a round-trip time every
// connection pays, and a per-connection window (the TCP send window, or
// the receiver's, whichever is smaller) that bounds what one connection
// may have in flight, so one connection carries at most window ÷ RTT.
//
// What it models: the handshake (a connection's first byte leaves one
// RTT after connect), propagation (RTT/2 each way, answers included, so
// HTTP's request–response turnarounds and Expect: 100-continue cost what
// they cost on a real path), the window (bytes count against it from
// when they enter the link until their acknowledgement is back, RTT/2
// after delivery) and the shared cap (a token bucket on the upload
// direction). What it does not: loss and retransmission, slow start
// (the window is open from the first byte, also after idle), congestion
// control (no connection backs off; the bucket is shared roughly
// fairly), TLS handshakes, and any cap on the download direction (only
// small answers flow that way here).
type link struct {
	rate   float64       // upload bytes a second, all connections together; 0: no cap
	rtt    time.Duration // round trip
	window int           // bytes in flight per connection; 0: no limit
	bucket *tokenBucket
}

// linkSpec is a link as the bench's flags spell it.
type linkSpec struct {
	mbit   float64 // megabits a second (10^6)
	rtt    time.Duration
	window int
}

func (s linkSpec) String() string {
	name := fmt.Sprintf("%s, %d ms RTT", mbitString(s.mbit), s.rtt.Milliseconds())
	if s.mbit == 250 && s.rtt%(4*time.Millisecond) == 0 && s.rtt > 0 {
		// The slowed model of 1 Gbit/s (defaultLinks): say which.
		name += fmt.Sprintf(" (1 Gbit/s, %d ms, slowed 4x)", s.rtt.Milliseconds()/4)
	}
	return name
}

func mbitString(mbit float64) string {
	if mbit >= 1000 {
		return strconv.FormatFloat(mbit/1000, 'f', -1, 64) + " Gbit/s"
	}
	return strconv.FormatFloat(mbit, 'f', -1, 64) + " Mbit/s"
}

// bytesPerSecond is the spec's bandwidth.
func (s linkSpec) bytesPerSecond() float64 { return s.mbit * 1e6 / 8 }

// limit is how long size bytes take at best over streams connections:
// size ÷ min(bandwidth, streams × window ÷ RTT).
func (s linkSpec) limit(size int64, streams int) time.Duration {
	rate := s.bytesPerSecond()
	if s.window > 0 && s.rtt > 0 && streams > 0 {
		rate = min(rate, float64(streams)*float64(s.window)/s.rtt.Seconds())
	}
	return time.Duration(float64(size) / rate * float64(time.Second))
}

// parseLinks reads "1000x20,100x100": megabits a second × RTT in ms.
func parseLinks(list string, window int) ([]linkSpec, error) {
	if list == "" || list == "none" {
		return nil, nil
	}
	var out []linkSpec
	for _, p := range strings.Split(list, ",") {
		var mbit float64
		var ms int
		if _, err := fmt.Sscanf(strings.TrimSpace(p), "%gx%d", &mbit, &ms); err != nil || mbit <= 0 || ms < 0 {
			return nil, fmt.Errorf("-links %q: want Mbit/s x RTT ms, e.g. 1000x100", p)
		}
		out = append(out, linkSpec{mbit: mbit, rtt: time.Duration(ms) * time.Millisecond, window: window})
	}
	return out, nil
}

func newLink(s linkSpec) *link {
	l := &link{rate: s.bytesPerSecond(), rtt: s.rtt, window: s.window}
	if l.rate > 0 {
		// A burst of a few milliseconds of the link: what a router's
		// queue would let through at once.
		l.bucket = newTokenBucket(l.rate, max(64<<10, int(l.rate/200)))
	}
	return l
}

// linkProxy is a TCP proxy on loopback in front of one server, its
// connections on a link. It forwards bytes unchanged, so S3 signatures
// (which cover the Host header) still hold.
type linkProxy struct {
	URL    string
	ln     net.Listener
	target string
	link   *link
	wg     sync.WaitGroup
}

// newLinkProxy is a proxy to target on a link of rate bytes a second
// and nothing else: no round trip, no window.
func newLinkProxy(target string, rate float64) (*linkProxy, error) {
	l := &link{rate: rate, bucket: newTokenBucket(rate, 64<<10)}
	return l.proxy(target)
}

// proxy listens on 127.0.0.1 and forwards to target (host:port) over l.
func (l *link) proxy(target string) (*linkProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &linkProxy{URL: "http://" + ln.Addr().String(), ln: ln, target: target, link: l}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *linkProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c.(*net.TCPConn))
	}
}

func (p *linkProxy) handle(client *net.TCPConn) {
	defer client.Close()
	open := time.Now().Add(p.link.rtt) // SYN, SYN-ACK: then the first byte may leave
	sc, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	server := sc.(*net.TCPConn)
	defer server.Close()
	done := make(chan struct{})
	go func() {
		p.link.carry(server, client, open, false) // answers: delayed only
		close(done)
	}()
	p.link.carry(client, server, open, true)
	<-done
}

// Close stops accepting connections.
func (p *linkProxy) Close() error {
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

// chunk is bytes on the wire, due at the far end at due.
type chunk struct {
	b   []byte
	due time.Time
}

// carry moves bytes from src to dst as the link would: up (the upload
// direction) through the window and the shared cap, and in both
// directions RTT/2 late; then it half-closes dst.
func (l *link) carry(src, dst *net.TCPConn, open time.Time, up bool) {
	w := &window{size: l.window}
	w.cond = sync.NewCond(&w.mu)
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			n := 64 << 10
			if up && l.window > 0 {
				n = w.acquire(n)
			}
			b := (*chunks.Get().(*[]byte))[:n]
			got, err := src.Read(b)
			if up && l.window > 0 && got < n {
				w.release(n - got)
			}
			if got > 0 {
				if up && l.bucket != nil {
					l.bucket.take(got) // serialised onto the shared uplink
				}
				q <- chunk{b: b[:got], due: later(time.Now(), open).Add(l.rtt / 2)}
			}
			if err != nil {
				return
			}
		}
	}()
	broken := false
	for c := range q {
		if broken {
			continue // drain, so the reader ends
		}
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.b); err != nil {
			broken = true
			src.CloseRead()
		}
		b := c.b[:cap(c.b)]
		chunks.Put(&b)
		if up && l.window > 0 {
			// The acknowledgement is back RTT/2 after delivery.
			n := len(c.b)
			time.AfterFunc(l.rtt/2, func() { w.release(n) })
		}
	}
	dst.CloseWrite()
}

// chunks recycles the proxies' 64 KiB buffers: the bench shares two
// cores with what it measures.
var chunks = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// window is one connection's bytes in flight.
type window struct {
	mu       sync.Mutex
	cond     *sync.Cond
	size     int
	inFlight int
}

// acquire waits for room and takes up to n bytes of it.
func (w *window) acquire(n int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.inFlight >= w.size {
		w.cond.Wait()
	}
	n = min(n, w.size-w.inFlight)
	w.inFlight += n
	return n
}

func (w *window) release(n int) {
	w.mu.Lock()
	w.inFlight -= n
	w.mu.Unlock()
	w.cond.Broadcast()
}

// tokenBucket lets rate bytes a second through, with a burst of at most
// burst bytes. A taker may run into debt and then sleeps it off, so
// takers queue fairly and the long-run rate is exact.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64 // bytes per second
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int) *tokenBucket {
	return &tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// take blocks until n more bytes may pass.
func (b *tokenBucket) take(n int) {
	b.mu.Lock()
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= float64(n)
	debt := b.tokens
	b.mu.Unlock()
	if debt < 0 {
		time.Sleep(time.Duration(-debt / b.rate * float64(time.Second)))
	}
}
