package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// A server whose clock is five minutes behind: the simulator behind a
// proxy that rewrites the Date header of every answer.
func TestClockSkewIsAWarning(t *testing.T) {
	sim, err := jamfsim.New(jamfsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	target, _ := url.Parse(sim.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		r.Header.Set("Date", time.Now().Add(-5*time.Minute).UTC().Format(http.TimeFormat))
		return nil
	}
	front := httptest.NewServer(proxy)
	defer front.Close()
	t.Setenv("CLIENT_ID", jamfsim.DefaultClientID)
	t.Setenv("CLIENT_SECRET", jamfsim.DefaultClientSecret)

	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"--url", front.URL, "--json"}, &out, &errb)
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s\n%s", err, out.Bytes(), errb.Bytes())
	}
	if code != 0 || !rep.Verdict.OK {
		t.Fatalf("a skewed clock is a warning, not a failure: exit %d\n%s", code, out.Bytes())
	}
	for _, c := range rep.Checks {
		if c.Check == "clock" {
			if c.Status != Warn || !strings.Contains(c.Detail, "5m0s ahead of Jamf Pro's") {
				t.Fatalf("clock: %+v", c)
			}
			return
		}
	}
	t.Fatalf("no clock check in %s", out.Bytes())
}
