package jamfsim

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The fixture testdata/jamf-schema.json is derived from Jamf's OpenAPI
// excerpts in ../shared/reference/openapi: for each endpoint the
// simulator serves, its documented statuses and the shape (field names
// and types) of each response body. Regenerate it with
//
//	go test ./jamfsim -run TestSchemaFixture -update-schema
//
// The tests only read the fixture, so they pass without ../shared.

var updateSchema = flag.Bool("update-schema", false, "regenerate testdata/jamf-schema.json from ../shared")

const schemaFixture = "testdata/jamf-schema.json"

// endpoint is one operation in the fixture.
type endpoint struct {
	Statuses []string       `json:"statuses"`
	Bodies   map[string]any `json:"bodies,omitempty"`
	Versions []string       `json:"versions"`
}

var fixtureOps = []string{
	"POST /v1/auth/token", "POST /v1/oauth/token", "POST /v1/auth/keep-alive", "POST /v1/auth/invalidate-token", "GET /v1/auth",
	"GET /v1/jamf-pro-version",
	"GET /v1/jcds/files", "POST /v1/jcds/files", "POST /v1/jcds/renew-credentials", "GET /v1/jcds/files/{fileName}",
	"DELETE /v1/jcds/files/{fileName}", "POST /v1/jcds/refresh-inventory", "POST /v1/cloud-distribution-point/refresh-inventory",
	"GET /v1/packages", "POST /v1/packages", "GET /v1/packages/{id}", "PUT /v1/packages/{id}", "DELETE /v1/packages/{id}",
	"POST /v1/packages/{id}/upload", "GET /v1/categories", "POST /v1/categories",
	"GET /v1/cloud-distribution-point", "GET /v1/cloud-distribution-point/upload-capability",
	"GET /v1/cloud-distribution-point/files",
}

func TestSchemaFixture(t *testing.T) {
	if !*updateSchema {
		if _, err := os.Stat(schemaFixture); err != nil {
			t.Fatalf("%s missing: regenerate with -update-schema", schemaFixture)
		}
		return
	}
	dir := filepath.Join("..", "..", "shared", "reference", "openapi")
	out := map[string]*endpoint{}
	for _, v := range []string{"11.23.2", "11.30.1"} {
		data, err := os.ReadFile(filepath.Join(dir, "jamf-pro-api-"+v+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
		paths := doc["paths"].(map[string]any)
		for _, op := range fixtureOps {
			method, p, _ := strings.Cut(op, " ")
			item, ok := paths[p].(map[string]any)
			if !ok {
				continue
			}
			o, ok := item[strings.ToLower(method)].(map[string]any)
			if !ok {
				continue
			}
			e := out[op]
			if e == nil {
				e = &endpoint{Bodies: map[string]any{}}
				out[op] = e
			}
			e.Versions = append(e.Versions, v)
			for status, resp := range o["responses"].(map[string]any) {
				if !contains(e.Statuses, status) {
					e.Statuses = append(e.Statuses, status)
				}
				content, _ := resp.(map[string]any)["content"].(map[string]any)
				for _, ct := range content {
					if sch, ok := ct.(map[string]any)["schema"]; ok {
						e.Bodies[status] = shapeOf(sch, schemas, 0)
					}
				}
			}
			sort.Strings(e.Statuses)
		}
	}
	data, _ := json.MarshalIndent(out, "", " ")
	if err := os.WriteFile(schemaFixture, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// shapeOf reduces a schema to a shape: a type name ("string", "string?"
// when nullable), a map of field shapes (key "*" for additionalProperties:
// any other key, of that shape), or a one-element list for arrays.
func shapeOf(s any, schemas map[string]any, depth int) any {
	m, _ := s.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		return shapeOf(schemas[strings.TrimPrefix(ref, "#/components/schemas/")], schemas, depth)
	}
	if all, ok := m["allOf"].([]any); ok {
		merged := map[string]any{}
		for _, a := range all {
			if sub, ok := shapeOf(a, schemas, depth).(map[string]any); ok {
				for k, v := range sub {
					merged[k] = v
				}
			}
		}
		return merged
	}
	typ, _ := m["type"].(string)
	switch {
	case typ == "array":
		if depth > 3 {
			return []any{"any"}
		}
		return []any{shapeOf(m["items"], schemas, depth+1)}
	case typ == "object" || m["properties"] != nil:
		props, _ := m["properties"].(map[string]any)
		out := map[string]any{}
		for k, v := range props {
			if depth > 3 {
				out[k] = "any"
				continue
			}
			out[k] = shapeOf(v, schemas, depth+1)
		}
		if extra, ok := m["additionalProperties"].(map[string]any); ok {
			out["*"] = shapeOf(extra, schemas, depth+1)
		}
		return out
	}
	if typ == "" {
		typ = "any"
	}
	if n, _ := m["nullable"].(bool); n {
		typ += "?"
	}
	return typ
}

// loadFixture reads the committed fixture.
func loadFixture(t *testing.T) map[string]endpoint {
	t.Helper()
	data, err := os.ReadFile(schemaFixture)
	if err != nil {
		t.Fatalf("%v (regenerate with -update-schema)", err)
	}
	var f map[string]endpoint
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// conform checks that v has the shape: no field the schema lacks, and
// every field of the right JSON type.
func conform(v any, shape any, at string) error {
	switch sh := shape.(type) {
	case string:
		nullable := strings.HasSuffix(sh, "?")
		typ := strings.TrimSuffix(sh, "?")
		if v == nil {
			// Jamf serialises unset optional fields as null.
			return nil
		}
		_ = nullable
		ok := false
		switch typ {
		case "any":
			ok = true
		case "string":
			_, ok = v.(string)
		case "integer":
			f, isNum := v.(float64)
			ok = isNum && f == float64(int64(f))
		case "number":
			_, ok = v.(float64)
		case "boolean":
			_, ok = v.(bool)
		}
		if !ok {
			return fmt.Errorf("%s: %v (%T) is not %s", at, v, v, typ)
		}
	case []any:
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: %T is not an array", at, v)
		}
		for i, e := range arr {
			if err := conform(e, sh[0], fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case map[string]any:
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T is not an object", at, v)
		}
		for k, e := range obj {
			fs, ok := sh[k]
			if !ok {
				fs, ok = sh["*"]
			}
			if !ok {
				return fmt.Errorf("%s: field %q is not in the schema", at, k)
			}
			if err := conform(e, fs, at+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}
