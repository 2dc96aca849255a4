package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// The fault suite: every step of a new upload meets the failures Jamf
// Cloud and S3 produce. Transient ones are survived within max_tries;
// permanent ones fail at once with a clear message. Afterwards the
// simulator holds exactly one record and one file with the right hash,
// or exactly what it held before, and no unfinished multipart upload.
// Each case runs at a different verbosity, and every run's output is
// searched for secrets (see runEnv).

var jamfSteps = []string{
	"POST /api/v1/oauth/token",
	"GET /api/v1/jamf-pro-version",
	"GET /api/v1/jcds/files",
	"GET /api/v1/packages",
	"GET /api/v1/categories",
	"POST /api/v1/jcds/files",
	"POST /api/v1/cloud-distribution-point/refresh-inventory",
	"POST /api/v1/packages",
}

type faultCase struct {
	name   string
	inject func(sim *jamfsim.Server)
	// permanent: the run must fail at once with this in its message.
	permanent string
}

func transientFaults() []faultCase {
	var cases []faultCase
	for _, step := range jamfSteps {
		step := step
		for _, status := range []int{500, 502, 503, 504} {
			cases = append(cases, faultCase{name: fmt.Sprintf("%d on %s", status, step), inject: func(s *jamfsim.Server) { s.Fail(step, status, 1) }})
		}
		cases = append(cases,
			faultCase{name: "429 Retry-After on " + step, inject: func(s *jamfsim.Server) { s.FailRetryAfter(step, 429, 1, 1) }},
			faultCase{name: "reset on " + step, inject: func(s *jamfsim.Server) { s.Drop(step, 1) }},
			faultCase{name: "stall on " + step, inject: func(s *jamfsim.Server) { s.Delay(step, 3*time.Second, 1) }},
		)
		if step != "POST /api/v1/oauth/token" {
			cases = append(cases, faultCase{name: "401 on " + step, inject: func(s *jamfsim.Server) { s.Fail(step, 401, 1) }})
		}
	}
	for _, op := range []string{"CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"} {
		op := op
		cases = append(cases,
			faultCase{name: "S3 500 on " + op, inject: func(s *jamfsim.Server) { s.Fail(op, 500, 1) }},
			faultCase{name: "S3 SlowDown on " + op, inject: func(s *jamfsim.Server) { s.Fail(op, 503, 1) }},
			faultCase{name: "S3 reset on " + op, inject: func(s *jamfsim.Server) { s.Drop(op, 1) }},
		)
	}
	cases = append(cases,
		faultCase{name: "token expires mid-run", inject: func(s *jamfsim.Server) {
			arrived := s.DelayNotify("POST /api/v1/jcds/files", 300*time.Millisecond, 1)
			go func() { <-arrived; s.ExpireTokens() }()
		}},
		faultCase{name: "S3 credentials expire mid-upload", inject: func(s *jamfsim.Server) {
			arrived := s.DelayNotify("UploadPart", 300*time.Millisecond, 1)
			go func() { <-arrived; s.ExpireS3Credentials() }()
		}},
	)
	return cases
}

func permanentFaults() []faultCase {
	var cases []faultCase
	for _, step := range []string{"GET /api/v1/packages", "POST /api/v1/jcds/files", "POST /api/v1/packages", "GET /api/v1/jamf-pro-version"} {
		step := step
		for _, status := range []int{400, 403, 404, 409} {
			c := faultCase{name: fmt.Sprintf("%d on %s", status, step), inject: func(s *jamfsim.Server) { s.Fail(step, status, 1) }, permanent: fmt.Sprintf("Jamf Pro answered %d", status)}
			switch {
			case step == "POST /api/v1/jcds/files":
				// Any of these is JCDS refusing: the run takes the packages
				// route, also with jcds2_mode (real_jamf_quirks_test.go).
				continue
			case step == "POST /api/v1/packages" && status == 409:
				// A conflict on create means another run got there first:
				// the reconciler looks again (concurrency tests).
				continue
			}
			cases = append(cases, c)
		}
	}
	for _, status := range []int{400, 403} {
		cases = append(cases, faultCase{name: fmt.Sprintf("S3 %d on UploadPart", status), inject: func(s *jamfsim.Server) { s.Fail("UploadPart", status, 1) }, permanent: "S3 answered"})
	}
	return cases
}

func TestFaultsAreSurvived(t *testing.T) {
	cases := transientFaults()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := newSim(t, jamfsim.Config{})
			pkg := writePkg(t, t.TempDir(), "Fault.pkg", 12<<20, byte(i))
			env := baseEnv(t, sim, pkg)
			env["pkg_category"] = "Testing"
			env["jcds2_timeout"] = "1"
			env["verbose"] = uint64(i % 5)
			c.inject(sim)
			r := runEnv(t, sim, env, processor.FormatBinary)
			if r.code != 0 {
				t.Fatalf("a transient fault must be survived: exit %d\n%s", r.code, r.stderr)
			}
			if r.env["pkg_uploaded"] != true || r.env["pkg_metadata_updated"] != true {
				t.Fatalf("outputs: %v", r.env)
			}
			assertConverged(t, sim, "Fault.pkg", pkg)
		})
	}
	t.Logf("%d transient faults injected and survived", len(cases))
}

func TestPermanentFaultsFailAtOnce(t *testing.T) {
	cases := permanentFaults()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := newSim(t, jamfsim.Config{})
			pkg := writePkg(t, t.TempDir(), "Perm.pkg", 12<<20, byte(i))
			env := baseEnv(t, sim, pkg)
			env["verbose"] = uint64(i % 5)
			c.inject(sim)
			r := runEnv(t, sim, env, processor.FormatBinary)
			if r.code != 10 || !strings.Contains(r.lastLine(), c.permanent) {
				t.Fatalf("want exit 10 with %q, got %d: %s", c.permanent, r.code, r.stderr)
			}
			if strings.Contains(string(r.stderr), "retrying") {
				t.Fatalf("a permanent fault must not be retried:\n%s", r.stderr)
			}
			// Exactly what it held before: nothing.
			sim.Ingest(context.Background())
			if n, f := len(sim.Packages()), len(sim.Files()); n != 0 || f != 0 {
				t.Fatalf("the server changed: %d records, %d files", n, f)
			}
			if open, _ := sim.UnfinishedUploads(context.Background()); len(open) != 0 {
				t.Fatalf("unfinished multipart uploads: %v", open)
			}
		})
	}
	t.Logf("%d permanent faults injected, each failed at once", len(cases))
}
