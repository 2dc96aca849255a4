package jamfsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"
)

// pkgJSON is a package record body with every required field; extra is
// more "key": value JSON members, e.g. `"size":"9KB"`.
func pkgJSON(name, file, extra string) string {
	body := fmt.Sprintf(`{"packageName":%q,"fileName":%q,"categoryId":"-1","priority":10,"fillUserTemplate":false,"rebootRequired":false,"osInstall":false,"suppressUpdates":false,"suppressFromDock":false,"suppressEula":false,"suppressRegistration":false`, name, file)
	if extra != "" {
		body += "," + extra
	}
	return body + "}"
}

// createPackage posts a record and returns its id.
func (c *client) createPackage(name, file, extra string) string {
	c.t.Helper()
	st, body, _ := c.do("POST", "/api/v1/packages", strings.NewReader(pkgJSON(name, file, extra)), "Content-Type", "application/json")
	if st != 201 {
		c.t.Fatalf("creating %s: %d %s", name, st, body)
	}
	var out struct{ ID string }
	json.Unmarshal(body, &out)
	return out.ID
}

// record reads a package record as a client sees it.
func (c *client) record(id string) map[string]any {
	c.t.Helper()
	st, body, _ := c.do("GET", "/api/v1/packages/"+id, nil)
	if st != 200 {
		c.t.Fatalf("reading package %s: %d %s", id, st, body)
	}
	var p map[string]any
	json.Unmarshal(body, &p)
	return p
}

// uploadFile sends data through the packages route.
func (c *client) uploadFile(id, fileName string, data []byte) (int, []byte) {
	c.t.Helper()
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", fileName)
	fw.Write(data)
	mw.Close()
	st, body, _ := c.do("POST", "/api/v1/packages/"+id+"/upload", bytes.NewReader(mp.Bytes()), "Content-Type", mw.FormDataContentType())
	return st, body
}

// refresh asks the cloud distribution point route for an inventory
// refresh of fileName ("" for all).
func (c *client) refresh(fileName string) {
	c.t.Helper()
	path := "/api/v1/cloud-distribution-point/refresh-inventory"
	if fileName != "" {
		path += "?file-name=" + url.QueryEscape(fileName)
	}
	if st, body, _ := c.do("POST", path, nil); st != 204 {
		c.t.Fatalf("refresh-inventory: %d %s", st, body)
	}
}

// jcdsUpload puts data at name through a JCDS upload session.
func (c *client) jcdsUpload(name string, data []byte) {
	c.t.Helper()
	cr := newUpload(c.t, c, loadFixture(c.t))
	if err := put(c.t, c.s, cr, cr["path"].(string)+name, data); err != nil {
		c.t.Fatal(err)
	}
}

func sha3Of(t *testing.T, data []byte) string {
	t.Helper()
	d, err := digest(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return d.SHA3
}

// str reads a string field of a decoded record ("<nil>" for null).
func str(p map[string]any, field string) string {
	if v, ok := p[field].(string); ok {
		return v
	}
	return fmt.Sprint(p[field])
}
