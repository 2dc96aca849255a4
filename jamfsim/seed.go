package jamfsim

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
)

// Scale is the size of a seeded repository (tests, the bench).
type Scale struct {
	Packages, Policies, PatchTitles, PreStages int
}

// SeedRepository fills the simulator with a repository of the given
// scale, deterministically: PatchTitles titles "TitleNNN" sharing the
// packages ("TitleNNN-1.V", converged records with small files on JCDS,
// ids in title order), each title's patch configuration naming its three
// newest versions, policies each installing one package (policy i the
// package (7i mod n)+1), and PreStages each two. It returns the package
// name prefix of title 0, whose packages are ids 1 to Packages/PatchTitles.
//
// The files are listed by JCDS with their true hashes and lengths, but
// their bytes are not put in the bucket (5,000 uploads would take most of
// a minute): an audit or a prune sees them, a download would not.
func (s *Server) SeedRepository(ctx context.Context, sc Scale) (string, error) {
	titles := max(sc.PatchTitles, 1)
	per := max(sc.Packages/titles, 1)
	id := 0
	for t := 0; t < titles; t++ {
		var versions []PatchPackage
		for v := 0; v < per && id < sc.Packages; v++ {
			name := fmt.Sprintf("Title%03d-1.%d", t, v)
			file := name + ".pkg"
			data := []byte(fmt.Sprintf("package %s, %d", name, t*per+v))
			d, err := s.listFile(file, data)
			if err != nil {
				return "", err
			}
			ht, size := "SHA3_512", strconv.FormatInt(d.Length, 10)
			id = s.AddPackage(Package{PackageName: name, FileName: file, CategoryID: "-1", Priority: 10,
				HashType: &ht, HashValue: &d.SHA3, Size: &size, CloudTransferStatus: statusReady})
			if v >= per-3 {
				versions = append(versions, PatchPackage{PackageID: strconv.Itoa(id), Version: "1." + strconv.Itoa(v)})
			}
		}
		if t < sc.PatchTitles {
			s.AddPatchTitle(fmt.Sprintf("Title%03d", t), versions...)
		}
	}
	for i := 0; i < sc.Policies; i++ {
		s.AddPolicy(fmt.Sprintf("Policy %d", i), (7*i)%sc.Packages+1)
	}
	for i := 0; i < sc.PreStages; i++ {
		s.AddPreStage(fmt.Sprintf("PreStage %d", i), strconv.Itoa((11*i)%sc.Packages+1), strconv.Itoa((13*i+5)%sc.Packages+1))
	}
	return "Title000-", nil
}

// listFile lists a file on JCDS without storing its bytes (seeding).
func (s *Server) listFile(name string, data []byte) (StoredFile, error) {
	d, err := digest(bytes.NewReader(data))
	if err != nil {
		return StoredFile{}, err
	}
	f := s.cloudFile(name, "seeded/"+name, d)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[name] = f
	return *f, nil
}
