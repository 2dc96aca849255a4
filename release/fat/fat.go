// Package fat puts the slices of a universal (fat) Mach-O binary in one
// order.
//
// GoReleaser (v2.17.0, internal/pipe/universalbinary) writes the slices
// of a universal binary in the order its parallel builds finished, so two
// builds of one commit can differ in slice order alone. The universal
// binary's post hook runs `go run ./release/fatorder PATH` (stdlib only:
// quick to build in a cold cache), which rewrites the file with its slices
// in CPU type order (x86_64 before arm64, as lipo writes them) and
// GoReleaser's layout (every slice at a 2^14 boundary, the alignment arm64
// needs), so the bytes depend only on the slices.
package fat

import (
	"bytes"
	"debug/macho"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

const fatAlignBits = 14 // GoReleaser's and lipo's for arm64

// Slice is one architecture's Mach-O file.
type Slice struct {
	CPU, SubCPU uint32
	Data        []byte
}

// Order rewrites the universal binary at path with its slices in CPU
// type order, in place (atomically, keeping its mode and modification
// time).
func Order(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	f, err := macho.NewFatFile(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%s: not a universal binary: %w", path, err)
	}
	var slices []Slice
	for _, a := range f.Arches {
		data := make([]byte, a.Size)
		if _, err := io.ReadFull(io.NewSectionReader(bytes.NewReader(raw), int64(a.Offset), int64(a.Size)), data); err != nil {
			return fmt.Errorf("%s: slice %v: %w", path, a.Cpu, err)
		}
		slices = append(slices, Slice{CPU: uint32(a.Cpu), SubCPU: a.SubCpu, Data: data})
	}
	sort.Slice(slices, func(i, j int) bool {
		if slices[i].CPU != slices[j].CPU {
			return slices[i].CPU < slices[j].CPU
		}
		return slices[i].SubCPU < slices[j].SubCPU
	})
	out := Bytes(slices)
	if bytes.Equal(out, raw) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fatorder-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), info.Mode().Perm()); err != nil {
		return err
	}
	if err := os.Chtimes(tmp.Name(), info.ModTime(), info.ModTime()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Bytes lays slices out, in the order given, as GoReleaser does: a
// big-endian fat header, then each slice at the next 2^14 boundary.
func Bytes(slices []Slice) []byte {
	const align = 1 << fatAlignBits
	hdr := []uint32{macho.MagicFat, uint32(len(slices))}
	offsets := make([]int, len(slices))
	off := align
	for i, s := range slices {
		offsets[i] = off
		hdr = append(hdr, s.CPU, s.SubCPU, uint32(off), uint32(len(s.Data)), fatAlignBits)
		off = (off + len(s.Data) + align - 1) / align * align
	}
	var buf bytes.Buffer
	binary.Write(&buf, binary.BigEndian, hdr) // a bytes.Buffer write cannot fail
	for i, s := range slices {
		buf.Write(make([]byte, offsets[i]-buf.Len()))
		buf.Write(s.Data)
	}
	return buf.Bytes()
}
