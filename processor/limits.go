package processor

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
)

// Limits on the shape of an env, checked by a cheap iterative pre-scan
// BEFORE the plist is decoded: the decoder, normalize, the secret walk
// and the encoder all recurse, and a hostile or broken plist (a
// million-deep nesting, a million keys, a binary plist whose objects
// refer to each other in a cycle or share one object a billion times)
// must end in one ProcessorError line, quickly, and never in a Go stack
// overflow or a garbage collector thrashing for a minute.
const (
	// MaxDepth is how deeply dictionaries and lists may nest. A real
	// AutoPkg env is two to four levels deep (env > PARENT_RECIPES >
	// string; env > SMB_SHARES > dict > string); 64 leaves more than ten
	// times that for whatever a recipe puts in its Input, while every
	// recursive walk stays a few dozen frames deep.
	MaxDepth = 64
	// MaxObjects is how many keys and values an env may hold, each use of
	// a shared binary-plist object counted. A real env holds a few
	// hundred; 100,000 decodes in milliseconds.
	MaxObjects = 100_000
	// MaxInputBytes is the most stdin (or --prefs) may hold, and the most
	// the strings and data of the decoded env (or the key=value arguments
	// after %key% substitution) may add up to.
	MaxInputBytes = 64 << 20
)

// notPlistError is a plist the pre-scan found malformed; DecodeEnv
// words it like the decoder's own errors.
type notPlistError struct{ detail string }

func (e *notPlistError) Error() string { return e.detail }

func tooDeep(source string) error {
	return fmt.Errorf("%s plist nests lists and dictionaries more than %d levels deep: an AutoPkg env is a few levels deep; send the env itself", source, MaxDepth)
}

func tooMany(source string) error {
	return fmt.Errorf("%s plist holds more than %d keys and values: an AutoPkg env holds a few hundred; send the env itself", source, MaxObjects)
}

func tooBig(source string) error {
	return fmt.Errorf("%s plist expands to more than %d MiB of strings and data (its objects are shared many times over): send the AutoPkg env itself", source, MaxInputBytes>>20)
}

// checkShape pre-scans data, in the format DecodeEnv detected, against
// the limits.
func checkShape(data []byte, format Format, source string) error {
	if format == FormatBinary {
		return scanBinary(data, source)
	}
	return scanXML(data, source)
}

// scanXML counts the nesting of <dict> and <array> elements, and all
// elements, with encoding/xml's tokenizer, which is iterative and keeps
// no tree. Other elements (<string>, <key> ...) may not nest at all in a
// plist; they may still appear one level below the deepest container.
// Malformed XML is left to the decoder to report: it stops at the same
// place or earlier, and everything before that place is within limits.
func scanXML(data []byte, source string) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	var open []bool // the open elements: true for a container
	containers, elements := 0, 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			return nil // io.EOF, or malformed: the decoder says which
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if elements == 0 && len(open) == 0 && t.Name.Local == "plist" {
				open = append(open, false) // the document element does not count
				continue
			}
			elements++
			container := t.Name.Local == "dict" || t.Name.Local == "array"
			if container {
				containers++
			}
			open = append(open, container)
			if containers > MaxDepth || len(open) > MaxDepth+2 {
				return tooDeep(source)
			}
			if elements > MaxObjects {
				return tooMany(source)
			}
		case xml.EndElement:
			if len(open) == 0 {
				return nil // unbalanced: the decoder reports it
			}
			if open[len(open)-1] {
				containers--
			}
			open = open[:len(open)-1]
		}
	}
}

// A binary plist (bplist00) is an object table, an offset table and a
// 32-byte trailer; lists and dictionaries hold object references, which
// may be shared or (in a hostile file) cyclic. scanBinary walks the
// reference graph from the top object iteratively, depth-first, visiting
// each object once: it rejects a cycle, a path deeper than MaxDepth, and
// a tree that expands (shared objects counted at each use, as the decoder
// expands them) to more than MaxObjects objects or MaxInputBytes bytes.
// It reads only what it needs and checks every offset it reads.
func scanBinary(data []byte, source string) error {
	const trailerLen = 32
	if len(data) < 8+trailerLen {
		return &notPlistError{"too short"}
	}
	tableEnd := uint64(len(data) - trailerLen)
	tr := data[tableEnd:]
	offSize, refSize := int(tr[6]), int(tr[7])
	num := binary.BigEndian.Uint64(tr[8:])
	top := binary.BigEndian.Uint64(tr[16:])
	table := binary.BigEndian.Uint64(tr[24:])
	switch {
	case offSize < 1 || offSize > 8 || refSize < 1 || refSize > 8:
		return &notPlistError{"its trailer gives impossible offset or reference sizes"}
	case table < 8 || table >= tableEnd:
		return &notPlistError{"its offset table lies outside the file"}
	case num == 0 || top >= num:
		return &notPlistError{"its top object is not in the object table"}
	case num > MaxObjects:
		return tooMany(source)
	case table+num*uint64(offSize) > tableEnd:
		return &notPlistError{"its offset table is shorter than its object count"}
	}
	b := &bplistScan{data: data, table: table, num: num, offSize: offSize, refSize: refSize}
	return b.walk(top, source)
}

type bplistScan struct {
	data             []byte
	table, num       uint64
	offSize, refSize int
}

// object is what the walk knows of one object.
type object struct {
	container  bool
	refs, nref uint64 // where its references start, how many
	leafBytes  uint64 // the bytes of a string or data
}

