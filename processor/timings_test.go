package processor

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

type timedUploader struct{ res *jcds2.Result }

func (u timedUploader) Upload(ctx context.Context, req *jcds2.Request, log jcds2.Logger) (*jcds2.Result, error) {
	r := *u.res
	r.PkgName = req.PkgName
	return &r, nil
}

// The pkg command's --json view carries the run's timings, each wait
// for Jamf Pro as the client timed it; processor mode's outputs do not.
func TestJSONViewHasTimings(t *testing.T) {
	for _, k := range []string{"JSS_URL", "CLIENT_ID", "CLIENT_SECRET", "API_USERNAME", "API_PASSWORD", "BEARER_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("JSS_URL", "https://example.jamfcloud.com")
	t.Setenv("CLIENT_ID", "3d5b9b8a-0c6e-4f57-a2a1-8c0e5c2f0a11")
	t.Setenv("CLIENT_SECRET", "a-client-secret-for-tests")
	pkg := filepath.Join(t.TempDir(), "Timed.pkg")
	if err := os.WriteFile(pkg, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	up := timedUploader{&jcds2.Result{Uploaded: true, Status: "uploaded, verified", HTTPCalls: 11,
		Elapsed: 7629 * time.Millisecond, Uploading: 3012 * time.Millisecond,
		Waits: []jcds2.Wait{{What: "JCDS to process the upload", Took: 4500 * time.Millisecond, Requests: 1}, {What: "Jamf Pro to make the record READY", Took: 2 * time.Millisecond, Requests: 1}}}}
	var stdout, stderr bytes.Buffer
	if code := RunCLI(context.Background(), up, []string{"--pkg", pkg, "--json", "--key", "RECIPE_CACHE_DIR=" + t.TempDir()}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var view struct {
		Status  string `json:"pkg_upload_status"`
		Timings struct {
			Waits []struct {
				For      string
				Seconds  float64
				Requests int
			}
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &view); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	var raw map[string]map[string]any
	json.Unmarshal(stdout.Bytes(), &raw)
	tm := raw["timings"]
	if view.Status != "uploaded, verified" || tm["seconds"] != 7.629 || tm["uploading_seconds"] != 3.012 || tm["waiting_seconds"] != 4.502 || tm["http_requests"] != 11.0 {
		t.Fatalf("timings: %v", tm)
	}
	if w := view.Timings.Waits; len(w) != 2 || w[0].For != "JCDS to process the upload" || w[0].Seconds != 4.5 || w[0].Requests != 1 {
		t.Fatalf("waits: %+v", w)
	}
	env := Env{}
	SetOutputs(env, &jcds2.Request{}, up.res)
	for k := range env {
		if k == "timings" {
			t.Fatal("timings must not be an AutoPkg output")
		}
	}
}
