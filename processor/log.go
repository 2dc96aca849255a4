package processor

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
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
	name     string // the line prefix; "" is Name
	secrets  []string
	terminal bool

	// progress state
	forceProgress bool
	lastProgress  time.Time
	progressEvery time.Duration
	// the transfer being reported: when it began, how far it got
	transferStart               time.Time
	transferDone, transferTotal int64
	barShown                    bool
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

// SetName prefixes lines with another processor's name (the cleaner's).
func (l *Logger) SetName(name string) { l.name = name }

func (l *Logger) label() string {
	if l.name != "" {
		return l.name
	}
	return Name
}

// ShowProgress logs progress at verbose 0 too.
func (l *Logger) ShowProgress(on bool) { l.forceProgress = on }

// Secret registers a value to scrub, in every form a server (or a
// library's error) could echo it back in: as given; base64, standard and
// URL alphabets, padded and raw, and the part of any base64 text that
// encodes it wherever it sits in the encoded bytes (an echoed Basic
// header holds base64 of "user:password"); query, form and path escaped,
// with upper- or lower-case hex; JSON-, Go-, HTML- and XML-escaped; and
// hex. Short values are ignored: scrubbing "1" would mangle every number.
func (l *Logger) Secret(v string) {
	if len(v) < 4 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range secretForms(v) {
		if !slices.Contains(l.secrets, f) {
			l.secrets = append(l.secrets, f)
		}
	}
	// Longest first, so that a form is never half replaced by a shorter
	// one inside it.
	slices.SortStableFunc(l.secrets, func(a, b string) int { return len(b) - len(a) })
}

// minEncodedLen is the shortest encoded form worth scrubbing on its own:
// shorter fragments would match ordinary text.
const minEncodedLen = 6

// secretForms lists v and its encodings.
func secretForms(v string) []string {
	forms := []string{v}
	add := func(f string) {
		if len(f) >= minEncodedLen && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		add(enc.EncodeToString([]byte(v)))
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for shift := range 3 {
			add(base64Core(enc, v, shift))
		}
	}
	for _, e := range []string{url.QueryEscape(v), url.PathEscape(v)} {
		add(e)
		add(lowerHexEscapes(e))
	}
	if b, err := json.Marshal(v); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	var jb strings.Builder
	je := json.NewEncoder(&jb)
	je.SetEscapeHTML(false)
	if je.Encode(v) == nil {
		j := strings.TrimSpace(jb.String())
		add(j[1 : len(j)-1])
	}
	q := strconv.Quote(v)
	add(q[1 : len(q)-1])
	add(html.EscapeString(v))
	var xb strings.Builder
	if xml.EscapeText(&xb, []byte(v)) == nil {
		add(xb.String())
	}
	add(hex.EncodeToString([]byte(v)))
	add(strings.ToUpper(hex.EncodeToString([]byte(v))))
	return forms
}

// base64Core is the part of the base64 of any bytes that holds v at an
// offset of shift (mod 3): the characters made only of v's bits, which
// are the same whatever surrounds v.
func base64Core(enc *base64.Encoding, v string, shift int) string {
	buf := make([]byte, shift, shift+len(v))
	s := enc.EncodeToString(append(buf, v...))
	from := (8*shift + 5) / 6
	to := 8 * (shift + len(v)) / 6
	if to <= from || to > len(s) {
		return ""
	}
	return s[from:to]
}

// lowerHexEscapes writes %2F as %2f: servers differ.
func lowerHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lowerHex(b[i+1]), lowerHex(b[i+2])
		}
	}
	return string(b)
}

func lowerHex(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
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
		fmt.Fprintf(l.w, "%s: %s\n", l.label(), line)
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
	rate := l.rateLocked(now, done, total)
	if l.terminal {
		const width = 30
		n := int(pct / 100 * width)
		fmt.Fprintf(l.w, "\r%s: [%s%s] %5.1f%% %s / %s%s\x1b[K", Name, strings.Repeat("#", n), strings.Repeat(".", width-n), pct, jcds2.HumanBytes(done), jcds2.HumanBytes(total), rate)
		l.barShown = true
		if final {
			l.endBarLocked()
		}
		return
	}
	fmt.Fprintf(l.w, "%s: uploaded %s of %s (%.0f%%)%s\n", Name, jcds2.HumanBytes(done), jcds2.HumanBytes(total), pct, rate)
}

// Waiting says what the run is waiting for, and for how long so far,
// where progress is shown: on the bar's line on a terminal, otherwise a
// line every few seconds once the wait is longer than that.
func (l *Logger) Waiting(what string, waited time.Duration) {
	if l.verbose < 1 && !l.forceProgress {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if waited < max(l.progressEvery, time.Second) || now.Sub(l.lastProgress) < l.progressEvery {
		return
	}
	l.lastProgress = now
	if l.terminal {
		fmt.Fprintf(l.w, "\r%s: waiting for %s (%s)\x1b[K", Name, what, waited.Round(time.Second))
		l.barShown = true
		return
	}
	fmt.Fprintf(l.w, "%s: waiting for %s (%s so far)\n", Name, what, waited.Round(time.Second))
}

// rateLocked says how fast the bytes go and how long the rest will
// take, from the bytes the destination acknowledged since this transfer
// began (a transfer begins when done goes back, or total changes).
func (l *Logger) rateLocked(now time.Time, done, total int64) string {
	if l.transferStart.IsZero() || done < l.transferDone || total != l.transferTotal {
		l.transferStart, l.transferTotal = now, total
	}
	l.transferDone = done
	el := now.Sub(l.transferStart).Seconds()
	if el < 0.5 || done == 0 {
		return ""
	}
	bps := float64(done) / el
	if done >= total {
		return fmt.Sprintf(", %s/s", jcds2.HumanBytes(int64(bps)))
	}
	left := time.Duration(float64(total-done) / bps * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf(", %s/s, %s left", jcds2.HumanBytes(int64(bps)), left)
}

func (l *Logger) endBarLocked() {
	if l.barShown {
		fmt.Fprintln(l.w)
		l.barShown = false
	}
}
