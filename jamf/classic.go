package jamf

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/jcds2-uploader/jcds2-uploader/classicxml"
)

// The Classic API route, for servers before 11.5 that lack the Jamf Pro
// API packages endpoints. Category is given by name there.

// ClassicFindPackage reads /JSSResource/packages/name/{name}; nil when absent.
func (c *Client) ClassicFindPackage(ctx context.Context, name string) (*classicxml.Package, error) {
	a, err := c.send.do(ctx, &call{method: "GET", path: "/JSSResource/packages/name/" + PathEscape(name), accept: "application/xml"})
	if IsStatus(err, 404) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up package %q: %w", name, err)
	}
	p, err := classicxml.Decode(a.body)
	if err != nil {
		return nil, fmt.Errorf("looking up package %q: %w", name, err)
	}
	return p, nil
}

// ClassicCategoryExists checks /JSSResource/categories/name/{name}.
func (c *Client) ClassicCategoryExists(ctx context.Context, name string) error {
	_, err := c.send.do(ctx, &call{method: "GET", path: "/JSSResource/categories/name/" + PathEscape(name), accept: "application/xml"})
	if IsStatus(err, 404) {
		return &CategoryNotFoundError{Name: name}
	}
	if err != nil {
		return fmt.Errorf("looking up category %q: %w", name, err)
	}
	return nil
}

// ClassicSave creates (id 0) or updates a package and returns its id.
func (c *Client) ClassicSave(ctx context.Context, id int, p *classicxml.Package) (int, error) {
	body, err := classicxml.Encode(p)
	if err != nil {
		return 0, err
	}
	method := "PUT"
	if id == 0 {
		method = "POST"
	}
	a, err := c.send.do(ctx, &call{method: method, path: "/JSSResource/packages/id/" + strconv.Itoa(id), body: body, contentType: "application/xml", accept: "application/xml"})
	if err != nil {
		return 0, fmt.Errorf("saving package %q: %w", p.Name, err)
	}
	newID, err := classicxml.DecodeID(bytes.NewReader(a.body))
	if err != nil {
		return 0, fmt.Errorf("saving package %q: %w", p.Name, err)
	}
	return newID, nil
}
