package main

import (
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// A role without a privilege a write needs: the run fails naming Jamf's
// privilege and, in the processor's words, where to add it; it leaves
// nothing behind (the file it uploaded is taken back).
func TestMissingPrivilegeIsNamedAndNothingIsLeft(t *testing.T) {
	var role []string
	for _, p := range jamfsim.JCDSUploaderRole {
		if p != jamfsim.PrivCreatePackages {
			role = append(role, p)
		}
	}
	sim := newSim(t, jamfsim.Config{Privileges: map[string][]string{jamfsim.DefaultClientID: role}})
	pkg := writePkg(t, t.TempDir(), "Priv.pkg", 1<<20, 81)
	r := runDecoded(t, sim, baseEnv(t, sim, pkg))
	last := r.lastLine()
	if r.code != 10 || !strings.Contains(last, `the account lacks the "Create Packages" privilege`) || !strings.Contains(last, "add it to the API role of the client in CLIENT_ID and CLIENT_SECRET") {
		t.Fatalf("exit %d, last line %q\n%s", r.code, last, r.stderr)
	}
	if len(sim.Packages()) != 0 || len(sim.Files()) != 0 {
		t.Fatalf("left behind: records %v, files %v", sim.Packages(), sim.Files())
	}
}
