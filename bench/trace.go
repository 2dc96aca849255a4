package main

import (
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// traceLink runs ours by JCDS 2.0 once over spec with every S3 request
// stamped on the server's side of the link (a stamping reverse proxy
// between the link and MinIO) and prints where the run's seconds went:
// the Jamf Pro requests before the upload, CreateMultipartUpload, the
// parts and how many were in flight, CompleteMultipartUpload, the
// waits and the requests after. Times are when requests arrived at and
// left the servers; the client sees each answer RTT/2 later.
func traceLink(st *stage, cfg config, spec linkSpec, bin, dir, s3Host, jamfHost string, fileFor func(int64) (string, error)) error {
	clock, err := newClock("http://"+s3Host, true)
	if err != nil {
		return err
	}
	defer clock.Close()
	cu, _ := url.Parse(clock.URL)
	l := newLink(spec)
	s3p, err := l.proxy(cu.Host)
	if err != nil {
		return err
	}
	defer s3p.Close()
	jp, err := l.proxy(jamfHost)
	if err != nil {
		return err
	}
	defer jp.Close()
	st.s3, st.jamf, st.s3clock = s3p.URL, jp.URL, clock
	defer func() { st.s3, st.jamf, st.s3clock = st.sim.S3Endpoint(), st.clock.URL, nil }()
	for _, size := range cfg.linkSizes {
		file, err := fileFor(size)
		if err != nil {
			return err
		}
		key := fmt.Sprintf("trace-%s-%d.pkg", jamfsim.HumanSize(size), time.Now().UnixNano())
		r, err := runOurs(st, oursOpts{bin: bin, file: file, name: key, cache: filepath.Join(dir, "cache-"+key), conc: cfg.conc, partMB: cfg.partMB})
		if err != nil {
			return fmt.Errorf("trace over %s: %w", spec, err)
		}
		if r.status != "uploaded, verified" {
			return fmt.Errorf("trace over %s: status %q", spec, r.status)
		}
		printTimeline(r, spec, size)
		if err := deletePackage(st.sim, r.pkgID); err != nil {
			return err
		}
		removeUploads(st.sim)
	}
	return nil
}

// s3Op names an S3 request by its method and query.
func s3Op(s stamp) string {
	q, _ := url.ParseQuery(s.Query)
	switch {
	case s.Method == "POST" && q.Has("uploads"):
		return "CreateMultipartUpload"
	case s.Method == "PUT" && q.Has("partNumber"):
		return "UploadPart"
	case s.Method == "POST" && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case s.Method == "DELETE" && q.Has("uploadId"):
		return "AbortMultipartUpload"
	case s.Method == "PUT":
		return "PutObject"
	}
	return s.Method + " " + s.Path
}

// printTimeline prints one traced run: every Jamf Pro request and the
// S3 requests but the parts, and the parts summed up; then the
// breakdown into phases.
func printTimeline(r oursRun, spec linkSpec, size int64) {
	at := func(t time.Time) string { return fmt.Sprintf("%.2f s", t.Sub(r.start).Seconds()) }
	type ev struct {
		stamp
		what string
	}
	var evs []ev
	for _, s := range r.stamps {
		evs = append(evs, ev{s, "Jamf Pro " + s.Method + " " + s.Path})
	}
	var parts []stamp
	var create, complete stamp
	for _, s := range r.s3stamps {
		switch op := s3Op(s); op {
		case "UploadPart":
			parts = append(parts, s)
		default:
			if op == "CreateMultipartUpload" {
				create = s
			}
			if op == "CompleteMultipartUpload" {
				complete = s
			}
			evs = append(evs, ev{s, "S3 " + op})
		}
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].Start.Before(evs[j].Start) })
	for _, p := range parts {
		q, _ := url.ParseQuery(p.Query)
		fmt.Fprintf(os.Stderr, "  part %s: %s to %s\n", q.Get("partNumber"), at(p.Start), at(p.End))
	}
	fmt.Printf("Timeline of one run of ours by JCDS 2.0, %s over %s (a %s window; times from the process's start, as the servers saw each request arrive and answer; the client has each answer RTT/2 later):\n\n",
		jcds2.HumanBytes(size), spec, jcds2.HumanBytes(int64(spec.window)))
	fmt.Println("| request | arrived | answered | took at the server |")
	fmt.Println("|---|---|---|---|")
	partsShown := false
	for _, e := range evs {
		if !partsShown && len(parts) > 0 && parts[0].Start.Before(e.Start) {
			printParts(parts, at)
			partsShown = true
		}
		fmt.Printf("| %s | %s | %s | %.2f s |\n", e.what, at(e.Start), at(e.End), e.End.Sub(e.Start).Seconds())
	}
	if !partsShown && len(parts) > 0 {
		printParts(parts, at)
	}
	fmt.Printf("| process exit | %s | | |\n\n", fmt.Sprintf("%.2f s", r.wall.Seconds()))

	if len(parts) == 0 || create.Start.IsZero() || complete.Start.IsZero() {
		return
	}
	var creds stamp
	for _, s := range r.stamps {
		if s.is("POST", "/api/v1/jcds/files") {
			creds = s
		}
	}
	first, last := parts[0].Start, parts[0].End
	for _, p := range parts {
		if p.End.After(last) {
			last = p.End
		}
	}
	var waited time.Duration
	for _, w := range r.timings.Waits {
		waited += secs(w.Seconds)
	}
	linkTime := spec.limit(size, 0)
	need := streamsToFill(spec)
	under := underFilled(parts, need)
	fmt.Printf("Where that run's %.2f s went (size ÷ bandwidth: %s; %d connections fill the link):\n\n", r.wall.Seconds(), fs(linkTime), need)
	fmt.Println("| phase | seconds |")
	fmt.Println("|---|---|")
	row := func(what string, d time.Duration) { fmt.Printf("| %s | %.2f s |\n", what, d.Seconds()) }
	row("process start to the first Jamf Pro request", r.stamps[0].Start.Sub(r.start))
	row(fmt.Sprintf("Jamf Pro requests before the upload (%d, the credentials' included)", countBefore(r.stamps, creds)), creds.End.Sub(r.stamps[0].Start))
	row("credentials' answer to CreateMultipartUpload arriving", create.Start.Sub(creds.End))
	row("CreateMultipartUpload, arrival to the first part's arrival", first.Sub(create.Start))
	row(fmt.Sprintf("the parts (%d), first arrival to last answer", len(parts)), last.Sub(first))
	row(fmt.Sprintf("of which fewer than %d parts in flight", need), under)
	row("last part's answer to CompleteMultipartUpload arriving", complete.Start.Sub(last))
	row("CompleteMultipartUpload at the server", complete.End.Sub(complete.Start))
	row("waits for Jamf Pro (as the client timed them)", waited)
	row("the rest after the upload (requests, record, exit)", r.wall-complete.End.Sub(r.start)-waited)
	row("credentials' answer to CompleteMultipartUpload's answer", complete.End.Sub(creds.End))
	fmt.Println()
}

