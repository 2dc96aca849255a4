package processor

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// bplist builds binary plists object by object, so that tests can make
// what no encoder makes: shared objects, cycles, absurd nesting, bad
// references. References and offsets are 4 bytes.
type bplist struct{ objs [][]byte }

func (b *bplist) add(o []byte) uint32 { b.objs = append(b.objs, o); return uint32(len(b.objs) - 1) }

func (b *bplist) set(i uint32, o []byte) { b.objs[i] = o }

func bpCount(kind byte, n int) []byte {
	if n < 15 {
		return []byte{kind<<4 | byte(n)}
	}
	return binary.BigEndian.AppendUint32([]byte{kind<<4 | 0xF, 0x12}, uint32(n))
}

func bpStr(s string) []byte { return append(bpCount(0x5, len(s)), s...) }

func bpArray(refs ...uint32) []byte {
	o := bpCount(0xA, len(refs))
	for _, r := range refs {
		o = binary.BigEndian.AppendUint32(o, r)
	}
	return o
}

func bpDict(keys, vals []uint32) []byte {
	o := bpCount(0xD, len(keys))
	for _, r := range append(append([]uint32{}, keys...), vals...) {
		o = binary.BigEndian.AppendUint32(o, r)
	}
	return o
}

func (b *bplist) bytes(top uint32) []byte {
	out := []byte("bplist00")
	offs := make([]uint32, len(b.objs))
	for i, o := range b.objs {
		offs[i] = uint32(len(out))
		out = append(out, o...)
	}
	table := len(out)
	for _, off := range offs {
		out = binary.BigEndian.AppendUint32(out, off)
	}
	tr := make([]byte, 32)
	tr[6], tr[7] = 4, 4
	binary.BigEndian.PutUint64(tr[8:], uint64(len(b.objs)))
	binary.BigEndian.PutUint64(tr[16:], uint64(top))
	binary.BigEndian.PutUint64(tr[24:], uint64(table))
	return append(out, tr...)
}

// envAround wraps v (an object index) as {"k": v}, the top object.
func (b *bplist) envAround(v uint32) []byte {
	k := b.add(bpStr("k"))
	return b.bytes(b.add(bpDict([]uint32{k}, []uint32{v})))
}

// nestedBinary is an env whose "k" holds lists nested depth deep.
func nestedBinary(depth int) []byte {
	b := &bplist{}
	v := b.add(bpStr("leaf"))
	for range depth - 1 { // the env dict is one level
		v = b.add(bpArray(v))
	}
	return b.envAround(v)
}

