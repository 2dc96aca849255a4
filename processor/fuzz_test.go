package processor

import (
	"os"
	"testing"
)

// The decoders and the argument parser must never panic, whatever the
// input. Seeds live in testdata/fuzz; CI runs each target for a while.

func FuzzDecodeEnv(f *testing.F) {
	for _, p := range []string{"../testdata/env-jcds2.plist", "../testdata/env-jcds2.binary.plist"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("bplist00"))
	f.Add([]byte(`<?xml version="1.0"?><plist><dict><key>a</key><integer>-1</integer></dict></plist>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, format, err := DecodeEnv(data)
		if err != nil {
			return
		}
		if _, err := EncodeEnv(env, format); err != nil {
			t.Fatalf("decoded env does not encode again: %v", err)
		}
		// Mapping must never panic either.
		BuildRequest(env)
		Verbose(env)
	})
}

func FuzzKeyValues(f *testing.F) {
	f.Add("JSS_URL=https://x", "a=%JSS_URL%", "b=%missing%")
	f.Add("=", "==", "%%=%%")
	f.Add("noequals", "", "k=v=w")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		env, err := ParseKeyValues([]string{a, b, c}, func(string) {})
		if err == nil && len(env) == 0 {
			t.Fatal("no error but no keys")
		}
	})
}
