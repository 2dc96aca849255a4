package jcds2

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ServerVersion is Jamf Pro's version, e.g. 11.30.1.
type ServerVersion struct {
	Raw                 string
	Major, Minor, Patch int
}

// AtLeast compares major.minor.
func (v ServerVersion) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

func parseVersion(raw string) (ServerVersion, error) {
	v := ServerVersion{Raw: raw}
	core, _, _ := strings.Cut(raw, "-")
	parts := strings.Split(core, ".")
	nums := []*int{&v.Major, &v.Minor, &v.Patch}
	for i := 0; i < len(parts) && i < 3; i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return v, fmt.Errorf("Jamf Pro version %q is not a version number", raw)
		}
		*nums[i] = n
	}
	if len(parts) < 2 {
		return v, fmt.Errorf("Jamf Pro version %q is not a version number", raw)
	}
	return v, nil
}

// Version asks GET /api/v1/jamf-pro-version.
func (c *Client) Version(ctx context.Context) (ServerVersion, error) {
	var out struct {
		Version string `json:"version"`
	}
	if err := c.getJSON(ctx, "/api/v1/jamf-pro-version", &out); err != nil {
		return ServerVersion{}, fmt.Errorf("asking the Jamf Pro version: %w", err)
	}
	return parseVersion(out.Version)
}

// FileData is one JCDS file (GET /api/v1/jcds/files).
type FileData struct {
	FileName string `json:"fileName"`
	Length   int64  `json:"length"`
	MD5      string `json:"md5"`
	Region   string `json:"region"`
	SHA3     string `json:"sha3"`
}

