package jamf

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Package is the Jamf Pro API package record, as read.
type Package struct {
	ID                  string  `json:"id,omitempty"`
	PackageName         string  `json:"packageName"`
	FileName            string  `json:"fileName"`
	CategoryID          string  `json:"categoryId"`
	Priority            int     `json:"priority"`
	HashType            *string `json:"hashType"`
	HashValue           *string `json:"hashValue"`
	MD5                 *string `json:"md5,omitempty"`
	SHA256              *string `json:"sha256,omitempty"`
	SHA3512             *string `json:"sha3512,omitempty"`
	Size                *string `json:"size,omitempty"`
	CloudTransferStatus string  `json:"cloudTransferStatus,omitempty"`
	// Raw holds every field as read: the base of a merge update, so what
	// an admin set by hand survives.
	Raw map[string]any `json:"-"`
}

// Deref reads an optional string field.
func Deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// serverManaged are the fields Jamf Pro computes. A client that echoes
// them back risks overwriting the server's truth (and a PUT blanks size
// whatever is sent; section 13 of the reference).
var serverManaged = []string{"id", "size", "md5", "sha256", "sha3512", "cloudTransferStatus", "indexed"}

func clientFields(fields map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		out[k] = v
	}
	for _, k := range serverManaged {
		delete(out, k)
	}
	return out
}

// FindPackages returns every record whose fileName is name or whose
// packageName is display, as the server matches them (one RSQL request
// per page, all pages). The caller decides which is its record.
func (c *Client) FindPackages(ctx context.Context, name, display string) ([]Package, error) {
	filter := "fileName==" + rsqlQuote(name)
	if display != "" {
		filter += " or packageName==" + rsqlQuote(display)
	}
	return c.findPackages(ctx, filter, name)
}

// PackagesByFileName returns the records naming any of the files.
func (c *Client) PackagesByFileName(ctx context.Context, names []string) ([]Package, error) {
	if len(names) == 0 {
		return nil, nil
	}
	var parts []string
	for _, n := range names {
		parts = append(parts, "fileName=="+rsqlQuote(n))
	}
	return c.findPackages(ctx, strings.Join(parts, " or "), names[0])
}

func (c *Client) findPackages(ctx context.Context, filter, what string) ([]Package, error) {
	var all []Package
	for page := 0; ; page++ {
		var out struct {
			TotalCount int               `json:"totalCount"`
			Results    []json.RawMessage `json:"results"`
		}
		q := url.Values{"page": {strconv.Itoa(page)}, "page-size": {"100"}, "sort": {"id:asc"}}
		if filter != "" {
			q.Set("filter", filter)
		}
		if err := c.getJSON(ctx, "/api/v1/packages?"+q.Encode(), &out); err != nil {
			return nil, fmt.Errorf("looking up package %q: %w", what, err)
		}
		for _, raw := range out.Results {
			p, err := decodePackage(raw)
			if err != nil {
				return nil, fmt.Errorf("looking up package %q: %w", what, err)
			}
			all = append(all, *p)
		}
		if len(out.Results) == 0 || (page+1)*100 >= out.TotalCount {
			return all, nil
		}
	}
}

func decodePackage(raw []byte) (*Package, error) {
	var p Package
	if err := decodeJSON(raw, &p, "a package record"); err != nil {
		return nil, err
	}
	json.Unmarshal(raw, &p.Raw)
	return &p, nil
}

// rsqlQuote quotes a value for an RSQL filter.
func rsqlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// GetPackage returns one record.
func (c *Client) GetPackage(ctx context.Context, id string) (*Package, error) {
	a, err := c.send.do(ctx, &call{method: "GET", path: "/api/v1/packages/" + PathEscape(id)})
	if err != nil {
		return nil, fmt.Errorf("reading package %s: %w", id, err)
	}
	return decodePackage(a.body)
}

// CreatePackage posts a new record and returns its id.
func (c *Client) CreatePackage(ctx context.Context, fields map[string]any) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if err := c.sendJSON(ctx, "POST", "/api/v1/packages", clientFields(fields), &out); err != nil {
		return "", fmt.Errorf("creating the package record: %w", err)
	}
	if out.ID == "" {
		return "", fmt.Errorf("creating the package record: Jamf Pro returned no id")
	}
	return out.ID, nil
}

// UpdatePackage puts a whole record, without the server-managed fields.
func (c *Client) UpdatePackage(ctx context.Context, id string, fields map[string]any) error {
	if err := c.sendJSON(ctx, "PUT", "/api/v1/packages/"+PathEscape(id), clientFields(fields), nil); err != nil {
		return fmt.Errorf("updating package record %s: %w", id, err)
	}
	return nil
}

// DeletePackage deletes a record (and, on Jamf Cloud, its file).
func (c *Client) DeletePackage(ctx context.Context, id string) error {
	_, err := c.send.do(ctx, &call{method: "DELETE", path: "/api/v1/packages/" + PathEscape(id), expect: []int{200, 204, 404}})
	if err != nil {
		return fmt.Errorf("deleting package record %s: %w", id, err)
	}
	return nil
}

// UploadPackage streams a file of size bytes to POST
// /api/v1/packages/{id}/upload as header + file + footer with an exact
// Content-Length, as jamf-cli does; open is called again for each try.
func (c *Client) UploadPackage(ctx context.Context, id, fileName string, size int64, open func() (io.ReadCloser, error)) error {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	if _, err := mw.CreateFormFile("file", fileName); err != nil {
		return fmt.Errorf("building the upload body: %w", err)
	}
	headLen := head.Len()
	if err := mw.Close(); err != nil {
		return fmt.Errorf("building the upload body: %w", err)
	}
	tail := bytes.Clone(head.Bytes()[headLen:])
	head.Truncate(headLen)
	stream := func() (io.ReadCloser, int64, error) {
		rc, err := open()
		if err != nil {
			return nil, 0, err
		}
		rd := io.MultiReader(bytes.NewReader(head.Bytes()), rc, bytes.NewReader(tail))
		return readCloser{rd, rc}, int64(head.Len()) + size + int64(len(tail)), nil
	}
	// No short deadline on a big upload (Terraform issue #613 was one):
	// at least 10 minutes, and no slower than 256 KiB/s on average.
	timeout := max(10*time.Minute, c.timeout, time.Duration(size/(256<<10))*time.Second)
	_, err := c.send.do(ctx, &call{method: "POST", path: "/api/v1/packages/" + PathEscape(id) + "/upload",
		stream: stream, contentType: mw.FormDataContentType(), timeout: timeout})
	if err != nil {
		return fmt.Errorf("uploading %s: %w", fileName, err)
	}
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// CategoryNotFoundError is a category name Jamf Pro does not know.
type CategoryNotFoundError struct{ Name string }

func (e *CategoryNotFoundError) Error() string {
	return fmt.Sprintf("category %q does not exist in Jamf Pro: create it first (e.g. with JamfCategoryUploader) or fix the name", e.Name)
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
	for _, r := range out.Results {
		if strings.EqualFold(r.Name, name) {
			return r.ID, nil
		}
	}
	return "", &CategoryNotFoundError{Name: name}
}
