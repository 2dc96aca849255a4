package processor

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// Logger writes "JCDS2PackageUploader: message" lines like AutoPkg's
// Processor.output, filtered by verbose, with every registered secret
// scrubbed from every line.
type Logger struct {
	mu       sync.Mutex
	w        io.Writer
	verbose  int
	secrets  []string
	terminal bool

	// progress state
	forceProgress bool
	lastProgress  time.Time
	progressEvery time.Duration
	barShown      bool
}

// NewLogger logs to w at the given verbosity. A terminal gets a progress
// bar; anything else a line every few seconds.
func NewLogger(w io.Writer, verbose int) *Logger {
	l := &Logger{w: w, verbose: verbose, progressEvery: 5 * time.Second}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			l.terminal = true
			l.progressEvery = 200 * time.Millisecond
		}
	}
	return l
}

// ShowProgress logs progress at verbose 0 too.
func (l *Logger) ShowProgress(on bool) { l.forceProgress = on }

// Secret registers a value to scrub. Short values are ignored: scrubbing
// "1" would mangle every number.
func (l *Logger) Secret(v string) {
	if len(v) < 4 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.secrets {
		if s == v {
			return
		}
	}
	l.secrets = append(l.secrets, v)
}

// Redact replaces every registered secret in s.
func (l *Logger) Redact(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.redactLocked(s)
}

func (l *Logger) redactLocked(s string) string {
	for _, sec := range l.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// Logf prints at the given level when verbose >= level.
func (l *Logger) Logf(level int, format string, args ...any) {
	if l.verbose < level {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.endBarLocked()
	msg := l.redactLocked(fmt.Sprintf(format, args...))
	for _, line := range strings.Split(msg, "\n") {
		fmt.Fprintf(l.w, "%s: %s\n", Name, line)
	}
}

// Error prints the final ProcessorError line.
func (l *Logger) Error(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.endBarLocked()
	fmt.Fprintf(l.w, "ProcessorError: %s\n", l.redactLocked(oneLine(msg)))
}

// Progress draws a bar on a terminal and prints a line every few seconds
// otherwise (and always at 100%).
func (l *Logger) Progress(done, total int64) {
	if l.verbose < 1 && !l.forceProgress {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	final := done >= total
	if !final && now.Sub(l.lastProgress) < l.progressEvery {
		return
	}
	l.lastProgress = now
	pct := 100.0
	if total > 0 {
		pct = float64(done) * 100 / float64(total)
	}
	if l.terminal {
		const width = 30
		n := int(pct / 100 * width)
		fmt.Fprintf(l.w, "\r%s: [%s%s] %5.1f%% %s / %s", Name, strings.Repeat("#", n), strings.Repeat(".", width-n), pct, jcds2.HumanBytes(done), jcds2.HumanBytes(total))
		l.barShown = true
		if final {
			l.endBarLocked()
		}
		return
	}
	fmt.Fprintf(l.w, "%s: uploaded %s of %s (%.0f%%)\n", Name, jcds2.HumanBytes(done), jcds2.HumanBytes(total), pct)
}

func (l *Logger) endBarLocked() {
	if l.barShown {
		fmt.Fprintln(l.w)
		l.barShown = false
	}
}
