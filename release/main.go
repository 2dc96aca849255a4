// Command release builds the Mac and Linux binaries reproducibly and
// writes the AutoPkg shim that pins their hashes:
//
//	go run ./release            # into recipes/JCDS2Processors
//
// Binaries go to recipes/JCDS2Processors/bin/: jcds2-uploader is the
// universal Mac binary (arm64 + amd64), jcds2-uploader-linux-amd64 and
// jcds2-uploader-linux-arm64 are for AutoPkg on Linux (CI). The shim,
// recipes/JCDS2Processors/JCDS2PackageUploader.py, picks the one for the
// platform it runs on and refuses any file whose SHA-256 it does not pin.
// Builds use -trimpath, no cgo and no build id, and are stamped with the
// latest git tag, so the same checkout and Go toolchain give the same bytes.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

func main() {
	out := flag.String("out", "recipes/JCDS2Processors", "shared-processor folder to write into")
	root := flag.String("root", ".", "module root")
	flag.Parse()
	ver, hashes, err := release(*root, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
	fmt.Printf("version %s\n", ver)
	names := make([]string, 0, len(hashes))
	for name := range hashes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Printf("  bin/%-28s %s\n", name, hashes[name])
	}
	fmt.Printf("wrote %s and %s\n", filepath.Join(*out, shimFile), filepath.Join(*out, "bin"))
}

// shimFile is the shim's name: AutoPkg loads Name.py for processor Name.
const shimFile = processor.Name + ".py"

// release builds every binary into out/bin and writes the shim pinning
// them to out; it returns the version stamped and the hashes by file name.
func release(root, out string) (string, map[string]string, error) {
	ver := version(root)
	hashes, err := buildAll(root, filepath.Join(out, "bin"), ver)
	if err != nil {
		return "", nil, err
	}
	src, err := shimSource(ver, hashes)
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(out, shimFile), src, 0o644); err != nil {
		return "", nil, err
	}
	return ver, hashes, nil
}
