package jcds2

import (
	"crypto/md5"
	"crypto/sha3"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestHasherMatchesTheStandardLibrary(t *testing.T) {
	data := make([]byte, 3*hashBufSize+12345)
	rand.NewChaCha8([32]byte{1}).Read(data)
	h := NewHasher(true, true)
	for i := 0; i < len(data); i += 100000 {
		h.Write(data[i:min(i+100000, len(data))])
	}
	got := h.Sums()
	m := md5.Sum(data)
	s := sha3.Sum512(data)
	if got.MD5 != hex.EncodeToString(m[:]) || got.SHA3 != hex.EncodeToString(s[:]) {
		t.Fatalf("hashes differ: %+v", got)
	}
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, data, 0o644)
	if fh, err := HashFile(p, true, true); err != nil || fh != got {
		t.Fatalf("HashFile %+v %v", fh, err)
	}
}

// Hashing benchmarks: MD5 alone, SHA3-512 alone, both in one pass. The
// one-pass figure should be close to the slower of the two alone.
func benchHash(b *testing.B, md, sha bool) {
	data := make([]byte, 64<<20)
	rand.NewChaCha8([32]byte{2}).Read(data)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		h := NewHasher(md, sha)
		for i := 0; i < len(data); i += 4 << 20 {
			h.Write(data[i : i+4<<20])
		}
		h.Sums()
	}
}

func BenchmarkHashMD5(b *testing.B)        { benchHash(b, true, false) }
func BenchmarkHashSHA3(b *testing.B)       { benchHash(b, false, true) }
func BenchmarkHashMD5AndSHA3(b *testing.B) { benchHash(b, true, true) }
