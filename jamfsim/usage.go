package jamfsim

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// What installs a package: Classic policies (package_configuration),
// patch software title configurations (packages[].packageId, Jamf Pro
// API v2) and computer PreStages (customPackageIds, Jamf Pro API v3).
// These are read-only here: tests and the bench seed them with AddPolicy,
// AddPatchTitle and AddPreStage. Shapes follow Jamf-Concepts/jamf-cli's
// specs (PatchSoftwareTitleConfigurations.yaml, ComputerPrestagesV3.yaml,
// classic/schemas.json).

// Privileges of the endpoints that say what is in use.
const (
	PrivReadPolicies     = "Read Policies"
	PrivReadPatchTitles  = "Read Patch Management Software Titles"
	PrivReadPreStages    = "Read Computer PreStage Enrollments"
	defaultPatchSourceID = "1"
)

// Policy is a Classic policy with the packages it installs (by id).
type Policy struct {
	ID         int
	Name       string
	PackageIDs []int
}

// PatchPackage is one version of a patch title and the package it uses.
type PatchPackage struct {
	PackageID string `json:"packageId"`
	Version   string `json:"version"`
}

// PatchTitle is a patch software title configuration.
type PatchTitle struct {
	ID          string
	DisplayName string
	Packages    []PatchPackage
}

// PreStage is a computer PreStage with its custom packages (ids).
type PreStage struct {
	ID               string
	DisplayName      string
	CustomPackageIDs []string
}

type usage struct {
	policies  []*Policy
	titles    []*PatchTitle
	prestages []*PreStage
}

// AddPolicy adds a Classic policy installing the packages (test set-up)
// and returns its id.
func (s *Server) AddPolicy(name string, packageIDs ...int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &Policy{ID: len(s.usage.policies) + 1, Name: name, PackageIDs: packageIDs}
	s.usage.policies = append(s.usage.policies, p)
	return p.ID
}

// AddPatchTitle adds a patch software title configuration whose versions
// use the packages (test set-up) and returns its id.
func (s *Server) AddPatchTitle(name string, versions ...PatchPackage) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &PatchTitle{ID: strconv.Itoa(len(s.usage.titles) + 1), DisplayName: name, Packages: versions}
	s.usage.titles = append(s.usage.titles, t)
	return t.ID
}

// AddPreStage adds a computer PreStage installing the packages (test
// set-up) and returns its id.
func (s *Server) AddPreStage(name string, packageIDs ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &PreStage{ID: strconv.Itoa(len(s.usage.prestages) + 1), DisplayName: name, CustomPackageIDs: packageIDs}
	s.usage.prestages = append(s.usage.prestages, p)
	return p.ID
}

func (s *Server) routeUsage(mux *http.ServeMux) {
	s.classic(mux, "GET /JSSResource/policies", needs(PrivReadPolicies), func(w http.ResponseWriter, r *http.Request, _ string) {
		s.mu.Lock()
		names := map[int]string{}
		for _, p := range s.usage.policies {
			names[p.ID] = p.Name
		}
		s.mu.Unlock()
		s.writeClassicList(w, r, "policies", "policy", names)
	})
	s.classic(mux, "GET /JSSResource/policies/id/{id}", needs(PrivReadPolicies), s.handlePolicy)
	s.api(mux, "GET /api/v2/patch-software-title-configurations", always, needs(PrivReadPatchTitles), func(w http.ResponseWriter, r *http.Request, _ string) {
		s.mu.Lock()
		out := []map[string]any{}
		for _, t := range s.usage.titles {
			out = append(out, s.patchTitleJSON(t))
		}
		s.mu.Unlock()
		writeJSON(w, 200, out)
	})
	s.api(mux, "GET /api/v3/computer-prestages", always, needs(PrivReadPreStages), func(w http.ResponseWriter, r *http.Request, _ string) {
		s.mu.Lock()
		list := append([]*PreStage(nil), s.usage.prestages...)
		s.mu.Unlock()
		// The spec's default sort is id:desc; id:asc is also accepted.
		desc := r.URL.Query().Get("sort") != "id:asc"
		sort.Slice(list, func(i, j int) bool {
			a, _ := strconv.Atoi(list[i].ID)
			b, _ := strconv.Atoi(list[j].ID)
			return (a > b) == desc
		})
		from, to, ok := pageOf(r.URL.Query(), len(list))
		if !ok {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid page or page-size", "page")
			return
		}
		results := []map[string]any{}
		for _, p := range list[from:to] {
			results = append(results, preStageJSON(p))
		}
		writeJSON(w, 200, map[string]any{"totalCount": len(list), "results": results})
	})
	s.api(mux, "POST /api/v1/packages/delete-multiple", s.hasPackagesAPI, needs(PrivDeletePackages), s.handleDeleteMultiple)
}

