package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Status is a check's outcome. Only FAIL makes the verdict "a run would
// not work"; WARN is something to know or to fix that a run survives.
type Status string

const (
	OK   Status = "OK"
	Warn Status = "WARN"
	Fail Status = "FAIL"
)

// Check is one line of the report.
type Check struct {
	Check  string `json:"check"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
}

// Verdict sums the report up for scripts: OK is the exit code's meaning.
type Verdict struct {
	OK       bool   `json:"ok"`
	Route    string `json:"route,omitempty"` // jcds2 or packages-api when a run would work
	Failures int    `json:"failures"`
	Warnings int    `json:"warnings"`
	Summary  string `json:"summary"`
}

// Report is what --json prints.
type Report struct {
	URL     string  `json:"url,omitempty"`
	Checks  []Check `json:"checks"`
	Verdict Verdict `json:"verdict"`
}

func (r *Report) add(status Status, check, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Check: check, Status: status, Detail: fmt.Sprintf(format, args...)})
}

// finish counts the lines and writes the verdict. route is the route a
// run would take ("" when none was found), label the same in words.
func (r *Report) finish(route, label string) {
	v := Verdict{Route: route}
	for _, c := range r.Checks {
		switch c.Status {
		case Fail:
			v.Failures++
		case Warn:
			v.Warnings++
		}
	}
	v.OK = v.Failures == 0
	switch {
	case !v.OK:
		v.Route = ""
		v.Summary = fmt.Sprintf("a run would fail: fix the %s marked FAIL, then run doctor again", plural(v.Failures, "problem"))
	case v.Warnings > 0:
		v.Summary = fmt.Sprintf("a run would work (route %s), with %s to read", label, plural(v.Warnings, "warning"))
	default:
		v.Summary = fmt.Sprintf("a run would work (route %s)", label)
	}
	r.Verdict = v
}

// redact passes every text through scrub (the logger's secret scrubber):
// a server or library error could echo a credential back.
func (r *Report) redact(scrub func(string) string) {
	r.URL = scrub(r.URL)
	for i := range r.Checks {
		r.Checks[i].Check = scrub(r.Checks[i].Check)
		r.Checks[i].Detail = scrub(r.Checks[i].Detail)
	}
	r.Verdict.Summary = scrub(r.Verdict.Summary)
}

func (r *Report) writeText(w io.Writer) error {
	if r.URL != "" {
		if _, err := fmt.Fprintf(w, "jcds2-uploader doctor: %s (read-only: nothing is written)\n", r.URL); err != nil {
			return err
		}
	}
	for _, c := range r.Checks {
		if _, err := fmt.Fprintf(w, "%-4s  %s: %s\n", c.Status, c.Check, c.Detail); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "Verdict: %s\n", r.Verdict.Summary)
	return err
}

func (r *Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// plural is n and a noun, with an s unless n is 1 ("category" ends
// in y: categories).
func plural(n int, word string) string {
	switch {
	case n == 1:
		return "1 " + word
	case strings.HasSuffix(word, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}
