package jamf

import "strings"

// PathEscape percent-encodes every byte of a path segment except RFC
// 3986's unreserved characters. url.PathEscape keeps "+", which the
// Classic API form-decodes to a space (Jamf staff in Jamf-Concepts/jamf-cli
// #244), and keeps other sub-delimiters Tomcat may refuse (JamfSync #6).
func PathEscape(s string) string { return escape(s) }

// QueryEscape encodes a query value the same strict way ("+" is a
// space in a query too).
func QueryEscape(s string) string { return escape(s) }

func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