// JCDSCredentials are the temporary S3 credentials from POST /api/v1/jcds/files.
type JCDSCredentials struct {
	AccessKeyID     string `json:"accessKeyID"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	Region          string `json:"region"`
	Expiration      int64  `json:"expiration"`
	BucketName      string `json:"bucketName"`
	Path            string `json:"path"`
	UUID            string `json:"uuid"`
}

// ListJCDS lists the JCDS files. ok is false when the server has no
// JCDS 2.0 (Jamf answers 400, 404, 409 or 500 there).
func (c *Client) ListJCDS(ctx context.Context) (files []FileData, ok bool, err error) {
	// 400, 404, 409 and 501 are an answer: a server without JCDS 2.0
	// gives them every time. So is a 500 that comes twice (JamfSync's
	// test); a single 500 is a fault, and the second try gets through.
	data, status, err := c.do(ctx, call{method: "GET", path: "/api/v1/jcds/files", expect: []int{200, 400, 404, 409, 501}, tries: min(c.maxTries, 2)})
	if IsStatus(err, 500) {
		status, err = 500, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("listing JCDS files: %w", err)
	}
	if status != 200 {
		c.log.Logf(1, "GET /api/v1/jcds/files answered %d: no JCDS 2.0 here", status)
		return nil, false, nil
	}
	if err := decodeJSON(data, &files, "GET /api/v1/jcds/files"); err != nil {
		return nil, false, err
	}
	return files, true, nil
}

func (c *Client) newJCDSUpload(ctx context.Context) (*JCDSCredentials, error) {
	var cr JCDSCredentials
	if err := c.sendJSON(ctx, "POST", "/api/v1/jcds/files", nil, &cr); err != nil {
		return nil, fmt.Errorf("asking JCDS for upload credentials: %w", err)
	}
	return c.checkCreds(&cr, "POST /api/v1/jcds/files")
}

func (c *Client) renewJCDS(ctx context.Context) (*JCDSCredentials, error) {
	var cr JCDSCredentials
	if err := c.sendJSON(ctx, "POST", "/api/v1/jcds/renew-credentials", nil, &cr); err != nil {
		return nil, fmt.Errorf("renewing JCDS upload credentials: %w", err)
	}
	return c.checkCreds(&cr, "POST /api/v1/jcds/renew-credentials")
}

func (c *Client) checkCreds(cr *JCDSCredentials, what string) (*JCDSCredentials, error) {
	c.log.Secret(cr.SecretAccessKey)
	c.log.Secret(cr.SessionToken)
	c.log.Secret(cr.AccessKeyID)
	if cr.AccessKeyID == "" || cr.SecretAccessKey == "" || cr.BucketName == "" {
		return nil, fmt.Errorf("%s: the answer lacks accessKeyID, secretAccessKey or bucketName", what)
	}
	return cr, nil
}

// DeleteJCDS deletes one JCDS file; a missing file is not an error.
func (c *Client) DeleteJCDS(ctx context.Context, name string) error {
	_, _, err := c.do(ctx, call{method: "DELETE", path: "/api/v1/jcds/files/" + url.PathEscape(name), expect: []int{200, 204, 404}})
	if err != nil {
		return fmt.Errorf("deleting JCDS file %q: %w", name, err)
	}
	return nil
}

// RefreshInventory asks Jamf Pro to look at the distribution point: the
// cloud-distribution-point endpoint on 11.24+, the JCDS one before.
func (c *Client) RefreshInventory(ctx context.Context, v ServerVersion, fileName string) error {
	path := "/api/v1/jcds/refresh-inventory"
	if v.AtLeast(11, 24) {
		path = "/api/v1/cloud-distribution-point/refresh-inventory"
	}
	if fileName != "" {
		path += "?file-name=" + url.QueryEscape(fileName)
	}
	_, _, err := c.do(ctx, call{method: "POST", path: path})
	return err
}

// Package is the Jamf Pro API package record. Fields we do not set are
// carried through raw on update, so an admin's settings survive.
type Package struct {
	ID                   string  `json:"id,omitempty"`
	PackageName          string  `json:"packageName"`
	FileName             string  `json:"fileName"`
	CategoryID           string  `json:"categoryId"`
	Info                 *string `json:"info"`
	Notes                *string `json:"notes"`
	Priority             int     `json:"priority"`
	OSRequirements       *string `json:"osRequirements"`
	FillUserTemplate     bool    `json:"fillUserTemplate"`
	RebootRequired       bool    `json:"rebootRequired"`
	OSInstall            bool    `json:"osInstall"`
	SuppressUpdates      bool    `json:"suppressUpdates"`
	SuppressFromDock     bool    `json:"suppressFromDock"`
	SuppressEula         bool    `json:"suppressEula"`
	SuppressRegistration bool    `json:"suppressRegistration"`
	HashType             *string `json:"hashType"`
	HashValue            *string `json:"hashValue"`
	MD5                  *string `json:"md5,omitempty"`
	SHA3512              *string `json:"sha3512,omitempty"`
	CloudTransferStatus  string  `json:"cloudTransferStatus,omitempty"`
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// FindPackage finds the record whose fileName is name, else the one whose
// packageName is display, across all pages, exact match only. It also
// returns the record's raw fields, the base of a merge update.
func (c *Client) FindPackage(ctx context.Context, name, display string) (*Package, map[string]any, error) {
	filter := fmt.Sprintf(`fileName==%s or packageName==%s`, rsqlQuote(name), rsqlQuote(display))
	var byName *Package
	var byNameRaw map[string]any
	for page := 0; ; page++ {
		var out struct {
			TotalCount int               `json:"totalCount"`
			Results    []json.RawMessage `json:"results"`
		}
		q := url.Values{"page": {strconv.Itoa(page)}, "page-size": {"100"}, "sort": {"id:asc"}, "filter": {filter}}
		if err := c.getJSON(ctx, "/api/v1/packages?"+q.Encode(), &out); err != nil {
			return nil, nil, fmt.Errorf("looking up package %q: %w", name, err)
		}
		for _, raw := range out.Results {
			var p Package
			var fields map[string]any
			if err := decodeJSON(raw, &p, "GET /api/v1/packages"); err != nil {
				return nil, nil, fmt.Errorf("looking up package %q: %w", name, err)
			}
			json.Unmarshal(raw, &fields)
			if p.FileName == name {
				return &p, fields, nil
			}
			if byName == nil && p.PackageName == display {
				byName, byNameRaw = &p, fields
			}
		}
		if len(out.Results) == 0 || (page+1)*100 >= out.TotalCount {
			return byName, byNameRaw, nil
		}
	}
}

// rsqlQuote quotes a value for an RSQL filter.
func rsqlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// GetPackage returns one record.
func (c *Client) GetPackage(ctx context.Context, id string) (*Package, error) {
	var out Package
	if err := c.getJSON(ctx, "/api/v1/packages/"+url.PathEscape(id), &out); err != nil {
		return nil, fmt.Errorf("reading package %s: %w", id, err)
	}
	return &out, nil
}

// CreatePackage posts a new record and returns its id.
func (c *Client) CreatePackage(ctx context.Context, body any) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if err := c.sendJSON(ctx, "POST", "/api/v1/packages", body, &out); err != nil {
		return "", fmt.Errorf("creating the package record: %w", err)
	}
	if out.ID == "" {
		return "", fmt.Errorf("creating the package record: Jamf Pro returned no id")
	}
	return out.ID, nil
}

// UpdatePackage puts a whole record.
func (c *Client) UpdatePackage(ctx context.Context, id string, body any) error {
	if err := c.sendJSON(ctx, "PUT", "/api/v1/packages/"+url.PathEscape(id), body, nil); err != nil {
		return fmt.Errorf("updating package record %s: %w", id, err)
	}
	return nil
}

// DeletePackage deletes a record (and, on Jamf Cloud, its file).
func (c *Client) DeletePackage(ctx context.Context, id string) error {
	_, _, err := c.do(ctx, call{method: "DELETE", path: "/api/v1/packages/" + url.PathEscape(id), expect: []int{200, 204, 404}})
	return err
}

// CategoryID resolves a category name to its id; "" means no category.
func (c *Client) CategoryID(ctx context.Context, name string) (string, error) {
	if name == "" {
		return "-1", nil
	}
	q := url.Values{"page": {"0"}, "page-size": {"100"}, "sort": {"id:asc"}, "filter": {"name==" + rsqlQuote(name)}}
	var out struct {
		Results []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"results"`
	}
	if err := c.getJSON(ctx, "/api/v1/categories?"+q.Encode(), &out); err != nil {
		return "", fmt.Errorf("looking up category %q: %w", name, err)
	}
	for _, r := range out.Results {
		if r.Name == name {
			return r.ID, nil
		}
	}
	return "", missingCategory(name)
}

func missingCategory(name string) error {
	return fmt.Errorf("pkg_category %q does not exist in Jamf Pro: create it first (e.g. with JamfCategoryUploader) or fix the name", name)
}
