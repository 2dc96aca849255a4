package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// The bench's own tests (the long suites: big packages on both routes,
// the verification's cadence) run the real binary against the
// simulator and MinIO; -short skips them.

var (
	testBin   string
	testMinIO *jamfsim.MinIOProcess
)

func TestMain(m *testing.M) {
	// Flags are parsed by m.Run; testing.Short needs them now.
	short := false
	for _, a := range os.Args[1:] {
		short = short || a == "-test.short" || a == "-test.short=true"
	}
	if short {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "jcds2-benchtest-")
	if err != nil {
		panic(err)
	}
	if testBin, err = buildBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if testMinIO, err = jamfsim.StartMinIO(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: the bench tests need MinIO:", err)
		os.Exit(1)
	}
	code := m.Run()
	testMinIO.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}
