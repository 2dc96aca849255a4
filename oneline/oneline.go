// Package oneline makes text from outside (inputs, servers, files)
// safe to print on one line of a log: every control character (CR, LF,
// NUL, ESC that starts a terminal sequence ...), every invisible format
// character (bidi overrides, zero-width marks) and every byte that is
// not UTF-8 is written as a Go escape (\r, \x1b, \u202e), so a value
// can neither start a line of its own nor change how the rest reads.
package oneline

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with what could break or disguise a line escaped;
// printable text, spaces included, is kept as it is.
func Escape(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case safe(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

func safe(r rune) bool {
	return r == ' ' || unicode.IsPrint(r) && !unicode.Is(unicode.Cf, r)
}

func clean(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !safe(r) {
			return false
		}
	}
	return true
}
