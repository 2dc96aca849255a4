package processor

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// goTypeWords are fragments of Go type names that must never reach a
// user: a Mac admin knows plist types, not []uint8 or time.Time.
var goTypeWords = regexp.MustCompile(`\[\]|map\[|uint|int64|int32|float|time\.|interface|struct|%!|plist\.|processor\.`)

// Every plist type, given where a boolean, a number or a string is
// wanted, is named in plist words.
func TestErrorsNamePlistTypesNotGoTypes(t *testing.T) {
	values := map[string]any{
		"a dictionary": map[string]any{"k": "v"},
		"a list":       []any{"x"},
		"data":         []byte{0, 1, 2},
		"a date":       time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	for want, v := range values {
		env := Env{"k": v}
		_, berr := Bool(env, "k")
		_, ierr := Int(env, "k", 0, 10)
		_, serr := String(env, "k")
		for _, err := range []error{berr, ierr, serr} {
			if err == nil {
				t.Fatalf("%s accepted: %#v", want, v)
			}
			if !strings.Contains(err.Error(), "k is "+want) || goTypeWords.MatchString(err.Error()) {
				t.Errorf("%s: %q", want, err)
			}
		}
	}
	// Numbers and booleans where a boolean or a whole number is wanted
	// are shown as their values.
	for _, c := range []struct {
		v    any
		want string
	}{{3.5, "k is 3.5: give a whole number"}, {int64(-4), "k is -4: give a whole number"}, {true, "k is true: give a whole number"}} {
		_, err := Int(Env{"k": c.v}, "k", 0, 10)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || goTypeWords.MatchString(err.Error()) {
			t.Errorf("%#v: %v", c.v, err)
		}
	}
	for name, v := range map[string]any{"a number": uint64(1), "empty": nil, "a string": "s", "a boolean": false} {
		if got := typeName(v); got != name {
			t.Errorf("typeName(%#v) = %q, want %q", v, got, name)
		}
	}
}

// The top level of stdin, whatever plist type it is, is named in words.
func TestTopLevelTypeIsNamedInWords(t *testing.T) {
	for body, want := range map[string]string{
		"<array><string>x</string></array>": "a list",
		"<data>AAEC</data>":                 "data",
		"<date>2026-01-02T03:04:05Z</date>": "a date",
		"<integer>7</integer>":              "a number",
		"<real>1.5</real>":                  "a number",
		"<true/>":                           "a boolean",
		"<string>x</string>":                "a string",
	} {
		_, _, err := DecodeEnv([]byte(`<?xml version="1.0"?><plist version="1.0">` + body + `</plist>`))
		wantMsg := "stdin plist top level is " + want + ", not a dictionary: send the AutoPkg env as a plist dict"
		if err == nil || err.Error() != wantMsg {
			t.Errorf("%s: got %v, want %s", body, err, wantMsg)
		}
	}
}

// No user-facing text in processor/ may format a Go type: %T and
// reflection are how []uint8 and time.Time reached users before.
func TestNoGoTypeFormattingInProcessorSource(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources: %v", err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "%T") || strings.Contains(line, `"reflect"`) || strings.Contains(line, "%#v") {
				t.Errorf("%s:%d formats a Go type: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// Substitution renders values as AutoPkg's str() does, never with Go's
// formatting (map[k:v], [a b], true).
func TestSubstitutionRendersValuesAsAutoPkgDoes(t *testing.T) {
	env := Env{
		"b": true, "n": uint64(42), "neg": int64(-3), "f": 3.0, "g": 0.1, "big": 1e21, "tiny": 1e-5,
		"d":    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"list": []any{"a", uint64(1), false, []byte("x\x00")},
		"dict": map[string]any{"z": "it's", "a": map[string]any{}},
	}
	for ref, want := range map[string]string{
		"%b%": "True", "%n%": "42", "%neg%": "-3", "%f%": "3.0", "%g%": "0.1", "%big%": "1e+21", "%tiny%": "1e-05",
		"%d%":    "2026-01-02 03:04:05",
		"%list%": `['a', 1, False, b'x\x00']`,
		"%dict%": `{'a': {}, 'z': 'it\'s'}`,
	} {
		if got := Substitute(env, "<"+ref+">", nil); got != "<"+want+">" {
			t.Errorf("%s: got %s, want <%s>", ref, got, want)
		}
		if goTypeWords.MatchString(Substitute(env, ref, nil)) {
			t.Errorf("%s renders a Go type", ref)
		}
	}
}
