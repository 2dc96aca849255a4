package jamfsim

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// The simulator judges the client, so it computes everything it asserts
// with its own code: nothing here may come from the client's packages.

// digests are the hashes a Jamf server computes from the bytes it holds.
type digests struct {
	MD5, SHA256, SHA512, SHA3 string
	Length                    int64
}

// digest hashes r once with every algorithm Jamf reports (MD5, SHA-256,
// SHA3-512) plus SHA-512, which JamfSync stores as hashType SHA_512. The
// hashes run side by side, one goroutine each, over each chunk read:
// multi-GB uploads are hashed while a client waits to verify.
func digest(r io.Reader) (digests, error) {
	hs := []hash.Hash{md5.New(), sha256.New(), sha512.New(), sha3.New512()}
	buf := make([]byte, 1<<20)
	var d digests
	var wg sync.WaitGroup
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			d.Length += int64(n)
			chunk := buf[:n]
			for _, h := range hs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					h.Write(chunk) // a hash.Hash never fails to write
				}()
			}
			wg.Wait() // the buffer is reused by the next read
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return d, fmt.Errorf("reading the stored bytes: %w", err)
		}
	}
	sum := func(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
	d.MD5, d.SHA256, d.SHA512, d.SHA3 = sum(hs[0]), sum(hs[1]), sum(hs[2]), sum(hs[3])
	return d, nil
}

// bundleExts are the double extensions Jamf accepts for zipped bundle
// packages; the duplicate counter goes before them ("App_1.pkg.zip").
var bundleExts = []string{".pkg.zip", ".mpkg.zip"}

// stemAndExt splits a file name where JCDS inserts its "_N" counter.
func stemAndExt(name string) (stem, ext string) {
	lower := strings.ToLower(name)
	for _, e := range bundleExts {
		if strings.HasSuffix(lower, e) && len(name) > len(e) {
			return name[:len(name)-len(e)], name[len(name)-len(e):]
		}
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[:i], name[i:]
	}
	return name, ""
}

// numberedName is the n-th duplicate name JCDS gives: Name_n.pkg.
func numberedName(name string, n int) string {
	stem, ext := stemAndExt(name)
	return stem + "_" + strconv.Itoa(n) + ext
}

// duplicatePattern matches the names JCDS gives duplicates of name.
func duplicatePattern(name string) *regexp.Regexp {
	stem, ext := stemAndExt(name)
	return regexp.MustCompile(`^` + regexp.QuoteMeta(stem) + `_[0-9]+` + regexp.QuoteMeta(ext) + `$`)
}

// humanSize is the package record's size as Jamf shows it ("234KB").
func humanSize(n int64) string {
	return strconv.FormatInt(n/1024, 10) + "KB"
}
