package main

import (
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
	if len(args) != 2 {
		ts.Fatalf("usage: sim packages|files|writes N, sim converged NAME, sim hold MATCH")
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
