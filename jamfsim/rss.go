package jamfsim

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Measured is what sampling a child process found.
type Measured struct {
	Wall     time.Duration
	PeakKiB  int64 // peak resident set (VmHWM)
	ReadByte int64 // bytes it read through read(2) and friends, as last sampled
}

// RunMeasured runs cmd and returns its wall time and peak resident set
// size in KiB (see Measure).
func RunMeasured(cmd *exec.Cmd) (time.Duration, int64, error) {
	m, err := Measure(cmd)
	return m.Wall, m.PeakKiB, err
}

// Measure runs cmd, sampling its own /proc entries every 10 ms: VmHWM
// for the peak (wait4's ru_maxrss would include the parent's memory,
// which Linux carries across fork and exec) and rchar for the bytes it
// read (the last sample before exit: reads in its final 10 ms may be
// missed, a whole package never is).
func Measure(cmd *exec.Cmd) (Measured, error) {
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Measured{}, err
	}
	done := make(chan struct{})
	sampled := make(chan Measured, 1)
	go func() {
		var m Measured
		dir := fmt.Sprintf("/proc/%d/", cmd.Process.Pid)
		for {
			m.PeakKiB = max(m.PeakKiB, procField(dir+"status", "VmHWM:"))
			m.ReadByte = max(m.ReadByte, procField(dir+"io", "rchar:"))
			select {
			case <-done:
				sampled <- m
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(done)
	m := <-sampled
	m.Wall = wall
	return m, err
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

// HumanSize is a compact size for names: 256M, 1G.
func HumanSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "G"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "M"
	}
	return strconv.FormatInt(n, 10)
}
