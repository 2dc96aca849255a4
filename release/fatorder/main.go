// Command fatorder puts the slices of a universal Mach-O binary in CPU
// type order, in place: GoReleaser's universal binary post hook (see
// .goreleaser.yaml and package release/fat). Standard library only, so it
// builds in seconds in a cold cache.
//
//	go run ./release/fatorder dist/jcds2-uploader-universal_darwin_all/jcds2-uploader
package main

import (
	"fmt"
	"os"

	"github.com/jcds2-uploader/jcds2-uploader/release/fat"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fatorder UNIVERSAL-BINARY")
		os.Exit(2)
	}
	if err := fat.Order(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "fatorder:", err)
		os.Exit(1)
	}
}
