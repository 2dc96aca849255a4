package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// cadence is how one verification wait went, against a simulator that
// becomes ready a known time after the upload.
type cadence struct {
	route     string
	delay     time.Duration // the simulator's IngestDelay
	wait      waitSeen
	requests  int           // during the wait
	perSecond int           // most requests arriving within any 0.99 s of it
	after30   time.Duration // shortest gap between polls after 30 s of waiting (0: none)
	bound     time.Duration // max(0.5 s, 10% of the wait)
	arrivals  []time.Time   // of the wait's requests
}

// mostWithin is the most requests arriving within any window of d.
func (c cadence) mostWithin(d time.Duration) int {
	most := 0
	for i, a := range c.arrivals {
		n := 0
		for _, b := range c.arrivals[i:] {
			if b.Sub(a) < d {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

func (c cadence) met() bool {
	return c.wait.overshoot <= c.bound && c.perSecond <= 2 && (c.after30 == 0 || c.after30 >= time.Second)
}

// measureCadence uploads a small package through route ("jcds" or
// "packages") to a simulator whose IngestDelay is delay, and reads the
// wait that the delay governs: JCDS listing the file, or the record
// becoming READY.
func measureCadence(mp *jamfsim.MinIOProcess, bin, dir, route string, delay time.Duration) (cadence, error) {
	c := cadence{route: route, delay: delay}
	st, err := newStage(mp, jamfsim.Config{IngestDelay: delay, DirectS3: true})
	if err != nil {
		return c, err
	}
	defer st.Close()
	name := fmt.Sprintf("Cadence-%s-%s.pkg", route, delay)
	file := filepath.Join(dir, name)
	if err := makeFile(file, 1<<20); err != nil {
		return c, err
	}
	defer os.Remove(file)
	r, err := runOurs(st, oursOpts{bin: bin, file: file, name: name, cache: filepath.Join(dir, "cache-"+name), packagesRoute: route == "packages"})
	if err != nil {
		return c, err
	}
	if r.status != "uploaded, verified" {
		return c, fmt.Errorf("%s: %s", name, r.status)
	}
	ph, err := cut(r)
	if err != nil {
		return c, err
	}
	want := "Jamf Pro to make the record READY"
	if route == "jcds" {
		want = "JCDS to process the upload"
	}
	for _, w := range ph.waits {
		if w.what == want {
			c.wait = w
		}
	}
	if c.wait.what == "" || len(c.wait.polls) == 0 {
		return c, fmt.Errorf("%s: no wait for %s seen", name, want)
	}
	from, to := c.wait.polls[0].Start, c.wait.noticed.End
	var during []stamp
	for _, s := range r.stamps {
		if !s.Start.Before(from) && !s.Start.After(to) {
			during = append(during, s)
		}
	}
	c.requests = len(during)
	for _, s := range during {
		c.arrivals = append(c.arrivals, s.Start)
	}
	c.perSecond = c.mostWithin(990 * time.Millisecond) // 10 ms for arrival jitter
	polls := c.wait.polls
	for i := 1; i < len(polls); i++ {
		if polls[i].Start.Sub(from) >= 30*time.Second {
			if gap := polls[i].Start.Sub(polls[i-1].Start); c.after30 == 0 || gap < c.after30 {
				c.after30 = gap
			}
		}
	}
	c.bound = max(500*time.Millisecond, c.wait.took/10)
	return c, nil
}
