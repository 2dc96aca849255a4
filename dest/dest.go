// Package dest says what a distribution point is to the engine: a place
// that holds bytes under a name, can say which bytes (observe), and can
// be given new ones (put). The engine (jcds2) observes every destination
// a run writes to, plans over all of them and the package record
// together, and only then writes; a destination never decides anything.
//
// A new kind of distribution point is one type implementing Destination
// (see distpoint.ShareDest and distpoint.S3Dest, and the fake one in
// jcds2's destination tests); the planner and the crash tests use it
// unchanged.
package dest

import (
	"context"
	"io"
	"strings"
)

// Destination is one distribution point the package goes to.
//
// Proof: the engine never takes a destination's word for what it holds.
// Observe gives the size and a Stamp that changes whenever the bytes
// there change; the hashes come from the listing when the store keeps
// them (Holding.Hashes), else the engine reads the bytes back (Open) or
// remembers the hashes it computed over exactly the bytes it handed to
// Put in the same pass, keyed by the stamp Put returned.
type Destination interface {
	// String names the destination in log lines and dry runs, without
	// credentials: "file share smb://server/share", "s3://bucket".
	String() string
	// Cloud reports Jamf Pro's cloud distribution point (a self-hosted
	// S3 bucket in its place): Jamf Pro takes stock of it with an
	// inventory refresh after the record is written.
	Cloud() bool
	// Observe says what is held under name. It writes nothing (it may
	// delete temporary files a dead run left, which hold no name).
	Observe(ctx context.Context, name string) (Holding, error)
	// Open reads the bytes held under name, for the engine to hash.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Put makes name hold exactly the bytes read from src, all of them
	// (size bytes), or leaves name as it was: it never leaves half a file
	// under name. It returns what name then holds (Present, Size, Stamp);
	// the caller hashed the bytes it handed over, so the hashes are its.
	Put(ctx context.Context, name string, src io.Reader, size int64) (Holding, error)
	// Delete removes what is held under name; nothing there is no error.
	// The engine deletes only what its plan says (a lifecycle prune).
	Delete(ctx context.Context, name string) error
}

// Holding is what a destination holds under one name.
type Holding struct {
	Present bool
	Size    int64
	// Stamp identifies these bytes: it changes when they change (size
	// and mtime on a share, the ETag on S3). Empty: no stamp to trust.
	Stamp string
	// Hashes of the bytes, when the store itself keeps them (a listing);
	// empty when only reading them back would tell.
	Hashes Hashes
}

// Hashes of some bytes, hex; empty when not known.
type Hashes struct {
	MD5  string `json:"md5,omitempty"`
	SHA3 string `json:"sha3,omitempty"`
}

// SameHash compares two hex hashes as hashes: case does not matter (Jamf
// Pro and S3 have listed both), and an unknown (empty) hash matches
// nothing.
func SameHash(a, b string) bool { return a != "" && strings.EqualFold(a, b) }

// Matches reports whether every hash both sides know is the same, and at
// least one is known to both.
func (h Hashes) Matches(o Hashes) bool {
	known := false
	for _, p := range [][2]string{{h.MD5, o.MD5}, {h.SHA3, o.SHA3}} {
		if p[0] == "" || p[1] == "" {
			continue
		}
		if !SameHash(p[0], p[1]) {
			return false
		}
		known = true
	}
	return known
}

// Known reports whether any hash is known.
func (h Hashes) Known() bool { return h.MD5 != "" || h.SHA3 != "" }
