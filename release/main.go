// Command release builds the Mac (and Linux) binaries reproducibly and
// writes the AutoPkg shim that pins their hashes:
//
//	go run ./release            # into recipes/JCDS2Processors
//
// Binaries go to recipes/JCDS2Processors/bin/ (jcds2-uploader is the
// universal Mac binary the shim runs on a Mac); the shim is
// recipes/JCDS2Processors/JCDS2PackageUploader.py. Builds use -trimpath,
// no cgo and no build id, and are stamped with the latest git tag, so the
// same checkout and Go toolchain give the same bytes.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "recipes/JCDS2Processors", "shared-processor folder to write into")
	root := flag.String("root", ".", "module root")
	flag.Parse()
	if err := release(*root, *out); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func release(root, out string) error {
	ver := version(root)
	hashes, err := buildAll(root, filepath.Join(out, "bin"), ver)
	if err != nil {
		return err
	}
	src, err := shimSource(ver, hashes)
	if err != nil {
		return err
	}
	shim := filepath.Join(out, "JCDS2PackageUploader.py")
	if err := os.WriteFile(shim, src, 0o644); err != nil {
		return err
	}
	fmt.Printf("version %s\n", ver)
	for name, h := range hashes {
		fmt.Printf("  %-18s %s\n", name, h)
	}
	fmt.Printf("wrote %s and %s\n", shim, filepath.Join(out, "bin"))
	return nil
}
