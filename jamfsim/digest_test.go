package jamfsim

import (
	"bytes"
	"strings"
	"testing"
)

func TestDigestMatchesKnownVectors(t *testing.T) {
	// Digests of "abc" from the FIPS 180-4 / 202 examples.
	d, err := digest(strings.NewReader("abc"))
	if err != nil {
		t.Fatal(err)
	}
	want := digests{Length: 3,
		MD5:    "900150983cd24fb0d6963f7d28e17f72",
		SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		SHA512: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		SHA3:   "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"}
	if d != want {
		t.Fatalf("digest(abc) = %+v\nwant %+v", d, want)
	}
	// More than one chunk: the parallel hashing must see every byte once.
	big := bytes.Repeat([]byte("0123456789abcdef"), 300_000)
	a, _ := digest(bytes.NewReader(big))
	b, _ := digest(bytes.NewReader(append(big[:len(big)-1:len(big)-1], 'x')))
	if a.Length != int64(len(big)) || a.SHA3 == b.SHA3 || a.MD5 == b.MD5 {
		t.Fatalf("multi-chunk digests: %+v vs %+v", a, b)
	}
}

func TestDuplicateNamesKeepBundleExtensions(t *testing.T) {
	for name, want := range map[string]string{
		"App.pkg": "App_1.pkg", "App.pkg.zip": "App_1.pkg.zip", "Suite.MPKG.ZIP": "Suite_1.MPKG.ZIP",
		"Tool 2.0.dmg": "Tool 2.0_1.dmg", "noext": "noext_1",
	} {
		if got := numberedName(name, 1); got != want {
			t.Errorf("numberedName(%q) = %q, want %q", name, got, want)
		}
		if !duplicatePattern(name).MatchString(numberedName(name, 12)) || duplicatePattern(name).MatchString(name) {
			t.Errorf("duplicatePattern(%q) is wrong", name)
		}
	}
}
