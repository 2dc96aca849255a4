package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// proc is what measuring a child process found.
type proc struct {
	start time.Time     // when it was started
	wall  time.Duration // start to exit
	rss   int64         // peak resident set (VmHWM), KiB
	rchar int64         // bytes it read through read(2) and friends, as last sampled
}

// measure runs cmd, sampling its own /proc entries every 10 ms: VmHWM
// for the peak RSS (wait4's ru_maxrss would count the parent's memory,
// which Linux carries across fork and exec) and rchar for the bytes it
// read (the last sample before exit: reads in its final 10 ms may be
// missed, a whole package never is).
func measure(cmd *exec.Cmd) (proc, error) {
	var stderr bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	p := proc{start: time.Now()}
	if err := cmd.Start(); err != nil {
		return p, err
	}
	done := make(chan struct{})
	sampled := make(chan proc, 1)
	go func() {
		var s proc
		dir := fmt.Sprintf("/proc/%d/", cmd.Process.Pid)
		for {
			if kb := procField(dir+"status", "VmHWM:"); kb > s.rss {
				s.rss = kb
			}
			if n := procField(dir+"io", "rchar:"); n > s.rchar {
				s.rchar = n
			}
			select {
			case <-done:
				sampled <- s
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	p.wall = time.Since(p.start)
	close(done)
	s := <-sampled
	p.rss, p.rchar = s.rss, s.rchar
	if err != nil {
		return p, fmt.Errorf("%v: %s", err, lastLines(stderr.String(), 8))
	}
	return p, nil
}

// procField reads a number from a /proc "Name: value [kB]" file.
func procField(path, name string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, name); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
