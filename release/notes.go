package main

import (
	"fmt"
	"os"
	"strings"
)

// trustLine starts the line every CHANGELOG.md section has, saying whether
// AutoPkg overrides need `autopkg update-trust-info` for that release.
const trustLine = "**AutoPkg trust info:**"

// releaseNotes is CHANGELOG.md's section for version (a tag's "v" is
// dropped), what the release workflow publishes as the release notes. A
// section without the trust-info line is an error: every release says
// whether overrides need `autopkg update-trust-info`.
func releaseNotes(changelog, version string) (string, error) {
	data, err := os.ReadFile(changelog)
	if err != nil {
		return "", err
	}
	version = strings.TrimPrefix(version, "v")
	var section []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "## ") {
			if in {
				break
			}
			in = strings.HasPrefix(line, "## ["+version+"]")
			continue
		}
		if in {
			section = append(section, line)
		}
	}
	if !in && len(section) == 0 {
		return "", fmt.Errorf("%s has no section \"## [%s]\": add one (Keep a Changelog) before tagging", changelog, version)
	}
	notes := strings.TrimSpace(strings.Join(section, "\n"))
	if !strings.Contains(notes, trustLine) {
		return "", fmt.Errorf("%s: the section for %s lacks a line starting %s saying whether overrides need `autopkg update-trust-info`", changelog, version, trustLine)
	}
	return notes + "\n", nil
}
