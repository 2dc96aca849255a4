package jcds2

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
)

// The distribution points beside the cloud route (Request.Destinations:
// file shares, a self-hosted S3 bucket) are observed with the server,
// planned with the record (planDests) and written only by apply, after
// the credentials, the category and every destination were looked at.
//
// What a destination holds is proven, never assumed: its hashes come
// from reading the bytes back, or from the hashes this tool computed
// over exactly the bytes it handed to Put in the same pass, kept under
// the stamp Put returned (size and mtime on a share, the ETag on S3); a
// later look with another stamp reads the bytes back again. The record
// claims a hash only when every destination holds those bytes.

// destState is one destination as observed.
type destState struct {
	d dest.Destination
	h dest.Holding
	// put: this run put bytes here in an earlier round (their hashes and
	// the stamp the destination then gave).
	put *putFact
}

type putFact struct {
	stamp  string
	hashes Hashes
}

// holds reports bytes with the local hashes.
func (s destState) holds(local *localFile) bool {
	return s.h.Present && s.h.Size == local.size && s.h.Hashes.Matches(local.Hashes)
}

// lost: this run put its bytes here, and another writer's are there now.
func (s destState) lost(local *localFile) bool {
	return s.put != nil && s.h.Present && s.h.Stamp != s.put.stamp && !s.holds(local)
}

// stampKey is the hash cache's key for bytes a destination holds.
func stampKey(d dest.Destination, name, stamp string) string {
	return "dest|" + d.String() + "|" + name + "|" + stamp
}

