package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// repoURL is where releases are published (.goreleaser.yaml release:).
const repoURL = "https://github.com/jcds2-uploader/jcds2-uploader"

// Pins are what the committed shims run: one release's bare binaries by
// platform, with their SHA-256, and the manifests of that release's
// processors (a shim declares the inputs of the binary it runs, not of
// whatever main holds today). Version "" is an unreleased checkout: no
// binary is pinned and the manifests follow the code.
type Pins struct {
	Version     string                        `json:"version"`
	Tag         string                        `json:"tag,omitempty"`
	DownloadURL string                        `json:"download_url,omitempty"`
	Assets      []Asset                       `json:"assets"`
	Manifests   map[string]processor.Manifest `json:"manifests"`
}

// Asset is one bare binary of a release.
type Asset struct {
	Platform string `json:"platform"` // darwin (universal), linux/amd64, linux/arm64
	File     string `json:"file"`     // its name at DownloadURL
	SHA256   string `json:"sha256"`
}

func loadPins(path string) (*Pins, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return &Pins{}, nil
	}
	if err != nil {
		return nil, err
	}
	var p Pins
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}

func (p *Pins) save(path string) error {
	if p.Assets == nil {
		p.Assets = []Asset{}
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// currentManifests are the manifests of this checkout's processors.
func currentManifests() map[string]processor.Manifest {
	m := map[string]processor.Manifest{}
	for _, s := range processors {
		m[s.Class] = s.Manifest()
	}
	return m
}

// refreshUnreleased takes this checkout's manifests when nothing is
// pinned; a pinned release keeps its own until the next pin.
func (p *Pins) refreshUnreleased() {
	if p.Version == "" {
		p.Manifests = currentManifests()
	} else if p.Manifests == nil {
		p.Manifests = map[string]processor.Manifest{}
	}
}

// distArtifact is the part of GoReleaser's dist/artifacts.json read here.
type distArtifact struct {
	Name, Path, Goos, Goarch, Type string
}

// file is where the artifact is on disk. artifacts.json paths are
// relative to where GoReleaser ran (dist's parent); a bare binary
// (archives format "binary") is not copied into dist/ but stays in its
// build folder under the build's name, so its release name is no path.
func (a distArtifact) file(dist string) string {
	if filepath.IsAbs(a.Path) {
		return a.Path
	}
	return filepath.Join(filepath.Dir(dist), a.Path)
}

// distPaths maps the names of the files a release uploads (those
// checksums.txt lists) to their paths in dist.
func distPaths(dist string) (map[string]string, error) {
	var arts []distArtifact
	if err := readJSON(filepath.Join(dist, "artifacts.json"), &arts); err != nil {
		return nil, err
	}
	sums, err := readChecksums(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		return nil, err
	}
	paths := map[string]string{}
	for _, a := range arts {
		if _, ok := sums[a.Name]; ok {
			paths[a.Name] = a.file(dist)
		}
	}
	for name := range sums {
		if paths[name] == "" {
			return nil, fmt.Errorf("%s: checksums.txt lists %s, artifacts.json does not", dist, name)
		}
	}
	return paths, nil
}

// pinDist pins the bare binaries of a GoReleaser dist folder: their
// SHA-256 (checked against checksums.txt), the version from
// metadata.json and the manifests of the code that built them (this
// checkout; the release workflow runs pin at the tag).
func pinDist(dist, baseURL string) (*Pins, error) {
	var meta struct{ Tag, Version string }
	if err := readJSON(filepath.Join(dist, "metadata.json"), &meta); err != nil {
		return nil, err
	}
	var arts []distArtifact
	if err := readJSON(filepath.Join(dist, "artifacts.json"), &arts); err != nil {
		return nil, err
	}
	sums, err := readChecksums(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		return nil, err
	}
	if baseURL == "" {
		baseURL = repoURL + "/releases/download/" + meta.Tag + "/"
	}
	if !strings.HasPrefix(baseURL, "https://") || !strings.HasSuffix(baseURL, "/") {
		return nil, fmt.Errorf("--base-url %q: must be https:// and end in /", baseURL)
	}
	p := &Pins{Version: meta.Version, Tag: meta.Tag, DownloadURL: baseURL, Manifests: currentManifests()}
	for _, a := range arts {
		// The bare binaries (archives id "bare"): type Binary, named by the
		// archive template, unlike the build's own "jcds2-uploader".
		if a.Type != "Binary" || !strings.HasPrefix(a.Name, "jcds2-uploader_") {
			continue
		}
		plat := a.Goos + "/" + a.Goarch
		if a.Goos == "darwin" {
			if a.Goarch != "all" {
				return nil, fmt.Errorf("%s: a thin Mac binary; the release must publish the universal one", a.Name)
			}
			plat = "darwin"
		}
		sum, err := sha256File(a.file(dist))
		if err != nil {
			return nil, err
		}
		if sums[a.Name] != sum {
			return nil, fmt.Errorf("%s: SHA-256 %s, but checksums.txt says %q", a.Name, sum, sums[a.Name])
		}
		p.Assets = append(p.Assets, Asset{Platform: plat, File: a.Name, SHA256: sum})
	}
	sort.Slice(p.Assets, func(i, j int) bool { return p.Assets[i].Platform < p.Assets[j].Platform })
	var plats []string
	for _, a := range p.Assets {
		plats = append(plats, a.Platform)
	}
	if got := strings.Join(plats, " "); got != "darwin linux/amd64 linux/arm64" {
		return nil, fmt.Errorf("%s holds bare binaries for %q, want darwin linux/amd64 linux/arm64", dist, got)
	}
	return p, nil
}

func readJSON(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w (run goreleaser first)", err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// readChecksums reads a sha256sum-style file: name -> hex digest.
func readChecksums(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if sum, name, ok := strings.Cut(sc.Text(), "  "); ok {
			sums[name] = sum
		}
	}
	return sums, sc.Err()
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