// handlePolicy answers a Classic policy: general and package_configuration
// (the rest of the long policy object is not simulated). JSON lists the
// packages flat, as JamfUnusedPackageCleaner reads them; XML nests them.
func (s *Server) handlePolicy(w http.ResponseWriter, r *http.Request, _ string) {
	n, _ := strconv.Atoi(r.PathValue("id"))
	s.mu.Lock()
	var p *Policy
	// Ids are 1..n in order (AddPolicy): an index, not a scan (3,000
	// reads of 3,000 policies made the simulator the bench's bottleneck).
	if n >= 1 && n <= len(s.usage.policies) && s.usage.policies[n-1].ID == n {
		p = s.usage.policies[n-1]
	}
	type pkgRef struct {
		ID     int    `json:"id"`
		Name   string `json:"name"`
		Action string `json:"action"`
	}
	var refs []pkgRef
	if p != nil {
		for _, id := range p.PackageIDs {
			name := ""
			if pk := s.packages[id]; pk != nil {
				name = pk.PackageName
			}
			refs = append(refs, pkgRef{id, name, "Install"})
		}
	}
	s.mu.Unlock()
	if p == nil {
		writeClassicError(w, 404, "The server has not found anything matching the request URI")
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "json") {
		if refs == nil {
			refs = []pkgRef{}
		}
		writeJSON(w, 200, map[string]any{"policy": map[string]any{
			"general":               map[string]any{"id": p.ID, "name": p.Name, "enabled": true},
			"package_configuration": map[string]any{"packages": refs, "distribution_point": "default"},
		}})
		return
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><policy><general><id>` + strconv.Itoa(p.ID) + `</id><name>` + xmlEscape(p.Name) + `</name><enabled>true</enabled></general>`)
	b.WriteString(`<package_configuration><packages><size>` + strconv.Itoa(len(refs)) + `</size>`)
	for _, ref := range refs {
		b.WriteString(`<package><id>` + strconv.Itoa(ref.ID) + `</id><name>` + xmlEscape(ref.Name) + `</name><action>Install</action></package>`)
	}
	b.WriteString(`</packages><distribution_point>default</distribution_point></package_configuration></policy>`)
	w.Header().Set("Content-Type", "application/xml")
	io.WriteString(w, b.String())
}

// patchTitleJSON is the schema's PatchSoftwareTitleConfiguration; a
// package's displayName is its record's packageName. Callers hold s.mu.
func (s *Server) patchTitleJSON(t *PatchTitle) map[string]any {
	pkgs := []map[string]any{}
	for _, v := range t.Packages {
		name := ""
		if n, err := strconv.Atoi(v.PackageID); err == nil && s.packages[n] != nil {
			name = s.packages[n].PackageName
		}
		pkgs = append(pkgs, map[string]any{"packageId": v.PackageID, "version": v.Version, "displayName": name})
	}
	return map[string]any{
		"id": t.ID, "displayName": t.DisplayName, "categoryId": "-1", "siteId": "-1",
		"uiNotifications": false, "emailNotifications": false, "softwareTitleId": t.ID,
		"jamfOfficial": true, "extensionAttributes": []any{}, "softwareTitleName": t.DisplayName,
		"softwareTitleNameId": strings.ReplaceAll(t.DisplayName, " ", ""), "softwareTitlePublisher": "Sim",
		"patchSourceName": "Jamf", "patchSourceEnabled": true, "packages": pkgs,
	}
}

// preStageJSON is the schema's GetComputerPrestageV3 with every required
// field present (values are what a fresh PreStage has).
func preStageJSON(p *PreStage) map[string]any {
	ids := append([]string{}, p.CustomPackageIDs...)
	return map[string]any{
		"id": p.ID, "displayName": p.DisplayName, "versionLock": 1,
		"mandatory": true, "mdmRemovable": false, "supportPhoneNumber": "", "supportEmailAddress": "",
		"department": "", "defaultPrestage": false, "enrollmentSiteId": "-1",
		"keepExistingSiteMembership": false, "keepExistingLocationInformation": false,
		"requireAuthentication": false, "authenticationPrompt": "", "preventActivationLock": false,
		"enableDeviceBasedActivationLock": false, "deviceEnrollmentProgramInstanceId": "1",
		"autoAdvanceSetup": false, "installProfilesDuringSetup": true,
		"prestageInstalledProfileIds": []string{}, "customPackageIds": ids, "customPackageDistributionPointId": "-2",
		"locationInformation": map[string]any{"id": p.ID, "versionLock": 1, "username": "", "realname": "",
			"phone": "", "email": "", "room": "", "position": "", "departmentId": "-1", "buildingId": "-1"},
		"purchasingInformation": map[string]any{"id": p.ID, "versionLock": 1, "leased": false, "purchased": true,
			"appleCareId": "", "poNumber": "", "vendor": "", "purchasePrice": "", "lifeExpectancy": 0,
			"purchasingAccount": "", "purchasingContact": "", "leaseDate": "1970-01-01", "poDate": "1970-01-01",
			"warrantyDate": "1970-01-01"},
		"accountSettings": map[string]any{"id": p.ID, "versionLock": 1, "payloadConfigured": false},
	}
}

// handleDeleteMultiple is POST /api/v1/packages/delete-multiple: 204 when
// every id was deleted, else 400 naming each id that was not (INVALID_ID);
// the others are deleted all the same.
func (s *Server) handleDeleteMultiple(w http.ResponseWriter, r *http.Request, _ string) {
	var body struct {
		IDs []string `json:"ids"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		writeAPIError(w, 400, "INVALID_FIELD", "Unable to parse the request body")
		return
	}
	var causes []apiErrorCause
	for _, id := range body.IDs {
		if !s.deletePackage(r.Context(), id) {
			id := id
			causes = append(causes, apiErrorCause{Code: "INVALID_ID", Description: "Package with id " + id + " does not exist", ID: &id})
		}
	}
	if len(causes) > 0 {
		writeJSON(w, 400, apiError{HTTPStatus: 400, Errors: causes})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
