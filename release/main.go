// Command release writes the AutoPkg shims from shim.py.tmpl and the pins
// of the release they run (release/pins.json). GoReleaser builds and
// publishes the binaries (.goreleaser.yaml); this only pins them.
//
//	go run ./release                  # regenerate the shims (after a manifest or template change)
//	go run ./release pin --dist dist  # pin what `goreleaser release` just published
//	go run ./release notes --version v1.2.3  # CHANGELOG.md's section: the release notes
//
// Pinning happens after publishing because the Mac binary is signed and
// notarized on the way out, which changes its bytes: the shim must pin the
// bytes users download. The release workflow runs `pin` and proposes the
// result as a pull request; see docs/install.md for what that means for
// AutoPkg trust info.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

const (
	pinsFile   = "release/pins.json"
	recipesDir = "recipes"
)

func main() {
	if err := runRelease(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func runRelease(args []string) error {
	cmd := "shim"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("release "+cmd, flag.ContinueOnError)
	root := fs.String("root", ".", "repository root")
	dist := fs.String("dist", "dist", "GoReleaser's dist folder (pin)")
	baseURL := fs.String("base-url", "", "download URL of the release's files, ending in / (pin; default: the GitHub release of the tag)")
	version := fs.String("version", "", "the version or tag whose notes to print (notes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cmd == "notes" {
		notes, err := releaseNotes(filepath.Join(*root, "CHANGELOG.md"), *version)
		if err != nil {
			return err
		}
		fmt.Print(notes)
		return nil
	}
	pinsPath := filepath.Join(*root, pinsFile)
	pins, err := loadPins(pinsPath)
	if err != nil {
		return err
	}
	switch cmd {
	case "shim":
		pins.refreshUnreleased()
	case "pin":
		if pins, err = pinDist(*dist, *baseURL); err != nil {
			return err
		}
		fmt.Printf("pinned %s from %s:\n", pins.Version, *dist)
		for _, a := range pins.Assets {
			fmt.Printf("  %-12s %-40s %s\n", a.Platform, a.File, a.SHA256)
		}
	default:
		return fmt.Errorf("unknown command %q: use shim (the default), pin or notes", cmd)
	}
	if err := pins.save(pinsPath); err != nil {
		return err
	}
	written, err := writeShims(filepath.Join(*root, recipesDir), pins)
	if err != nil {
		return err
	}
	for _, p := range written {
		fmt.Println("wrote", p)
	}
	return nil
}
