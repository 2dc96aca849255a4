package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// proc is what measuring a child process found.
type proc struct {
	start time.Time     // when it was started
	wall  time.Duration // start to exit
	rss   int64         // peak resident set (VmHWM), KiB
	rchar int64         // bytes it read through read(2) and friends, as last sampled
	cpu   time.Duration // user + system CPU time (rusage; threads and waited-for children included)
	user  time.Duration
}

// measure runs cmd with the simulator's sampler (jamfsim.Measure: the
// child's own VmHWM and rchar from /proc), keeping its stderr for errors.
func measure(cmd *exec.Cmd) (proc, error) {
	var stderr bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	p := proc{start: time.Now()}
	m, err := jamfsim.Measure(cmd)
	p.wall, p.rss, p.rchar = m.Wall, m.PeakKiB, m.ReadByte
	if ps := cmd.ProcessState; ps != nil {
		p.user = ps.UserTime()
		p.cpu = p.user + ps.SystemTime()
	}
	if err != nil {
		return p, fmt.Errorf("%v: %s", err, lastLines(stderr.String(), 8))
	}
	return p, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
