package main

import (
	"io"
	"net"
	"sync"
	"time"
)

// linkProxy is a TCP proxy on loopback standing for an uplink: every
// byte sent towards the server (the upload direction) passes one token
// bucket shared by all connections, as all connections share one link;
// answers flow back unthrottled. It forwards bytes unchanged, so S3
// signatures (which cover the Host header) still hold.
type linkProxy struct {
	URL    string
	ln     net.Listener
	target string
	bucket *tokenBucket
	wg     sync.WaitGroup
}

// newLinkProxy listens on 127.0.0.1 and forwards to target (host:port)
// at rate bytes a second.
func newLinkProxy(target string, rate float64) (*linkProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &linkProxy{URL: "http://" + ln.Addr().String(), ln: ln, target: target, bucket: newTokenBucket(rate, 64<<10)}
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
	sc, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	server := sc.(*net.TCPConn)
	defer server.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(client, server) // answers: unthrottled
		client.CloseWrite()
		close(done)
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			p.bucket.take(n)
			if _, werr := server.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	server.CloseWrite()
	<-done
}

// Close stops accepting connections.
func (p *linkProxy) Close() error {
	err := p.ln.Close()
	p.wg.Wait()
	return err
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
