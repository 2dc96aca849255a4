package jcds2

import (
	"crypto/md5"
	"crypto/sha3"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
)

// Hashes of a file, hex; empty when not computed. One type with the
// destinations' (dest.Hashes), so there is one way to compare hashes.
type Hashes = dest.Hashes

// Hasher is an io.Writer that feeds every byte to MD5 and/or SHA3-512,
// each in its own goroutine, so both together run at the speed of the
// slower one and the writer (a file read or an upload) rarely waits.
// Call Sums once, at the end.
type Hasher struct {
	md5, sha3 hash.Hash
	hs        []hash.Hash
	ins       []chan *hashBuf
	free      chan *hashBuf
	wg        sync.WaitGroup
	// mu orders Write against Sums: an HTTP transport may still be
	// reading a request body (and so writing here) after the server
	// answered and the caller summed up.
	mu     sync.Mutex
	closed bool
}

type hashBuf struct {
	b    []byte
	n    int
	refs atomic.Int32
}

// hashBufSize × 4 buffers is all the memory hashing needs.
const hashBufSize = 256 << 10

// NewHasher returns a Hasher for the wanted hashes.
func NewHasher(wantMD5, wantSHA3 bool) *Hasher {
	p := &Hasher{}
	if wantMD5 {
		p.md5 = md5.New()
		p.hs = append(p.hs, p.md5)
	}
	if wantSHA3 {
		p.sha3 = sha3.New512()
		p.hs = append(p.hs, p.sha3)
	}
	const nbuf = 4
	p.free = make(chan *hashBuf, nbuf)
	for range nbuf {
		p.free <- &hashBuf{b: make([]byte, hashBufSize)}
	}
	for _, h := range p.hs {
		ch := make(chan *hashBuf, nbuf)
		p.ins = append(p.ins, ch)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for b := range ch {
				h.Write(b.b[:b.n])
				if b.refs.Add(-1) == 0 {
					p.free <- b
				}
			}
		}()
	}
	return p
}

func (p *Hasher) Write(data []byte) (int, error) {
	total := len(data)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, errors.New("hashing after the sums were taken")
	}
	if len(p.hs) == 0 {
		return total, nil
	}
	for len(data) > 0 {
		b := <-p.free
		b.n = copy(b.b, data)
		data = data[b.n:]
		b.refs.Store(int32(len(p.ins)))
		for _, ch := range p.ins {
			ch <- b
		}
	}
	return total, nil
}

// Sums waits for the hashes and returns them.
func (p *Hasher) Sums() Hashes {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		for _, ch := range p.ins {
			close(ch)
		}
		p.wg.Wait()
	}
	var h Hashes
	if p.md5 != nil {
		h.MD5 = hex.EncodeToString(p.md5.Sum(nil))
	}
	if p.sha3 != nil {
		h.SHA3 = hex.EncodeToString(p.sha3.Sum(nil))
	}
	return h
}

// HashFile computes the wanted hashes in one read pass. A file that
// changes while it is read (another step still writing it) has no hash:
// size, mtime and inode are compared before and after, and a change is an
// error, so no caller can cache or compare a hash of half a file.
func HashFile(path string, wantMD5, wantSHA3 bool) (Hashes, error) {
	f, err := os.Open(path)
	if err != nil {
		return Hashes{}, fmt.Errorf("hashing %s: %w", path, err)
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return Hashes{}, fmt.Errorf("hashing %s: %w", path, err)
	}
	p := NewHasher(wantMD5, wantSHA3)
	buf := make([]byte, hashBufSize)
	if _, err := io.CopyBuffer(p, struct{ io.Reader }{f}, buf); err != nil {
		p.Sums()
		return Hashes{}, fmt.Errorf("hashing %s: %w", path, err)
	}
	sums := p.Sums()
	after, err := os.Stat(path)
	if err != nil || stampFrom(path, before) != stampFrom(path, after) {
		return Hashes{}, &ChangedError{Path: path}
	}
	return sums, nil
}

// SameHash compares two hex hashes as hashes (dest.SameHash): case does
// not matter, and an unknown (empty) hash matches nothing.
func SameHash(a, b string) bool { return dest.SameHash(a, b) }
