package processor

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// keyRef is AutoPkg's RE_KEYREF: %name% with an identifier inside.
var keyRef = regexp.MustCompile(`%([a-zA-Z_][a-zA-Z_0-9]*)%`)

// ParseKeyValues mirrors Processor.parse_arguments: each argument is split
// at its first "=", values are strings, and %key% refers to keys given
// earlier on the same command line. warn receives AutoPkg's message for an
// undefined key, in which case the whole value is left as it is.
func ParseKeyValues(args []string, warn func(string)) (Env, error) {
	if err := checkKeyValues(args); err != nil {
		return nil, err
	}
	env := Env{}
	total := 0
	for _, arg := range args {
		key, value, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, fmt.Errorf("Illegal argument '%s'", arg)
		}
		if total += substitutedLen(env, value); total > MaxInputBytes {
			return nil, inputErr("the key=value arguments add up to more than %d MiB once %%key%% references are replaced (at %s): pass the AutoPkg env as a plist on stdin instead", MaxInputBytes>>20, key)
		}
		env[key] = Substitute(env, value, warn)
	}
	return env, nil
}

// Substitute replaces %key% references with string values from env, in a
// single pass. Like AutoPkg, an undefined key leaves the whole string
// unchanged; a non-string value is rendered with %v rather than crashing.
func Substitute(env Env, value string, warn func(string)) string {
	for _, m := range keyRef.FindAllStringSubmatch(value, -1) {
		if _, ok := env[m[1]]; !ok {
			if warn != nil {
				warn(fmt.Sprintf("Use of undefined key in variable substitution: '%s'", m[1]))
			}
			return value
		}
	}
	return keyRef.ReplaceAllStringFunc(value, func(ref string) string {
		return PyStr(env[ref[1:len(ref)-1]])
	})
}

// PyStr renders a decoded plist value as AutoPkg's str() does in a
// substitution: True/False, 3.0, ['a', 1], {'k': 'v'}, b'..', dates as
// 2026-01-02 03:04:05. Never Go's formatting (map[k:v], [a 1], true).
func PyStr(v any) string {
	var b strings.Builder
	pyWrite(&b, v, false)
	return b.String()
}

func pyWrite(b *strings.Builder, v any, nested bool) {
	switch x := v.(type) {
	case string:
		if nested {
			b.WriteString(pyQuote(x))
		} else {
			b.WriteString(x)
		}
	case bool:
		b.WriteString(map[bool]string{true: "True", false: "False"}[x])
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(pyFloat(x))
	case time.Time:
		b.WriteString(x.Format("2006-01-02 15:04:05"))
	case []byte:
		b.WriteString("b" + pyQuote(string(x)))
	case nil:
		b.WriteString("None")
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyWrite(b, e, true)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyQuote(k) + ": ")
			pyWrite(b, x[k], true)
		}
		b.WriteByte('}')
	default:
		b.WriteString("?")
	}
}

// pyQuote is Python's repr of a str: single quotes, backslash escapes.
func pyQuote(s string) string {
	q := strconv.QuoteToASCII(s) // "..." with Go escapes, close to Python's
	q = q[1 : len(q)-1]
	q = strings.ReplaceAll(strings.ReplaceAll(q, `\"`, `"`), "'", `\'`)
	return "'" + q + "'"
}

// pyFloat is Python's repr of a float: 3.0, 0.1, 1e+16, 1e-05.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if a := math.Abs(f); a != 0 && (a >= 1e16 || a < 1e-4) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
