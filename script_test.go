package main

import (
	"crypto/md5"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestScript runs the CLI's behaviours, one readable file each, in
// testdata/script/*.txtar. Every script gets its own simulator (embedded
// S3) with JSS_URL, CLIENT_ID, CLIENT_SECRET and AWS_ENDPOINT_URL_S3
// exported for it, and these commands:
//
//	mkpkg NAME SIZE    a package of SIZE random bytes in $WORK
//	sim packages N     the simulator holds N package records
//	sim files N        and N files on its distribution point
//	sim writes N       it was sent N requests other than GET (token
//	                   requests excepted: asking for one writes nothing)
//	sim converged NAME one READY record and one file for NAME, true hash
//	sim record NAME FILE exactly one record names NAME, and its hash is
//	                   that of FILE's bytes
//	sim file NAME FILE the distribution point's file NAME holds FILE's bytes
//	sim log            prints every request since the start (or the last
//	                   sim reset), "METHOD PATH" a line; requests to S3
//	                   as "S3 OPERATION PATH"
//	sim reset          forgets the requests so far (sim writes, sim log)
//	sim hold MATCH     hold requests matching MATCH (e.g. UploadPart) for
//	                   a minute; $WORK/arrived appears when the first one
//	                   arrives, so a script can act while it is held
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			sim, err := jamfsim.New(jamfsim.Config{})
			if err != nil {
				return err
			}
			e.Defer(func() { sim.Close() })
			e.Values["sim"] = sim
			e.Setenv("JSS_URL", sim.URL)
			e.Setenv("AWS_ENDPOINT_URL_S3", sim.S3Endpoint())
			e.Setenv("CLIENT_ID", jamfsim.DefaultClientID)
			e.Setenv("CLIENT_SECRET", jamfsim.DefaultClientSecret)
			e.Setenv("SIM_CLIENT_SECRET", jamfsim.DefaultClientSecret)
			e.Setenv("HOME", e.WorkDir)
			e.Setenv("XDG_CACHE_HOME", filepath.Join(e.WorkDir, ".cache"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mkpkg": cmdMkpkg,
			"sim":   cmdSim,
		},
	})
}

func cmdMkpkg(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mkpkg NAME SIZE")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	data := make([]byte, n)
	rand.Read(data)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), data, 0o644))
}

func cmdSim(ts *testscript.TestScript, neg bool, args []string) {
	sim := ts.Value("sim").(*jamfsim.Server)
	if len(args) == 1 && args[0] == "log" {
		for _, e := range sim.Log() {
			fmt.Fprintf(ts.Stdout(), "%s %s\n", e.Method, e.Path)
		}
		for _, e := range sim.S3Log() {
			fmt.Fprintf(ts.Stdout(), "S3 %s %s\n", e.Op, e.Path)
		}
		return
	}
	if len(args) == 1 && args[0] == "reset" {
		sim.ResetLog()
		return
	}
	if len(args) == 3 && (args[0] == "record" || args[0] == "file") {
		if err := simHolds(sim, args[0], args[1], ts.MkAbs(args[2])); (err != nil) != neg {
			ts.Fatalf("sim %s %s %s: %v", args[0], args[1], args[2], err)
		}
		return
	}
	if len(args) != 2 {
		ts.Fatalf("usage: sim packages|files|writes N, sim converged NAME, sim hold MATCH, sim record|file NAME FILE, sim log, sim reset")
	}
	if args[0] == "hold" {
		arrived := sim.DelayNotify(args[1], time.Minute, 1000)
		mark := ts.MkAbs("arrived")
		go func() {
			<-arrived
			os.WriteFile(mark, nil, 0o644)
		}()
		return
	}
	if args[0] == "converged" {
		sha3, size, err := jamfsim.FileSHA3(ts.MkAbs(args[1]))
		ts.Check(err)
		err = sim.Converged(filepath.Base(args[1]), sha3, size)
		if (err != nil) != neg {
			ts.Fatalf("converged %s: %v", args[1], err)
		}
		return
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	var got int
	var what []string
	switch args[0] {
	case "packages":
		got = len(sim.Packages())
	case "files":
		got = len(sim.Files())
	case "writes":
		for _, e := range sim.Log() {
			if e.Method != "GET" && !strings.Contains(e.Path, "token") {
				got++
				what = append(what, e.Method+" "+e.Path)
			}
		}
	default:
		ts.Fatalf("sim %s: unknown", args[0])
	}
	if (got == want) == neg {
		ts.Fatalf("sim %s: %d, want %s%d %v", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want, what)
	}
	fmt.Fprintf(ts.Stdout(), "%d\n", got)
}

// simHolds checks that the one record naming name describes the bytes
// of path (what "record"), or that the stored file name holds them
// (what "file").
func simHolds(sim *jamfsim.Server, what, name, path string) error {
	sha3, _, err := jamfsim.FileSHA3(path)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	md5hex := fmt.Sprintf("%x", md5.Sum(b))
	if what == "file" {
		f, ok := sim.Files()[name]
		switch {
		case !ok:
			return fmt.Errorf("no file %s on the distribution point", name)
		case !strings.EqualFold(f.SHA3, sha3):
			return fmt.Errorf("%s holds other bytes (md5 %s)", name, f.MD5)
		}
		return nil
	}
	var found []string
	for _, p := range sim.Packages() {
		if p.FileName != name {
			continue
		}
		v := ""
		if p.HashValue != nil {
			v = *p.HashValue
		}
		found = append(found, p.ID)
		if !strings.EqualFold(v, sha3) && !strings.EqualFold(v, md5hex) {
			return fmt.Errorf("record %s claims %q, not the bytes of %s", p.ID, v, filepath.Base(path))
		}
	}
	if len(found) != 1 {
		return fmt.Errorf("%d records name %s, want 1", len(found), name)
	}
	return nil
}