func (b *bplistScan) uint(at uint64, n int) uint64 {
	var v uint64
	for _, c := range b.data[at : at+uint64(n)] {
		v = v<<8 | uint64(c)
	}
	return v
}

// parse reads the marker of object i and, for a container, where its
// references are.
func (b *bplistScan) parse(i uint64) (object, error) {
	off := b.uint(b.table+i*uint64(b.offSize), b.offSize)
	if off < 8 || off >= b.table {
		return object{}, &notPlistError{fmt.Sprintf("object %d lies outside the object table", i)}
	}
	marker := b.data[off]
	kind, low := marker>>4, uint64(marker&0x0F)
	if kind != 0x4 && kind != 0x5 && kind != 0x6 && kind != 0xA && kind != 0xC && kind != 0xD {
		return object{leafBytes: 8}, nil // numbers, dates, booleans, UIDs: fixed size
	}
	count, start := low, off+1
	if low == 0x0F {
		// The count is an integer object of 1, 2, 4 or 8 bytes.
		if start >= b.table || b.data[start]>>4 != 0x1 || b.data[start]&0x0F > 3 {
			return object{}, &notPlistError{fmt.Sprintf("object %d has a malformed length", i)}
		}
		n := 1 << (b.data[start] & 0x0F)
		if start+1+uint64(n) > b.table {
			return object{}, &notPlistError{fmt.Sprintf("object %d has a malformed length", i)}
		}
		count, start = b.uint(start+1, n), start+1+uint64(n)
	}
	switch kind {
	case 0x4, 0x5:
		return object{leafBytes: count}, nil
	case 0x6:
		return object{leafBytes: min(count, MaxInputBytes) * 2}, nil
	}
	if kind == 0xD {
		if count > b.table {
			return object{}, &notPlistError{fmt.Sprintf("object %d is longer than the file", i)}
		}
		count *= 2 // keys, then values
	}
	if count > b.table || start+count*uint64(b.refSize) > b.table {
		return object{}, &notPlistError{fmt.Sprintf("object %d is longer than the file", i)}
	}
	return object{container: true, refs: start, nref: count}, nil
}

func (b *bplistScan) walk(top uint64, source string) error {
	const (
		unseen = iota
		open   // on the current path: meeting it again is a cycle
		done
	)
	state := make([]uint8, b.num)
	// nodes and size, once done: the object's expanded tree, saturated
	// just past the limits so the sums cannot overflow.
	nodes := make([]uint64, b.num)
	size := make([]uint64, b.num)
	type frame struct {
		obj         uint64
		next, left  uint64 // the next reference to read, how many are left
		nodes, size uint64
	}
	var stack []frame
	// enter starts object i: a leaf is done at once, a container is
	// pushed. It returns an error for a malformed object or the limits.
	enter := func(i uint64) error {
		o, err := b.parse(i)
		if err != nil {
			return err
		}
		if !o.container {
			state[i], nodes[i], size[i] = done, 1, min(o.leafBytes, MaxInputBytes+1)
			return nil
		}
		if len(stack) >= MaxDepth {
			return tooDeep(source)
		}
		state[i] = open
		stack = append(stack, frame{obj: i, next: o.refs, left: o.nref, nodes: 1})
		return nil
	}
	add := func(f *frame, i uint64) {
		f.nodes = min(f.nodes+nodes[i], MaxObjects+1)
		f.size = min(f.size+size[i], MaxInputBytes+1)
	}
	if err := enter(top); err != nil {
		return err
	}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.left == 0 {
			if f.nodes > MaxObjects {
				return tooMany(source)
			}
			if f.size > MaxInputBytes {
				return tooBig(source)
			}
			state[f.obj], nodes[f.obj], size[f.obj] = done, f.nodes, f.size
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				add(&stack[len(stack)-1], f.obj)
			}
			continue
		}
		child := b.uint(f.next, b.refSize)
		f.next += uint64(b.refSize)
		f.left--
		if child >= b.num {
			return &notPlistError{fmt.Sprintf("object %d refers to object %d, which does not exist", f.obj, child)}
		}
		switch state[child] {
		case open:
			return &notPlistError{"a list or dictionary contains itself"}
		case done:
			add(f, child)
			continue
		}
		if err := enter(child); err != nil {
			return err
		}
		if state[child] == done {
			add(&stack[len(stack)-1], child)
		}
	}
	return nil
}

// checkKeyValues bounds the key=value arguments as checkShape bounds a
// plist: at most MaxObjects of them, and at most MaxInputBytes once each
// %key% reference is replaced (chained references double a value each
// time, so a short command line could otherwise ask for terabytes).
func checkKeyValues(args []string) error {
	if len(args) > MaxObjects {
		return inputErr("%d key=value arguments are more than %d: pass the AutoPkg env as a plist on stdin instead", len(args), MaxObjects)
	}
	return nil
}

// substitutedLen is the length Substitute(env, value) will have.
func substitutedLen(env Env, value string) int {
	n := len(value)
	for _, m := range keyRef.FindAllStringSubmatch(value, -1) {
		v, ok := env[m[1]]
		if !ok {
			return len(value) // Substitute leaves the value unchanged
		}
		n += len(PyStr(v)) - len(m[0])
	}
	return n
}

// readLimited reads at most limit bytes of what (stdin, --prefs FILE).
func readLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB: send only the AutoPkg env plist", what, limit>>20)
	}
	return data, nil
}
