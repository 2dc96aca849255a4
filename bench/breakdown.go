package main

import (
	"fmt"
	"strings"
	"time"
)

// phases is where one run of ours spent its wall time. start, before,
// upload and after add up to the wall time with waited; overshoot is
// the part of waited after the server was already ready, which is ours:
// own = wall - waited + overshoot.
type phases struct {
	start     time.Duration // process start to the first request
	before    time.Duration // first request to the upload's first byte
	upload    time.Duration // the upload (S3 parts, or the packages POST)
	after     time.Duration // requests after the upload, but the waits, and exit
	waited    time.Duration // the waits for Jamf Pro, as the client timed them
	overshoot time.Duration // of waited, the time from ready to noticed
	own       time.Duration
	waits     []waitSeen
	pkgID     string
}

// waitSeen is one wait for the server as the proxy saw it.
type waitSeen struct {
	what      string
	took      time.Duration // as the client timed it
	ready     time.Time     // when the server had it ready
	polls     []stamp       // the requests of the wait
	noticed   stamp         // the poll that saw it ready
	overshoot time.Duration
}

// cut splits a run at the proxy's timestamps. The upload runs from the
// answer with the S3 credentials (JCDS) to the next request that is not
// a renewal, or is the packages POST itself; each wait's overshoot runs
// from the moment the simulator had the file or record ready to the
// arrival of the first poll after it.
func cut(r oursRun) (phases, error) {
	st := r.stamps
	var ph phases
	if len(st) == 0 {
		return ph, fmt.Errorf("no request seen")
	}
	ph.start = st[0].Start.Sub(r.start)
	up := -1
	for i, s := range st {
		if s.is("POST", "/api/v1/jcds/files") || strings.HasSuffix(s.Path, "/upload") && s.Method == "POST" {
			up = i
			break
		}
	}
	for _, w := range r.timings.Waits {
		ph.waited += secs(w.Seconds)
	}
	if up < 0 { // nothing uploaded
		ph.before = r.wall - ph.start - ph.waited
		ph.own = r.wall - ph.waited
		return ph, nil
	}
	var upStart, upEnd time.Time
	next := len(st)
	if st[up].Path == "/api/v1/jcds/files" {
		upStart, upEnd = st[up].End, time.Time{}
		for i := up + 1; i < len(st); i++ {
			if !isRenewal(st[i].Method, st[i].Path) {
				upEnd, next = st[i].Start, i
				break
			}
		}
		if upEnd.IsZero() {
			return ph, fmt.Errorf("no request after the upload")
		}
	} else {
		upStart, upEnd, next = st[up].Start, st[up].End, up+1
	}
	ph.before = upStart.Sub(st[0].Start)
	ph.upload = upEnd.Sub(upStart)
	ph.after = r.wall - ph.start - ph.before - ph.upload - ph.waited

	// The waits, in the client's order: on the JCDS route JCDS listing
	// the file (ready when the simulator had it due), then the record
	// READY (ready once the refresh after the record write answered); on
	// the packages route the record READY (ready when due).
	rest := st[next:]
	for _, w := range r.timings.Waits {
		ws := waitSeen{what: w.For, took: secs(w.Seconds)}
		switch {
		case strings.HasPrefix(w.For, "JCDS to process"):
			ws.polls = matching(rest, "GET", "/api/v1/jcds/files")
			ws.ready = later(r.due, upEnd)
		case strings.HasPrefix(w.For, "Jamf Pro to make the record READY"):
			ws.polls = matching(rest, "GET", "/api/v1/packages/")
			if st[up].Path == "/api/v1/jcds/files" {
				for _, s := range rest {
					if strings.HasSuffix(s.Path, "/refresh-inventory") {
						ws.ready = s.End
						break
					}
				}
			} else {
				ws.ready = later(r.due, upEnd)
			}
		}
		if len(ws.polls) > 0 && !ws.ready.IsZero() {
			ws.noticed = ws.polls[len(ws.polls)-1]
			for _, p := range ws.polls {
				if !p.Start.Before(ws.ready) {
					ws.noticed = p
					break
				}
			}
			ws.overshoot = max(0, ws.noticed.Start.Sub(later(ws.ready, ws.polls[0].Start)))
			// Only this wait's polls: up to the one that noticed.
			for i, p := range ws.polls {
				if p == ws.noticed {
					ws.polls = ws.polls[:i+1]
					break
				}
			}
			rest = after(rest, ws.noticed)
		}
		ph.overshoot += ws.overshoot
		ph.waits = append(ph.waits, ws)
	}
	ph.own = r.wall - ph.waited + ph.overshoot
	return ph, nil
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func matching(st []stamp, method, prefix string) []stamp {
	var out []stamp
	for _, s := range st {
		if s.is(method, prefix) && !strings.HasSuffix(s.Path, "/upload") {
			out = append(out, s)
		}
	}
	return out
}

func after(st []stamp, x stamp) []stamp {
	for i, s := range st {
		if s == x {
			return st[i+1:]
		}
	}
	return st
}
