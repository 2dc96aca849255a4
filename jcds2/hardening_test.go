package jcds2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Zipping a big bundle used to ignore an interrupt until it was done
// (#22). It stops at the next read, removes its temporary zip, and says
// what was left: nothing.
func TestZipBundleStopsOnInterrupt(t *testing.T) {
	src := t.TempDir()
	bundle := makeBundle(t, src, "Huge.pkg")
	big := make([]byte, 96<<20) // random bytes: deflate is slow on them
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+8 <= len(big); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			big[i+j] = byte(v >> (8 * j))
		}
	}
	if err := os.WriteFile(filepath.Join(bundle, "Contents", "Archive.pax.gz"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var cancelled time.Time
	time.AfterFunc(100*time.Millisecond, func() { cancelled = time.Now(); cancel() })
	out, err := zipBundle(ctx, bundle, cache, "Huge.pkg.zip", openHashCache(t.TempDir(), nil))
	acted := time.Since(cancelled)
	var ie *InterruptedError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "zipping bundle "+bundle) || !strings.Contains(err.Error(), "the partial zip was removed") {
		t.Fatalf("zip: %q, %v", out, err)
	}
	if acted > 2*time.Second {
		t.Fatalf("the interrupt took %s to stop the zipping", acted)
	}
	if names, _ := filepath.Glob(filepath.Join(cache, bundleDirName, "*")); len(names) != 0 {
		t.Fatalf("left behind: %v", names)
	}
	if left, _ := filepath.Glob(filepath.Join(cache, bundleDirName, ".bundle-*")); len(left) != 0 {
		t.Fatalf("temporary zips left: %v", left)
	}
}

type linesLog struct{ lines []string }

func (l *linesLog) Logf(level int, format string, args ...any) {
	l.lines = append(l.lines, fmt.Sprintf("%d %s", level, fmt.Sprintf(format, args...)))
}
func (l *linesLog) Secret(string)         {}
func (l *linesLog) Progress(int64, int64) {}
func (l *linesLog) Note(n Note)           { l.Logf(n.Level, "%s", n.Text) }

// A 16 MB hash cache (grown by an older version, or planted) cost a
// second per run and never shrank (#22). Past maxCacheFile it is not
// read, said at verbose 1, and the next store replaces it with a file
// within bounds; entries of files that are gone are pruned away.
func TestHashCacheIsBoundedAndShrinks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "jcds2-uploader-hashes.json")
	big := map[string]Hashes{}
	for i := 0; len(big) < 75000; i++ {
		big[fmt.Sprintf("/gone/pkg-%d.pkg|%d|%d|1:%d", i, i, i, i)] = Hashes{MD5: strings.Repeat("a", 32), SHA3: strings.Repeat("b", 128)}
	}
	data, _ := json.Marshal(big)
	if len(data) < 16e6 {
		t.Fatalf("the planted cache is only %d bytes", len(data))
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	log := &linesLog{}
	c := openHashCache(dir, log)
	pkg := filepath.Join(t.TempDir(), "P.pkg")
	os.WriteFile(pkg, []byte("package bytes"), 0o644)
	if h := c.Get(pkg); h != (Hashes{}) {
		t.Fatalf("got %v from an oversized cache", h)
	}
	if len(log.lines) != 1 || !strings.HasPrefix(log.lines[0], "1 Hash cache: "+path+": it holds ") || !strings.HasSuffix(log.lines[0], "; hashing the package instead") {
		t.Fatalf("verbose lines: %q", log.lines)
	}
	h, err := c.HashAndPut(pkg, true, true)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() > maxCacheFile || st.Size() > 4096 {
		t.Fatalf("after a store the cache is %v (%v), want it replaced by a small one", st.Size(), err)
	}
	if got := openHashCache(dir, nil).Get(pkg); got != h {
		t.Fatalf("the new cache holds %v, want %v", got, h)
	}
	// Never past maxEntries, however many packages a machine hashes: a
	// cache already full of entries of files still there is cut back at
	// the next store.
	files := t.TempDir()
	full := map[string]Hashes{}
	for i := range maxEntries + 50 {
		p := filepath.Join(files, fmt.Sprintf("f%d.pkg", i))
		os.WriteFile(p, []byte{byte(i), byte(i >> 8)}, 0o644)
		st, _ := os.Stat(p)
		full[string(stampFrom(p, st))] = Hashes{MD5: fmt.Sprintf("%032x", i)}
	}
	data, _ = json.Marshal(full)
	os.WriteFile(path, data, 0o600)
	openHashCache(dir, nil).Put(pkg, h)
	var m map[string]Hashes
	data, _ = os.ReadFile(path)
	if err := json.Unmarshal(data, &m); err != nil || len(m) > maxEntries || int64(len(data)) > maxCacheFile || m[string(mustStamp(t, pkg))] != h {
		t.Fatalf("%d entries, %d bytes (%v)", len(m), len(data), err)
	}
}

func mustStamp(t *testing.T, path string) fileStamp {
	t.Helper()
	s, err := stampOf(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