// observeDests looks at every destination. Hashes come from the store,
// this run's puts, the cache of earlier puts and read-backs, or a
// read-back of a file the local package's size (another size is other
// bytes, and needs no reading).
func (r *run) observeDests(ctx context.Context, w *world) error {
	w.dests = nil
	if len(r.req.Destinations) == 0 {
		return nil
	}
	// The local hashes are needed to compare a file of the local size,
	// or the record's hash; a put computes them in its pass otherwise.
	same := w.rec != nil && w.rec.hashValue != ""
	for i, d := range r.req.Destinations {
		h, err := d.Observe(ctx, r.req.PkgName)
		if err != nil {
			return fmt.Errorf("looking at %s: %w", d, err)
		}
		same = same || h.Present && h.Size == r.local.size
		w.dests = append(w.dests, destState{d: d, h: h, put: w.puts[i]})
	}
	if same {
		if err := r.local.ensure(r.log, true, true); err != nil {
			return err
		}
	}
	for i := range w.dests {
		s, h := &w.dests[i], w.dests[i].h
		d := s.d
		var err error
		if h.Present && !h.Hashes.Known() && h.Size == r.local.size {
			switch {
			case s.put != nil && h.Stamp != "" && h.Stamp == s.put.stamp:
				s.h.Hashes = s.put.hashes
			case h.Stamp != "" && r.local.cache.recall(stampKey(d, r.req.PkgName, h.Stamp)).Known():
				s.h.Hashes = r.local.cache.recall(stampKey(d, r.req.PkgName, h.Stamp))
			default:
				if s.h.Hashes, err = r.readBack(ctx, d, h); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// readBack hashes what d holds, and remembers it under the stamp.
func (r *run) readBack(ctx context.Context, d dest.Destination, h dest.Holding) (Hashes, error) {
	name := r.req.PkgName
	r.log.Logf(1, "%s holds a %s file named %s: reading it back to compare it", d, HumanBytes(h.Size), name)
	start := time.Now()
	rc, err := d.Open(ctx, name)
	if err != nil {
		return Hashes{}, err
	}
	defer rc.Close()
	hs := NewHasher(true, true)
	done := int64(0)
	progress := func(k int64) { done += k; r.log.Progress(done, h.Size) }
	n, err := io.CopyBuffer(hs, &countingReader{r: rc, add: progress}, make([]byte, hashBufSize))
	sums := hs.Sums()
	if err != nil {
		return Hashes{}, fmt.Errorf("reading %s back from %s: %w", name, d, err)
	}
	if n != h.Size {
		return Hashes{}, fmt.Errorf("reading %s back from %s gave %d bytes, not %d: it changed meanwhile; run again", name, d, n, h.Size)
	}
	// The hashes belong to the stamp only if nothing replaced the file
	// between the look and the read.
	again, err := d.Observe(ctx, name)
	if err != nil {
		return Hashes{}, fmt.Errorf("looking at %s again after reading %s back: %w", d, name, err)
	}
	if again.Stamp != h.Stamp {
		return Hashes{}, fmt.Errorf("%s on %s changed while it was read back: another run is writing it; run again", name, d)
	}
	r.log.Logf(2, "Read %s back from %s in %s", name, d, time.Since(start).Round(time.Millisecond))
	if h.Stamp != "" {
		r.local.cache.remember(stampKey(d, name, h.Stamp), sums)
	}
	return sums, nil
}

// countingReader reports each read's size (progress of a read-back).
type countingReader struct {
	r   io.Reader
	add func(int64)
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.add(int64(n))
	}
	return n, err
}

// put copies the local bytes to one destination, hashing exactly the
// bytes handed over. The local file is read through the stable reader,
// which fails before the last byte if the file is not the one observed,
// so a destination never completes a torn copy; the hashes are the
// proof of what it holds, kept for the next look.
func (r *run) put(ctx context.Context, w *world, a action) (facts, error) {
	s, name, l := w.dests[a.dest], r.req.PkgName, r.local
	done := int64(0)
	f, err := l.open(func(n int64) { done += n; r.log.Progress(done, l.size) })
	if err != nil {
		return facts{}, err
	}
	defer f.Close()
	hs := NewHasher(true, true)
	start := time.Now()
	h, err := s.d.Put(ctx, name, io.TeeReader(f, hs), l.size)
	sums := hs.Sums()
	if err != nil {
		if ctx.Err() != nil {
			return facts{}, &InterruptedError{Step: fmt.Sprintf("copying %s to %s", name, s.d), Left: r.leftByPut(s.d, err)}
		}
		return facts{}, fmt.Errorf("copying %s to %s: %w", name, s.d, err)
	}
	learned := facts{puts: map[int]*putFact{a.dest: {stamp: h.Stamp, hashes: sums}}}
	if h.Stamp != "" {
		l.cache.remember(stampKey(s.d, name, h.Stamp), sums)
	}
	if l.Hashes.Known() && !sums.Matches(l.Hashes) {
		// What was sent is not the file hashed before: the destination
		// holds bytes of no stable file, and no record will claim them.
		return learned, &ChangedError{Path: l.path, What: "the bytes copied to " + s.d.String() + " have other hashes"}
	}
	l.learn(sums)
	r.log.Logf(0, "Copied %s (%s) to %s in %s", name, HumanBytes(l.size), s.d, time.Since(start).Round(time.Millisecond))
	return learned, nil
}

// leftByPut says what an interrupted copy leaves (#22): the destination
// itself (its Put says whether its temporary copy or open upload could
// be removed), then what this run did before it, as the facts say.
func (r *run) leftByPut(d fmt.Stringer, err error) string {
	left := fmt.Sprintf("the copy to %s did not finish (%v)", d, err)
	switch {
	case r.learned.wrote():
		return left + "; the package record this run wrote is not yet verified: run again to finish"
	case r.learned.sent():
		return left + "; what this run copied or uploaded before it is in place, its record not yet written: run again to finish"
	}
	return left + "; nothing was changed in Jamf Pro"
}

// recall and remember keep a destination's hashes under its stamp,
// beside the local files' (hashcache.go).
func (c *hashCache) recall(key string) Hashes {
	if c == nil {
		return Hashes{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.load()[key]
}

func (c *hashCache) remember(key string, h Hashes) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.storeLocked(fileStamp(key), h)
}
