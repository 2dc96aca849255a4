package jamf

import (
	"context"
	"errors"
	"fmt"
)

// Privileges the package lifecycle (prune, audit) needs, as Jamf's
// OpenAPI files name them in x-required-privileges (Packages.yaml,
// PatchSoftwareTitleConfigurations.yaml, ComputerPrestagesV3.yaml; the
// Classic policies by the Classic API's privilege list).
const (
	PrivReadPackages    = "Read Packages"
	PrivDeletePackages  = "Delete Packages"
	PrivReadPolicies    = "Read Policies"
	PrivReadPatchTitles = "Read Patch Management Software Titles"
	PrivReadPreStages   = "Read Computer PreStage Enrollments"
)

// PrivilegeError is a 403: Jamf Pro refused a request that needs
// Privilege (Jamf's own name for it). The edge says where to add it.
type PrivilegeError struct {
	Privilege string
	Step      string // what the run was doing
	Err       error
}

func (e *PrivilegeError) Error() string {
	var ae *APIError
	if errors.As(e.Err, &ae) {
		return fmt.Sprintf("%s: Jamf Pro answered 403 to %s %s: the account lacks the %q privilege", e.Step, ae.Method, pathOnly(ae.Path), e.Privilege)
	}
	return fmt.Sprintf("%s: the account lacks the %q privilege (%v)", e.Step, e.Privilege, e.Err)
}

func (e *PrivilegeError) Unwrap() error { return e.Err }

// MissingPrivilege reports the privilege a refused request needed, from
// a PrivilegeError or a JCDS refusal (NoJCDSError with a Privilege).
func MissingPrivilege(err error) (string, bool) {
	var pe *PrivilegeError
	if errors.As(err, &pe) {
		return pe.Privilege, true
	}
	var no *NoJCDSError
	if errors.As(err, &no) && no.Privilege != "" {
		return no.Privilege, true
	}
	return "", false
}

// forbidden turns a 403 into a PrivilegeError naming privilege; other
// errors are wrapped with step.
func forbidden(err error, privilege, step string) error {
	if err == nil {
		return nil
	}
	if IsStatus(err, 403) {
		return &PrivilegeError{Privilege: privilege, Step: step, Err: err}
	}
	return fmt.Errorf("%s: %w", step, err)
}

// The delete probes ask for a delete of what cannot exist, so a role
// without the privilege is found before anything is deleted (a prune
// that removed a package's copies and then met a 403 on its record
// would leave a record whose file is gone). Jamf Pro checks an
// endpoint's privilege before it looks the object up, as JamfSync's
// JCDS probe relies on for reads (GET of a missing file: 404 where the
// role may read, 403 where it may not); a missing object is 404 (or,
// on some versions, 204) and both mean the privilege is there.

// probeFile is a JCDS file name no upload makes (the read probe's).
const probeFile = "jcds2-uploader-probe-nonexistent.pkg"

// CanDeleteJCDS probes DELETE /api/v1/jcds/files/{name} with a file that
// is not there: a PrivilegeError on 403, else nil.
func (c *Client) CanDeleteJCDS(ctx context.Context) error {
	return c.probeDelete(ctx, "/api/v1/jcds/files/"+PathEscape(probeFile), PrivDeleteJCDS, "checking that JCDS files may be deleted")
}

// CanDeletePackages probes DELETE /api/v1/packages/0: Jamf Pro's ids
// start at 1, so 0 names no record.
func (c *Client) CanDeletePackages(ctx context.Context) error {
	return c.probeDelete(ctx, "/api/v1/packages/0", PrivDeletePackages, "checking that package records may be deleted")
}

// probeDelete sends one probe. Only a 403 is an answer about the
// privilege; whatever else the server says of a missing object (404,
// 400 for an id it will not parse, 500) means it got past the privilege
// check, and any other failure (the network) is met again, and
// reported, by the deletes themselves.
func (c *Client) probeDelete(ctx context.Context, path, privilege, step string) error {
	_, err := c.send.do(ctx, &call{method: "DELETE", path: path, expect: []int{200, 204, 404}})
	if IsStatus(err, 403) {
		return &PrivilegeError{Privilege: privilege, Step: step, Err: err}
	}
	return nil
}