func nestedXML(depth int) []byte {
	var s strings.Builder
	s.WriteString(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>k</key>`)
	for range depth - 1 {
		s.WriteString("<array>")
	}
	s.WriteString("<string>leaf</string>")
	for range depth - 1 {
		s.WriteString("</array>")
	}
	s.WriteString("</dict></plist>")
	return []byte(s.String())
}

func wantDecodeError(t *testing.T, name string, data []byte, want string) {
	t.Helper()
	start := time.Now()
	_, _, err := DecodeEnv(data)
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("%s: got %v, want %q", name, err, want)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("%s: took %s to reject", name, el)
	}
}

func TestNestingLimitBothFormats(t *testing.T) {
	for _, format := range []string{"xml", "binary"} {
		gen := map[string]func(int) []byte{"xml": nestedXML, "binary": nestedBinary}[format]
		env, _, err := DecodeEnv(gen(MaxDepth))
		if err != nil || env["k"] == nil {
			t.Fatalf("%s: %d levels must decode: %v", format, MaxDepth, err)
		}
		for _, depth := range []int{MaxDepth + 1, 90_000} {
			wantDecodeError(t, fmt.Sprintf("%s %d deep", format, depth), gen(depth),
				"stdin plist nests lists and dictionaries more than 64 levels deep: an AutoPkg env is a few levels deep; send the env itself")
		}
	}
	// A million levels of XML used to overflow the Go stack (exit 2).
	wantDecodeError(t, "xml 1M deep", nestedXML(1_000_000), "more than 64 levels deep")
	// Without the <plist> wrapper the count is the same.
	bare := bytes.Replace(bytes.Replace(nestedXML(MaxDepth+1), []byte(`<plist version="1.0">`), nil, 1), []byte("</plist>"), nil, 1)
	wantDecodeError(t, "xml without plist", bare, "more than 64 levels deep")
}

func TestObjectCountLimitBothFormats(t *testing.T) {
	big := Env{}
	for i := range MaxObjects/2 + 1 { // a key and a value each
		big[fmt.Sprintf("key%d", i)] = "v"
	}
	for _, format := range []Format{FormatXML, FormatBinary} {
		data, err := EncodeEnv(big, format)
		if err != nil {
			t.Fatal(err)
		}
		wantDecodeError(t, format.String(), data, "stdin plist holds more than 100000 keys and values: an AutoPkg env holds a few hundred; send the env itself")
	}
	// An env of a realistic size is untouched.
	small := Env{}
	for i := range 2000 {
		small[fmt.Sprintf("key%d", i)] = []any{"a", map[string]any{"b": uint64(i)}}
	}
	for _, format := range []Format{FormatXML, FormatBinary} {
		data, _ := EncodeEnv(small, format)
		if env, _, err := DecodeEnv(data); err != nil || len(env) != 2000 {
			t.Fatalf("%s: %d keys, %v", format, len(env), err)
		}
	}
}

func TestBinaryPlistCyclesAndSharing(t *testing.T) {
	// A list that contains itself.
	b := &bplist{}
	self := b.add(nil)
	b.set(self, bpArray(self))
	wantDecodeError(t, "self", b.envAround(self), "stdin is not a valid binary plist (a list or dictionary contains itself): send the AutoPkg env as a plist dict")
	// a > b > c > a, below a shared leaf.
	b = &bplist{}
	leaf := b.add(bpStr("x"))
	x, y := b.add(nil), b.add(nil)
	z := b.add(bpArray(leaf, x))
	b.set(x, bpArray(leaf, y))
	b.set(y, bpArray(z))
	wantDecodeError(t, "three", b.envAround(x), "contains itself")
	// The top object itself in a cycle.
	b = &bplist{}
	k := b.add(bpStr("k"))
	top := b.add(nil)
	b.set(top, bpDict([]uint32{k}, []uint32{top}))
	wantDecodeError(t, "top", b.bytes(top), "contains itself")

	// Sharing is no cycle: one list used twice decodes.
	b = &bplist{}
	shared := b.add(bpArray(b.add(bpStr("s"))))
	env, _, err := DecodeEnv(b.envAround(b.add(bpArray(shared, shared))))
	if err != nil || len(env["k"].([]any)) != 2 {
		t.Fatalf("shared list: %v %v", env, err)
	}
	// But sharing cannot expand a small file without end: 40 lists of
	// [previous, previous] are 2^40 objects decoded.
	b = &bplist{}
	v := b.add(bpStr("laugh"))
	for range 40 {
		v = b.add(bpArray(v, v))
	}
	wantDecodeError(t, "laughs", b.envAround(v), "holds more than 100000 keys and values")
	// Nor one large string used a hundred times.
	b = &bplist{}
	s := b.add(bpStr(strings.Repeat("x", 1<<20)))
	refs := make([]uint32, 100)
	for i := range refs {
		refs[i] = s
	}
	wantDecodeError(t, "big string", b.envAround(b.add(bpArray(refs...))), "stdin plist expands to more than 64 MiB of strings and data")
}

func TestMalformedBinaryPlistsAreOneLine(t *testing.T) {
	good := nestedBinary(3)
	cases := map[string][]byte{}
	bad := func(name string, edit func([]byte)) {
		d := bytes.Clone(good)
		edit(d)
		cases[name] = d
	}
	tr := len(good) - 32
	bad("ref sizes", func(d []byte) { d[tr+7] = 0 })
	bad("table outside", func(d []byte) { binary.BigEndian.PutUint64(d[tr+24:], 1<<40) })
	bad("top out of range", func(d []byte) { binary.BigEndian.PutUint64(d[tr+16:], 1<<20) })
	bad("count over the file", func(d []byte) { binary.BigEndian.PutUint64(d[tr+8:], 1000) })
	b := &bplist{}
	cases["dangling ref"] = b.envAround(b.add(bpArray(999)))
	b = &bplist{}
	cases["list longer than the file"] = b.envAround(b.add(bpCount(0xA, 1<<30)))
	cases["short"] = []byte("bplist00 and nothing")
	for name, data := range cases {
		wantDecodeError(t, name, data, "stdin is not a valid binary plist (")
	}
}

func TestKeyValueLimits(t *testing.T) {
	args := make([]string, MaxObjects+1)
	for i := range args {
		args[i] = "k=v"
	}
	if _, err := ParseKeyValues(args, nil); err == nil || err.Error() != "100001 key=value arguments are more than 100000: pass the AutoPkg env as a plist on stdin instead" {
		t.Fatalf("too many arguments: %v", err)
	}
	// Each argument doubles the one before: 2^40 bytes if allowed.
	chain := []string{"a0=" + strings.Repeat("x", 1000)}
	for i := 1; i <= 40; i++ {
		chain = append(chain, fmt.Sprintf("a%d=%%a%d%%%%a%d%%", i, i-1, i-1))
	}
	start := time.Now()
	_, err := ParseKeyValues(chain, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "the key=value arguments add up to more than 64 MiB once %key% references are replaced (at a") || time.Since(start) > 5*time.Second {
		t.Fatalf("expanding chain: %v after %s", err, time.Since(start))
	}
	// Ordinary substitution is untouched.
	env, err := ParseKeyValues([]string{"NAME=Firefox", "pkg_name=%NAME%-%NAME%.pkg"}, nil)
	if err != nil || env["pkg_name"] != "Firefox-Firefox.pkg" {
		t.Fatalf("substitution: %v %v", env, err)
	}
}

func TestPrefsFileIsBoundedLikeStdin(t *testing.T) {
	if _, err := readPrefs("/dev/zero"); err == nil || err.Error() != "--prefs /dev/zero is larger than 64 MiB: send only the AutoPkg env plist" {
		t.Fatalf("/dev/zero: %v", err)
	}
	p := t.TempDir() + "/deep.plist"
	if err := os.WriteFile(p, nestedXML(1000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readPrefs(p); err == nil || !strings.HasPrefix(err.Error(), "--prefs "+p+" plist nests lists and dictionaries more than 64 levels deep") {
		t.Fatalf("deep prefs: %v", err)
	}
}
