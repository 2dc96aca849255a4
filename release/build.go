package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// target is one binary the release builds.
type target struct{ GOOS, GOARCH string }

func (t target) String() string { return t.GOOS + "-" + t.GOARCH }

// targets are built for every release: the two Mac architectures (joined
// into the universal binary, in this order) and Linux, for AutoPkg in CI.
var targets = []target{{"darwin", "arm64"}, {"darwin", "amd64"}, {"linux", "amd64"}, {"linux", "arm64"}}

const module = "github.com/jcds2-uploader/jcds2-uploader"

// fallbackVersion is stamped when the checkout has no tag.
const fallbackVersion = "0.1.0-dev"

// version is the latest git tag: stable between releases, so a build is
// reproducible from a checkout and the shim's pinned hashes hold.
func version(root string) string {
	out, err := exec.Command("git", "-C", root, "describe", "--tags", "--abbrev=0").Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" {
		return v
	}
	return fallbackVersion
}

// build compiles one target reproducibly: no cgo, trimmed paths, no VCS
// stamp, no build id, the version from version().
func build(root string, t target, ver, out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -buildid= -X "+module+"/jamf.Version="+ver, "-o", out, ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.GOOS, "GOARCH="+t.GOARCH, "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building %s: %v\n%s", t, err, stderr.String())
	}
	return nil
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Binary names in bin/. The shim picks one by platform: the universal
// file on a Mac, bin/jcds2-uploader-<os>-<arch> anywhere else.
const (
	binaryName   = "jcds2-uploader"
	universalBin = binaryName // darwin arm64 + amd64
)

// binFile is the bin/ name the shim looks for on t.
func binFile(t target) string {
	if t.GOOS == "darwin" {
		return universalBin
	}
	return binaryName + "-" + t.String()
}

// buildAll builds every target into dir, the thin Mac binaries joined
// into the universal one (only that one is kept), and returns the
// SHA-256 of each file in dir, keyed by file name.
func buildAll(root, dir, ver string) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	thin, err := os.MkdirTemp("", "jcds2-release-thin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(thin)
	var mac []string
	files := map[string]bool{}
	for _, t := range targets {
		p := filepath.Join(dir, binFile(t))
		if t.GOOS == "darwin" {
			p = filepath.Join(thin, binaryName+"-"+t.String())
			mac = append(mac, p)
		}
		if err := build(root, t, ver, p); err != nil {
			return nil, err
		}
		files[binFile(t)] = true
	}
	if err := writeFat(filepath.Join(dir, universalBin), mac); err != nil {
		return nil, err
	}
	hashes := map[string]string{}
	for name := range files {
		h, err := sha256File(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		hashes[name] = h
	}
	return hashes, nil
}
