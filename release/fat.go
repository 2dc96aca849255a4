package main

import (
	"debug/macho"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// writeFat joins thin Mach-O binaries into a universal ("fat") one, what
// `lipo -create` does: a big-endian header, one fat_arch entry per slice,
// then each slice aligned to 16 KiB (2^14, what lipo uses for arm64).
func writeFat(out string, thin []string) error {
	const align = 14
	type slice struct {
		cpu, sub uint32
		data     []byte
	}
	var slices []slice
	for _, p := range thin {
		f, err := macho.Open(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		cpu, sub := uint32(f.Cpu), f.SubCpu
		f.Close()
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		slices = append(slices, slice{cpu, sub, data})
	}
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	defer w.Close()
	be := binary.BigEndian
	hdr := make([]byte, 8+20*len(slices))
	be.PutUint32(hdr[0:], macho.MagicFat)
	be.PutUint32(hdr[4:], uint32(len(slices)))
	offset := uint32(1 << align)
	var offsets []uint32
	for i, s := range slices {
		e := hdr[8+20*i:]
		be.PutUint32(e[0:], s.cpu)
		be.PutUint32(e[4:], s.sub)
		be.PutUint32(e[8:], offset)
		be.PutUint32(e[12:], uint32(len(s.data)))
		be.PutUint32(e[16:], align)
		offsets = append(offsets, offset)
		offset += uint32(len(s.data))
		offset = (offset + 1<<align - 1) &^ (1<<align - 1)
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	pos := int64(len(hdr))
	for i, s := range slices {
		if _, err := io.CopyN(w, zeroReader{}, int64(offsets[i])-pos); err != nil {
			return err
		}
		if _, err := w.Write(s.data); err != nil {
			return err
		}
		pos = int64(offsets[i]) + int64(len(s.data))
	}
	if err := w.Chmod(0o755); err != nil {
		return err
	}
	return w.Close()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