func printParts(parts []stamp, at func(time.Time) string) {
	last := parts[0]
	for _, p := range parts {
		if p.End.After(last.End) {
			last = p
		}
	}
	fmt.Printf("| S3 UploadPart × %d | first %s, last %s | last %s | – |\n", len(parts), at(parts[0].Start), at(parts[len(parts)-1].Start), at(last.End))
}

// streamsToFill is how many connections carry the link's bandwidth at
// window ÷ RTT each.
func streamsToFill(s linkSpec) int {
	if s.window <= 0 || s.rtt <= 0 {
		return 1
	}
	return int(math.Ceil(s.bytesPerSecond() * s.rtt.Seconds() / float64(s.window)))
}

// underFilled is how long, between the first part's arrival and the
// last part's answer, fewer than need parts were in flight at the server.
func underFilled(parts []stamp, need int) time.Duration {
	type edge struct {
		t time.Time
		d int
	}
	var es []edge
	for _, p := range parts {
		es = append(es, edge{p.Start, 1}, edge{p.End, -1})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].t.Before(es[j].t) })
	var under time.Duration
	n := 0
	for i, e := range es {
		n += e.d
		if i+1 < len(es) && n < need {
			under += es[i+1].t.Sub(e.t)
		}
	}
	return under
}

func countBefore(st []stamp, x stamp) int {
	n := 0
	for _, s := range st {
		if !s.Start.After(x.Start) {
			n++
		}
	}
	return n
}
