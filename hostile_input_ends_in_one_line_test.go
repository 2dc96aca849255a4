package main

import (
	"bytes"
	bin "encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// Hostile input of every class (issue #14) ends in exit 10
// and one ProcessorError line, quickly, and never in a Go stack trace.

// wantOneLine checks the processor contract on failure.
func wantOneLine(t *testing.T, name string, r result, prefix string, took time.Duration) {
	t.Helper()
	if r.code != 10 || !strings.HasPrefix(r.lastLine(), "ProcessorError: "+prefix) || strings.Count(string(r.stderr), "\n") != 1 || len(r.stdout) != 0 {
		t.Fatalf("%s: exit %d, stdout %d bytes, stderr:\n%.2000s\nwant one line starting ProcessorError: %s", name, r.code, len(r.stdout), r.stderr, prefix)
	}
	if took > 20*time.Second {
		t.Fatalf("%s: took %s", name, took)
	}
}

// hostileBplist is a binary plist {"k": v} where v is built by add from
// raw objects (4-byte references), so it can hold cycles and sharing.
func hostileBplist(build func(add func(o []byte) uint32, set func(i uint32, o []byte)) uint32) []byte {
	var objs [][]byte
	add := func(o []byte) uint32 { objs = append(objs, o); return uint32(len(objs) - 1) }
	set := func(i uint32, o []byte) { objs[i] = o }
	v := build(add, set)
	k := add([]byte{0x51, 'k'})
	top := add(bin.BigEndian.AppendUint32(bin.BigEndian.AppendUint32([]byte{0xD1}, k), v))
	out := []byte("bplist00")
	var table []byte
	for _, o := range objs {
		table = bin.BigEndian.AppendUint32(table, uint32(len(out)))
		out = append(out, o...)
	}
	tr := make([]byte, 32)
	tr[6], tr[7] = 4, 4
	bin.BigEndian.PutUint64(tr[8:], uint64(len(objs)))
	bin.BigEndian.PutUint64(tr[16:], uint64(top))
	bin.BigEndian.PutUint64(tr[24:], uint64(len(out)))
	return append(append(out, table...), tr...)
}

func bpList(refs ...uint32) []byte {
	o := []byte{0xAF, 0x12}
	o = bin.BigEndian.AppendUint32(o, uint32(len(refs)))
	for _, r := range refs {
		o = bin.BigEndian.AppendUint32(o, r)
	}
	return o
}

func TestHostilePlistsEndInOneLine(t *testing.T) {
	deepXML := func(n int) []byte {
		return []byte(`<?xml version="1.0"?><plist version="1.0"><dict><key>k</key>` + strings.Repeat("<array>", n) + strings.Repeat("</array>", n) + "</dict></plist>")
	}
	var manyKeys strings.Builder
	manyKeys.WriteString(`<?xml version="1.0"?><plist version="1.0"><dict>`)
	for i := range 1_500_000 {
		fmt.Fprintf(&manyKeys, "<key>k%d</key><string>v</string>", i)
	}
	manyKeys.WriteString("</dict></plist>")
	cases := []struct {
		name   string
		stdin  []byte
		prefix string
	}{
		{"1M-deep XML", deepXML(1_000_000), "stdin plist nests lists and dictionaries more than 64 levels deep"},
		{"90k-deep binary", hostileBplist(func(add func([]byte) uint32, _ func(uint32, []byte)) uint32 {
			v := add([]byte{0x51, 'x'})
			for range 90_000 {
				v = add(bpList(v))
			}
			return v
		}), "stdin plist nests lists and dictionaries more than 64 levels deep"},
		{"cyclic binary", hostileBplist(func(add func([]byte) uint32, set func(uint32, []byte)) uint32 {
			a, b := add(nil), add(nil)
			set(a, bpList(b))
			set(b, bpList(a))
			return a
		}), "stdin is not a valid binary plist (a list or dictionary contains itself)"},
		{"shared binary, 2^60 objects", hostileBplist(func(add func([]byte) uint32, _ func(uint32, []byte)) uint32 {
			v := add([]byte{0x51, 'x'})
			for range 60 {
				v = add(bpList(v, v))
			}
			return v
		}), "stdin plist holds more than 100000 keys and values"},
		{"1.5M keys", []byte(manyKeys.String()), "stdin plist holds more than 100000 keys and values"},
	}
	for _, c := range cases {
		start := time.Now()
		r := runBin(t, nil, c.stdin)
		wantOneLine(t, c.name, r, c.prefix, time.Since(start))
	}

	// The key=value mode has the same bounds.
	args := make([]string, processor.MaxObjects+1)
	for i := range args {
		args[i] = fmt.Sprintf("k%d=v", i)
	}
	start := time.Now()
	wantOneLine(t, "100001 arguments", runBin(t, nil, nil, args...), "100001 key=value arguments are more than 100000", time.Since(start))
	chain := []string{"a0=" + strings.Repeat("x", 4096)}
	for i := 1; i <= 30; i++ {
		chain = append(chain, fmt.Sprintf("a%d=%%a%d%%%%a%d%%", i, i-1, i-1))
	}
	start = time.Now()
	wantOneLine(t, "doubling arguments", runBin(t, nil, nil, chain...), "the key=value arguments add up to more than 64 MiB", time.Since(start))
}

// Every input that becomes a header or a URL is checked before any
// request: the binary's exit code and its one line are the contract.
func TestHeaderAndURLInputsFailBeforeAnyRequest(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Hdr.pkg", 1000, 3)
	const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl"
	cases := []struct {
		name  string
		edit  func(processor.Env)
		extra []string
		want  string
	}{
		{"newline in BEARER_TOKEN", func(e processor.Env) {
			delete(e, "CLIENT_ID")
			delete(e, "CLIENT_SECRET")
			e["BEARER_TOKEN"] = token + "\n"
		}, nil, "ProcessorError: BEARER_TOKEN contains a line break: remove it"},
		{"CR LF in API_PASSWORD", func(e processor.Env) {
			delete(e, "CLIENT_ID")
			delete(e, "CLIENT_SECRET")
			e["API_USERNAME"], e["API_PASSWORD"] = "admin", "hunter2-long\r\nX-Injected: 1"
		}, nil, "ProcessorError: API_PASSWORD contains a line break: remove it"},
		{"NUL in CLIENT_SECRET", func(e processor.Env) { e["CLIENT_SECRET"] = jamfsim.DefaultClientSecret + "\x00" }, nil,
			"ProcessorError: CLIENT_SECRET contains a NUL byte: remove it"},
		{"colon in API_USERNAME", func(e processor.Env) {
			delete(e, "CLIENT_ID")
			delete(e, "CLIENT_SECRET")
			e["API_USERNAME"], e["API_PASSWORD"] = "ad:min", "pw-long-enough"
		}, nil, `ProcessorError: API_USERNAME "ad:min" contains a colon`},
		{"space in JSS_URL host", func(e processor.Env) { e["JSS_URL"] = "https://jamf example.com" }, nil,
			`ProcessorError: JSS_URL "https://jamf example.com" is not a valid URL`},
		{"plain http S3 input", func(e processor.Env) { e["jcds2_s3_endpoint"] = "http://s3.example.com:9000" }, nil,
			`ProcessorError: jcds2_s3_endpoint "http://s3.example.com:9000" uses plain http: use https, or set insecure_mode to True if you really mean it`},
		{"plain http AWS_ENDPOINT_URL_S3", nil, []string{"AWS_ENDPOINT_URL_S3=http://s3.example.com:9000"},
			`ProcessorError: AWS_ENDPOINT_URL_S3 (from the environment) "http://s3.example.com:9000" uses plain http`},
		{"plain http AWS_ENDPOINT_URL", nil, []string{"AWS_ENDPOINT_URL_S3=", "AWS_ENDPOINT_URL=http://s3.example.com:9000"},
			`ProcessorError: AWS_ENDPOINT_URL (from the environment) "http://s3.example.com:9000" uses plain http`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim.ResetLog()
			env := baseEnv(t, sim, pkg)
			if c.edit != nil {
				c.edit(env)
			}
			r := runWith(t, sim, env, c.extra...)
			wantOneLine(t, c.name, r, strings.TrimPrefix(c.want, "ProcessorError: "), 0)
			for _, s := range []string{token[20:], "hunter2", jamfsim.DefaultClientSecret} {
				if bytes.Contains(r.stderr, []byte(s)) {
					t.Fatalf("the secret reached stderr: %s", r.stderr)
				}
			}
			if log := sim.Log(); len(log) != 0 {
				t.Fatalf("bad input must fail before any request: %v", log)
			}
		})
	}
}
