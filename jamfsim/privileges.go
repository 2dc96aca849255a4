package jamfsim

import (
	"net/http"
	"sort"
)

// Privilege names, as the OpenAPI's x-required-privileges spells them.
const (
	PrivCreatePackages         = "Create Packages"
	PrivReadPackages           = "Read Packages"
	PrivUpdatePackages         = "Update Packages"
	PrivDeletePackages         = "Delete Packages"
	PrivCreateCategories       = "Create Categories"
	PrivReadCategories         = "Read Categories"
	PrivReadSelfService        = "Read Self Service"
	PrivReadCloudDP            = "Read Cloud Distribution Point"
	PrivUpdateCloudDP          = "Update Cloud Distribution Point"
	PrivCreateJCDSFiles        = "Create Jamf Cloud Distribution Service Files"
	PrivReadJCDSFiles          = "Read Jamf Cloud Distribution Service Files"
	PrivDeleteJCDSFiles        = "Delete Jamf Cloud Distribution Service Files"
	PrivReadDistributionPoints = "Read Distribution Points"
)

// Common roles, for Config.Privileges (the simulator copies them).
var (
	// JamfPackageUploaderRole is what JamfPackageUploader's users grant
	// since it dropped JCDS (February 2026): the packages route and the
	// cloud distribution point, and no JCDS privilege at all.
	JamfPackageUploaderRole = []string{PrivCreatePackages, PrivReadPackages, PrivUpdatePackages,
		PrivReadCategories, PrivReadCloudDP, PrivUpdateCloudDP}
	// JCDSUploaderRole adds what the S3 route and duplicate clean-up need.
	JCDSUploaderRole = append(append([]string{}, JamfPackageUploaderRole...),
		PrivDeletePackages, PrivCreateJCDSFiles, PrivReadJCDSFiles, PrivDeleteJCDSFiles)
	// AllPrivileges is every privilege the simulator checks: what an
	// account without an entry in Config.Privileges has.
	AllPrivileges = []string{PrivCreatePackages, PrivReadPackages, PrivUpdatePackages, PrivDeletePackages,
		PrivCreateCategories, PrivReadCategories, PrivReadSelfService, PrivReadCloudDP, PrivUpdateCloudDP,
		PrivCreateJCDSFiles, PrivReadJCDSFiles, PrivDeleteJCDSFiles, PrivReadDistributionPoints,
		PrivReadPolicies, PrivReadPatchTitles, PrivReadPreStages}
)

// need is an endpoint's privilege rule: every privilege in all, and at
// least one of any when any is set.
type need struct{ all, any []string }

func needs(privs ...string) need { return need{all: privs} }
func anyOf(privs ...string) need { return need{any: privs} }
func (n need) met(has func(string) bool) bool {
	for _, p := range n.all {
		if !has(p) {
			return false
		}
	}
	if len(n.any) == 0 {
		return true
	}
	for _, p := range n.any {
		if has(p) {
			return true
		}
	}
	return false
}

// privilegesOf is the privilege set of a token's account (user name or
// API client id); nil means every privilege. Callers hold s.mu.
func (s *Server) privilegesOf(tok string) map[string]bool {
	t := s.tokens[tok]
	if t == nil {
		return nil
	}
	return s.privs[t.subject]
}

// allowed reports whether the token's account meets n.
func (s *Server) allowed(tok string, n need) bool {
	s.mu.Lock()
	set := s.privilegesOf(tok)
	s.mu.Unlock()
	return set == nil || n.met(func(p string) bool { return set[p] })
}

// privilegeList is the sorted privilege names of a token's account.
func (s *Server) privilegeList(tok string) (list []string, all bool) {
	s.mu.Lock()
	set := s.privilegesOf(tok)
	s.mu.Unlock()
	if set == nil {
		list = append(list, AllPrivileges...)
	}
	for p := range set {
		list = append(list, p)
	}
	sort.Strings(list)
	return list, set == nil
}

// writeForbidden is the Jamf Pro API's answer to a missing privilege,
// byte for byte the body a live server returned (Der Flounder, 2026-07).
func writeForbidden(w http.ResponseWriter) {
	writeAPIError(w, http.StatusForbidden, "INVALID_PRIVILEGE", "Forbidden")
}

// writeClassicForbidden is the Classic API's status page for a missing
// privilege (seen in jamf/mut #88); it has no "Error:" line.
func writeClassicForbidden(w http.ResponseWriter) {
	writeStatusPage(w, http.StatusForbidden, "The server understood the request, but is refusing to fulfill it")
}
