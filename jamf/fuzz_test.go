package jamf

import (
	"encoding/json"
	"testing"
)

// The JSON and error decoders meet whatever a server (or something
// pretending to be one) sends; none may panic.

func FuzzParseAPIError(f *testing.F) {
	f.Add(401, []byte(`{"httpStatus" : 401, "errors" : [ { "code" : "INVALID_TOKEN", "description" : "Unauthorized", "id" : "0", "field" : null } ]}`))
	f.Add(400, []byte(`{"error":"invalid_client","error_description":"bad"}`))
	f.Add(409, []byte(`<html><body><h3>Conflict</h3><p>Error: Duplicate name</p></body></html>`))
	f.Add(500, []byte(`{"errors":[{}]}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseAPIError("GET", "/x", status, body)
		_ = e.Error()
	})
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`[{"fileName":"a.pkg","length":1,"md5":"x","region":"us-east-1","sha3":"y"}]`))
	f.Add([]byte(`{"accessKeyID":"a","secretAccessKey":"b","sessionToken":"c","expiration":1678386302,"bucketName":"d","path":"tmp/u/","uuid":"u"}`))
	f.Add([]byte(`{"totalCount":1,"results":[{"id":"1","packageName":"p","fileName":"f","priority":10}]}`))
	f.Add([]byte(`{"version":"11.30.1-t1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var files []FileData
		decodeJSON(data, &files, "list")
		var cr JCDSCredentials
		decodeJSON(data, &cr, "creds")
		var pk Package
		decodeJSON(data, &pk, "package")
		var v struct{ Version string }
		if json.Unmarshal(data, &v) == nil {
			parseVersion(v.Version)
		}
	})
}
