package main

import (
	"testing"
	"time"
)

// The verification notices a server that becomes ready late within
// max(0.5 s, 10% of the wait), asks at most twice a second, and backs
// off after the first 30 s: on both routes, for servers ready 2, 10 and
// 45 s after the upload (all at once, each its own simulator; about a
// minute).
func TestVerificationCadence(t *testing.T) {
	if testing.Short() {
		t.Skip("waits up to 45 s for the simulator; skipped with -short (CI runs it)")
	}
	cads, err := cadences(testMinIO, testBin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cads {
		t.Logf("%s, ready after %s: waited %.3f s for %s, overshoot %.3f s (bound %.3f s), %d requests, at most %d in 1 s, shortest gap after 30 s %.2f s",
			c.route, c.delay, c.wait.took.Seconds(), c.wait.what, c.wait.overshoot.Seconds(), c.bound.Seconds(), c.requests, c.perSecond, c.after30.Seconds())
		if c.wait.took < c.delay-time.Second {
			t.Errorf("%s: the wait (%s) is shorter than the server's delay (%s): not the wait it governs", c.route, c.wait.took, c.delay)
		}
		// The poll's own arrival is scheduled to the millisecond; the
		// machine may be busy, hence the 50 ms of slack.
		if c.wait.overshoot > c.bound+50*time.Millisecond {
			t.Errorf("%s, ready after %s: noticed %.3f s late, over max(0.5 s, 10%% of the wait) = %.3f s", c.route, c.delay, c.wait.overshoot.Seconds(), c.bound.Seconds())
		}
		// The client starts checks at least 0.5 s apart. Arrivals are
		// stamped at the server, and on a loaded machine (CI runs this
		// beside the root package's tests) one has been seen 0.45 s late,
		// next to an on-time one: a burst is three arrivals within 0.6 s
		// (a client polling three times a second makes them), and the
		// rate over the whole wait is held to twice a second.
		if n := c.mostWithin(600 * time.Millisecond); n > 2 {
			t.Errorf("%s, ready after %s: %d requests within 0.6 s", c.route, c.delay, n)
		}
		if most := int(2*c.wait.took.Seconds()) + 2; c.requests > most {
			t.Errorf("%s, ready after %s: %d requests in a wait of %.1f s, over twice a second (%d)", c.route, c.delay, c.requests, c.wait.took.Seconds(), most)
		}
		if c.delay > 35*time.Second && c.after30 < 2*time.Second {
			t.Errorf("%s, ready after %s: polls %.2f s apart after 30 s of waiting: no back-off", c.route, c.delay, c.after30.Seconds())
		}
	}
}
