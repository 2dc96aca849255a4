package processor

import (
	"context"
	"math"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// resultKeeper passes an upload through and keeps its result, so that
// the pkg command's --json view can show how the run spent its time.
type resultKeeper struct {
	jcds2.Uploader
	res *jcds2.Result
}

func (k *resultKeeper) Upload(ctx context.Context, req *jcds2.Request, log jcds2.Logger) (*jcds2.Result, error) {
	res, err := k.Uploader.Upload(ctx, req, log)
	k.res = res
	return res, err
}

// outcomeView adds the engine's typed outcome to the --json view, as
// stable words a script can test (docs/cli.md): "outcome" is
// jcds2.Outcome's name (converged, diverged, lost, unhashed),
// "needs_replace" whether --replace would have uploaded the local
// package, "verified" whether Jamf Pro confirmed the bytes this run.
func outcomeView(view map[string]any, res *jcds2.Result) {
	view["outcome"] = res.Outcome.String()
	view["needs_replace"] = res.NeedsReplace
	view["verified"] = res.Verified
}

// timingsView is the "timings" object of the --json view: the run's
// time as the client measured it, in seconds (to the millisecond).
// seconds is the engine's whole run (from the first look at the file to
// the last request), uploading the upload itself, waiting_seconds the
// sum of the waits for Jamf Pro (JCDS processing the upload, the record
// becoming READY), each listed with the requests it made. It is not an
// AutoPkg output: processor mode never writes it.
func timingsView(res *jcds2.Result) map[string]any {
	sec := func(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }
	waits := []any{}
	for _, w := range res.Waits {
		waits = append(waits, map[string]any{"for": w.What, "seconds": sec(w.Took), "requests": w.Requests})
	}
	return map[string]any{
		"seconds":           sec(res.Elapsed),
		"uploading_seconds": sec(res.Uploading),
		"waiting_seconds":   sec(res.Waited()),
		"http_requests":     res.HTTPCalls,
		"waits":             waits,
	}
}
