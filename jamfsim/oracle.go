package jamfsim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Converged checks the target state of an upload of a local file named
// fileName whose SHA3-512 is sha3Hex and whose length is size (taking the
// digest rather than the bytes keeps multi-GB tests cheap):
//
//   - exactly one package record has fileName, and none differs from it
//     only in letter case;
//   - its hash describes the local bytes (hashValue is the SHA3-512 for
//     hashType SHA3_512, else the stored file's digest of that type);
//   - it is READY with a non-empty size, as after an inventory refresh;
//   - exactly one file of that name is on the distribution point, and
//     its own hashes and length are the local file's;
//   - no Name_N.pkg duplicate of it is stored, and no upload of it is
//     still being processed.
//
// It returns nil, or an error listing every difference found.
func (s *Server) Converged(fileName, sha3Hex string, size int64) error {
	ctx := context.Background()
	s.Ingest(ctx) // what is due by now has been processed
	busy, err := s.Processing(ctx)
	var diffs []string
	if err != nil {
		diffs = append(diffs, err.Error())
	}
	for _, u := range busy {
		if u.FileName == fileName {
			diffs = append(diffs, fmt.Sprintf("an upload of %s (%s route) is still being processed", fileName, u.Route))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[fileName]
	diffs = append(diffs, s.fileDiffs(fileName, sha3Hex, size, f)...)
	diffs = append(diffs, s.recordDiffs(fileName, f)...)
	if len(diffs) == 0 {
		return nil
	}
	return errors.New("not converged on " + fileName + ":\n  - " + strings.Join(diffs, "\n  - "))
}

// fileDiffs judges the distribution point. Callers hold s.mu.
func (s *Server) fileDiffs(fileName, sha3Hex string, size int64, f *StoredFile) []string {
	var diffs []string
	switch {
	case f == nil:
		diffs = append(diffs, "no file "+fileName+" on the distribution point")
	case !strings.EqualFold(f.SHA3, sha3Hex) || f.Length != size:
		diffs = append(diffs, fmt.Sprintf("the stored %s is not the local file: %d bytes, SHA3-512 %s; want %d bytes, %s",
			fileName, f.Length, short(f.SHA3), size, short(sha3Hex)))
	}
	dup := duplicatePattern(fileName)
	var extra []string
	for name := range s.files {
		if name != fileName && (strings.EqualFold(name, fileName) || dup.MatchString(name)) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		diffs = append(diffs, "duplicate file on the distribution point: "+name)
	}
	return diffs
}

// recordDiffs judges the package records. Callers hold s.mu.
func (s *Server) recordDiffs(fileName string, f *StoredFile) []string {
	var exact []*Package
	var diffs []string
	for _, p := range s.sortedPackages() {
		switch {
		case p.FileName == fileName:
			exact = append(exact, p)
		case strings.EqualFold(p.FileName, fileName):
			diffs = append(diffs, fmt.Sprintf("record %s has fileName %q, differing only in letter case", p.ID, p.FileName))
		}
	}
	if len(exact) != 1 {
		return append(diffs, fmt.Sprintf("%d records have fileName %s, want exactly 1", len(exact), fileName))
	}
	p := exact[0]
	if f != nil && !describes(p, f) {
		diffs = append(diffs, fmt.Sprintf("record %s: hashType %q hashValue %q does not describe the stored file (SHA3-512 %s)",
			p.ID, deref(p.HashType), short(deref(p.HashValue)), short(f.SHA3)))
	}
	if p.CloudTransferStatus != statusReady {
		diffs = append(diffs, fmt.Sprintf("record %s: cloudTransferStatus %q, want READY (refresh the inventory)", p.ID, p.CloudTransferStatus))
	}
	if deref(p.Size) == "" {
		diffs = append(diffs, fmt.Sprintf("record %s: size is empty (the last write came after the last inventory refresh)", p.ID))
	}
	return diffs
}

// sortedPackages lists the records by id, for stable messages. Callers
// hold s.mu.
func (s *Server) sortedPackages() []*Package {
	ids := make([]int, 0, len(s.packages))
	for id := range s.packages {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out := make([]*Package, len(ids))
	for i, id := range ids {
		out[i] = s.packages[id]
	}
	return out
}

// FileSHA3 returns the SHA3-512 (hex) and length of a local file: the
// arguments Converged takes, computed with the simulator's own code.
func FileSHA3(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("hashing the local file: %w", err)
	}
	defer f.Close()
	d, err := digest(f)
	return d.SHA3, d.Length, err
}

// short abbreviates a hex digest for messages.
func short(hex string) string {
	if len(hex) > 16 {
		return hex[:16] + "…"
	}
	return hex
}
