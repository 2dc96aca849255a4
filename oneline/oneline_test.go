package oneline

import "testing"

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, 1.0 (ok)":   "plain text, 1.0 (ok)",
		"a\r\nInjected: 1":       `a\r\nInjected: 1`,
		"nul\x00here":            `nul\x00here`,
		"\x1b[31mred\x1b[0m":     `\x1b[31mred\x1b[0m`,
		"abc\u202etxt.pkg":       `abc\u202etxt.pkg`,
		"zero\u200bwidth":        `zero\u200bwidth`,
		"bad\xffutf8":            `bad\xffutf8`,
		`DOMAIN\user`:            `DOMAIN\user`,
		"Café – naïve 日本":        "Café – naïve 日本",
		"del\x7f and c1 \u0085.": `del\x7f and c1 \u0085.`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}
