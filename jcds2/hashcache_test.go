package jcds2

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func writeRandom(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	data := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(data)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// touch changes the file's bytes in place (same size) and its mtime.
func touch(t *testing.T, path string, when time.Time) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{byte(when.UnixNano())}, 0)
	f.Close()
	os.Chtimes(path, when, when)
}

// keepCounting rewrites path until stop is closed, counting the changes;
// started is closed once it has changed the file at least once, done
// when it has stopped.
func keepCounting(path string, started, stop, done chan struct{}, changes *atomic.Int64) {
	defer close(done)
	when := time.Now()
	for i := 0; ; i++ {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err == nil {
			f.WriteAt([]byte{byte(i)}, int64(i%1000)*1000)
			f.Close()
		}
		when = when.Add(time.Second)
		os.Chtimes(path, when, when)
		changes.Add(1)
		if i == 0 {
			close(started)
		}
		select {
		case <-stop:
			return
		default:
		}
	}
}

// A hash of a file that changed while it was read is an error, never a
// hash, and never cached.
func TestHashOfAChangingFileIsNeverUsedOrCached(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Building.pkg")
	writeRandom(t, p, 32<<20, 1)
	cache := openHashCache(t.TempDir(), nil)
	started, stop, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var changes atomic.Int64
	go keepCounting(p, started, stop, done, &changes)
	<-started
	// On a loaded machine the writer may not run while a hash reads, and
	// then a hash is right to succeed: each call is repeated until it met
	// a change, and a hash returned across two whole changes is the bug.
	hashWhileChanging := func(hash func() error) error {
		var err error
		for range 200 {
			n := changes.Load()
			err = hash()
			var ce *ChangedError
			if errors.As(err, &ce) {
				return err
			}
			if err == nil && changes.Load()-n >= 2 {
				return fmt.Errorf("a hash was returned though the file changed twice while it was read")
			}
		}
		return err
	}
	err1 := hashWhileChanging(func() error { _, err := HashFile(p, true, true); return err })
	err2 := hashWhileChanging(func() error { _, err := cache.HashAndPut(p, true, false); return err })
	close(stop)
	<-done
	var ce *ChangedError
	if !errors.As(err1, &ce) || !errors.As(err2, &ce) {
		t.Fatalf("want ChangedError, got %v and %v", err1, err2)
	}
	if got := openHashCache(filepath.Dir(cache.path), nil).Get(p); got != (Hashes{}) {
		t.Fatalf("a changing file's hash was cached: %+v", got)
	}
	// Once stable, the same call hashes and caches.
	h, err := cache.HashAndPut(p, true, false)
	if err != nil || h.MD5 == "" {
		t.Fatalf("stable file: %+v %v", h, err)
	}
	if got := openHashCache(filepath.Dir(cache.path), nil).Get(p); got.MD5 != h.MD5 {
		t.Fatalf("stable file not cached: %+v", got)
	}
}

// Put and PutIfUnchanged refuse a file that is no longer the version the
// run first saw, or whose stamp moved since it was read.
func TestHashCacheRefusesAFileThatChangedSinceItWasSeen(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "App.pkg")
	writeRandom(t, p, 1<<20, 2)
	cache := openHashCache(t.TempDir(), nil)
	cache.Get(p) // the engine looks first
	old, _ := HashFile(p, true, false)
	touch(t, p, time.Now().Add(time.Hour)) // rebuilt, same size, new bytes
	cache.Put(p, old)                      // an upload-time hash of the old bytes
	fresh := openHashCache(filepath.Dir(cache.path), nil)
	if got := fresh.Get(p); got != (Hashes{}) {
		t.Fatalf("the old bytes' hash was cached for the new file: %+v", got)
	}
	before, _ := stampOf(p)
	touch(t, p, time.Now().Add(2*time.Hour))
	if cache.PutIfUnchanged(p, before, old) {
		t.Fatal("PutIfUnchanged cached across a change")
	}
	// A path never seen, unchanged since its stamp: cached.
	q := filepath.Join(dir, "Other.pkg")
	writeRandom(t, q, 1000, 3)
	st, _ := stampOf(q)
	hq, _ := HashFile(q, true, false)
	if !cache.PutIfUnchanged(q, st, hq) || fresh.Get(q).MD5 != hq.MD5 {
		t.Fatal("an unchanged file was not cached")
	}
}

// The cache file is replaced atomically, 0600: concurrent runs (each its
// own cache, as separate processes) never see a torn file.
func TestHashCacheFileIsAtomicAnd0600(t *testing.T) {
	cdir := t.TempDir()
	dir := t.TempDir()
	var files []string
	for i := range 8 {
		p := filepath.Join(dir, fmt.Sprintf("P%d.pkg", i))
		writeRandom(t, p, 100+i, uint64(i))
		files = append(files, p)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	torn := make(chan string, 1)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if data, err := os.ReadFile(filepath.Join(cdir, "jcds2-uploader-hashes.json")); err == nil && !json.Valid(data) {
				select {
				case torn <- string(data):
				default:
				}
			}
		}
	}()
	for i, p := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := openHashCache(cdir, nil)
			for j := range 30 {
				c.Put(p, Hashes{MD5: fmt.Sprintf("%032X", i*100+j)})
			}
		}()
	}
	wg.Wait()
	close(stop)
	select {
	case d := <-torn:
		t.Fatalf("a reader saw a torn cache file: %.200q", d)
	default:
	}
	st, err := os.Stat(filepath.Join(cdir, "jcds2-uploader-hashes.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v %v", st, err)
	}
	if left, _ := filepath.Glob(filepath.Join(cdir, ".jcds2-uploader-hashes-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	// Hashes are stored in lower case.
	c := openHashCache(t.TempDir(), nil)
	c.Put(files[0], Hashes{MD5: "D41D8CD98F00B204E9800998ECF8427E"})
	if got := c.Get(files[0]); got.MD5 != "d41d8cd98f00b204e9800998ecf8427e" {
		t.Fatalf("stored %q", got.MD5)
	}
}

func TestHashComparisonIgnoresCase(t *testing.T) {
	up, low := "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"
	if !SameHash(up, low) || SameHash("", "") || SameHash(low, "") || SameHash(low, low[:31]+"f") {
		t.Fatal("SameHash")
	}
	if !(Hashes{MD5: up}).Matches(Hashes{MD5: low, SHA3: "abc"}) || (Hashes{}).Matches(Hashes{}) ||
		(Hashes{MD5: low, SHA3: "AB"}).Matches(Hashes{MD5: up, SHA3: "ac"}) {
		t.Fatal("Matches")
	}
}
