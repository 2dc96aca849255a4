package jcds2

import "github.com/jcds2-uploader/jcds2-uploader/jamf"

// The privileges a run needs, by route: one table beside the route rule
// (route.go), read by the engine (the record stores name the same
// privileges when Jamf Pro refuses a step) and by doctor, which checks
// each of them against the account. A new route adds its row here.

// Privilege names, as Jamf's OpenAPI x-required-privileges spell them
// (testdata/openapi; TestRouteNeedsMatchTheOpenAPI). The Classic API's
// package and category endpoints need the same-named privileges.
const (
	PrivReadPackages   = jamf.PrivReadPackages
	PrivCreatePackages = "Create Packages"
	PrivUpdatePackages = "Update Packages"
	PrivReadCategories = "Read Categories"
	PrivReadCloudDP    = "Read Cloud Distribution Point"
)

// Step is what a run does that needs a privilege; the edge (doctor)
// says it in its own words.
type Step int

const (
	StepFindRecord   Step = iota + 1 // every run looks its package record up
	StepCreateRecord                 // a new package's record is created
	StepUpdateRecord                 // replacing, new metadata and hash corrections update the record
	StepUpload                       // the packages route's upload
	StepFindCategory                 // a category given is looked up
	StepRefresh                      // the inventory refresh after an upload
	StepListJCDS                     // a run lists the JCDS files first
	StepCreateJCDS                   // an upload asks for S3 credentials
	StepDeleteJCDS                   // a file of other bytes is deleted before the upload; copies are removed
)

// Need is a privilege one step of a run needs. Endpoint is the Jamf Pro
// API call whose x-required-privileges list it. Fatal: a run that needs
// the step fails without it (otherwise it goes on, doing less).
type Need struct {
	Privilege string
	Step      Step
	Endpoint  string
	Fatal     bool
}

// RouteNeeds lists the privileges a run on route needs from a server of
// version v, in the order a run meets them. RouteAuto has none: the
// route rule picks a route first.
func RouteNeeds(route Route, v jamf.ServerVersion) []Need {
	list := []Need{
		{PrivReadPackages, StepFindRecord, "GET /api/v1/packages", true},
		{PrivCreatePackages, StepCreateRecord, "POST /api/v1/packages", true},
	}
	switch route {
	case RouteElsewhere:
		return append(list,
			Need{PrivUpdatePackages, StepUpdateRecord, "PUT /api/v1/packages/{id}", false},
			Need{PrivReadCategories, StepFindCategory, "GET /api/v1/categories", false})
	case RoutePackages:
		return append(list,
			Need{PrivUpdatePackages, StepUpload, "POST /api/v1/packages/{id}/upload", true},
			Need{PrivReadCategories, StepFindCategory, "GET /api/v1/categories", false},
			Need{PrivReadCloudDP, StepRefresh, "POST /api/v1/cloud-distribution-point/refresh-inventory", false})
	case RouteJCDS2:
		list = append(list,
			Need{PrivUpdatePackages, StepUpdateRecord, "PUT /api/v1/packages/{id}", false},
			Need{PrivReadCategories, StepFindCategory, "GET /api/v1/categories", false})
		if v.AtLeast(11, 24) {
			// Before 11.24 the refresh is JCDS's own (Read JCDS Files).
			list = append(list, Need{PrivReadCloudDP, StepRefresh, "POST /api/v1/cloud-distribution-point/refresh-inventory", false})
		}
		// On 11.5+ a refused JCDS upload falls back to the packages route
		// (DecideRoute), so there Create JCDS Files is not fatal.
		return append(list,
			Need{jamf.PrivReadJCDS, StepListJCDS, "GET /api/v1/jcds/files", true},
			Need{jamf.PrivCreateJCDS, StepCreateJCDS, "POST /api/v1/jcds/files", !v.ModernPackages()},
			Need{jamf.PrivDeleteJCDS, StepDeleteJCDS, "DELETE /api/v1/jcds/files/{fileName}", false})
	}
	return nil
}
