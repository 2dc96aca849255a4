package jcds2

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
)

// memDest is a third kind of destination, sketched in one file against
// dest.Destination: an in-memory store. The planner's table and the
// engine's crash test use it exactly as they use shares and S3.
type memDest struct {
	label string
	cloud bool

	mu    sync.Mutex
	files map[string][]byte
	gen   map[string]int // bumped on every write: the stamp
}

func newMemDest(label string) *memDest {
	return &memDest{label: label, files: map[string][]byte{}, gen: map[string]int{}}
}

func (m *memDest) String() string { return m.label }
func (m *memDest) Cloud() bool    { return m.cloud }

func (m *memDest) Observe(_ context.Context, name string) (dest.Holding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return dest.Holding{}, nil
	}
	return dest.Holding{Present: true, Size: int64(len(b)), Stamp: fmt.Sprint(m.gen[name])}, nil
}

func (m *memDest) Open(_ context.Context, name string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("%s: no %s", m.label, name)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memDest) Put(_ context.Context, name string, src io.Reader, size int64) (dest.Holding, error) {
	b, err := io.ReadAll(io.LimitReader(src, size+1))
	if err != nil {
		return dest.Holding{}, err
	}
	if int64(len(b)) != size {
		return dest.Holding{}, fmt.Errorf("read %d bytes, not %d", len(b), size)
	}
	m.write(name, b)
	return m.Observe(context.Background(), name)
}

func (m *memDest) write(name string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[name] = b
	m.gen[name]++
}

func (m *memDest) Delete(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, name)
	m.gen[name]++
	return nil
}

func (m *memDest) holds(name string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.files[name]
}

// kindDest is a stand-in of a share (sh), the S3 point (s3) or the fake
// third kind (fk), for the planner, which only asks String and Cloud.
func kindDest(t *testing.T, kind string, i int) dest.Destination {
	switch kind {
	case "sh":
		return newMemDest(fmt.Sprintf("file share smb://nas/share%d", i))
	case "s3":
		d := newMemDest("s3://bucket")
		d.cloud = true
		return d
	case "fk":
		return newMemDest("fake")
	}
	t.Fatalf("destination kind %q", kind)
	return nil
}

// destStates builds observed destinations from "sh:none,s3:same ...".
func destStates(t *testing.T, spec string, local *localFile) []destState {
	if spec == "" {
		return nil
	}
	var out []destState
	for i, item := range strings.Split(spec, ",") {
		kind, held, _ := strings.Cut(item, ":")
		s := destState{d: kindDest(t, kind, i)}
		ours := dest.Holding{Present: true, Size: local.size, Stamp: "1", Hashes: local.Hashes}
		other := dest.Holding{Present: true, Size: local.size, Stamp: "2", Hashes: Hashes{MD5: otherMD5, SHA3: otherSHA3}}
		switch held {
		case "none":
		case "same":
			s.h = ours
		case "mine": // this run put the local bytes there
			s.h, s.put = ours, &putFact{stamp: "1", hashes: local.Hashes}
		case "other":
			s.h = other
		case "lost": // this run put its bytes; another writer's are there now
			s.h, s.put = other, &putFact{stamp: "1", hashes: local.Hashes}
		case "torn": // this run's copy, whose bytes are not the local hashes
			s.h, s.put = other, &putFact{stamp: "2", hashes: other.Hashes}
		default:
			t.Fatalf("holding %q", held)
		}
		out = append(out, s)
	}
	return out
}
