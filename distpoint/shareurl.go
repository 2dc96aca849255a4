package distpoint

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode"

	"github.com/jcds2-uploader/jcds2-uploader/oneline"
)

// isControl: C0, DEL and C1 controls, and invisible format characters
// (bidi overrides), none of which a share path holds.
func isControl(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

// location is a parsed share URL.
type location struct {
	scheme  string // "smb" or "file"
	addr    string // smb: host:port to dial
	host    string // smb: the host as given, for the tree-connect path
	share   string // smb: share name
	dir     string // smb: folder inside the share ("" = its root); file: absolute directory
	display string // the URL without credentials, for messages
}

const smbDefaultPort = "445"

// parseShareURL reads smb://server[:port]/share[/folder] or
// file:///path. Error texts follow the input name, e.g. "SMB_URL <err>",
// never repeat a password given inside the URL, and never repeat a
// query or fragment (which could hold anything). A path that decodes to
// a control character (%0d, %0a, %00 ...) is refused: no SMB or file
// path holds one, and it must not reach a log line raw.
func parseShareURL(raw string) (location, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return location{}, fmt.Errorf("is empty: give smb://server/share or file:///path/to/share")
	}
	if i := strings.IndexFunc(s, isControl); i >= 0 {
		return location{}, fmt.Errorf("contains a control character (%s): give smb://server/share or file:///path/to/share on one line", oneline.Escape(string([]rune(s[i:])[0])))
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" {
		return location{}, fmt.Errorf("is not a valid URL: give smb://server/share or file:///path/to/share")
	}
	if u.User != nil {
		// Do not echo it: the URL may hold a password.
		return location{}, fmt.Errorf("contains a user name or password: give them in the user name and password inputs instead, and the URL as smb://server/share")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		bare := *u
		bare.RawQuery, bare.ForceQuery, bare.Fragment, bare.RawFragment = "", false, "", ""
		return location{}, fmt.Errorf("%q has a query (?...) or a fragment (#...), which a share URL cannot hold (not repeated here): give smb://server/share or file:///path/to/share", bare.String())
	}
	if p, err := url.PathUnescape(u.EscapedPath()); err == nil && strings.IndexFunc(p+u.Hostname(), isControl) >= 0 {
		return location{}, fmt.Errorf("%q has a path that decodes to a control character (%%0d, %%0a, %%00 ...), which no share path holds: fix the share path", s)
	}
	switch strings.ToLower(u.Scheme) {
	case "smb":
		return parseSMB(u, s)
	case "file":
		return parseFile(u, s)
	}
	return location{}, fmt.Errorf("%q is not an smb:// or file:// URL: give smb://server/share (mounting is not needed) or file:///path/to/share", s)
}

func parseSMB(u *url.URL, s string) (location, error) {
	host := u.Hostname()
	if host == "" {
		return location{}, fmt.Errorf("%q has no server: give smb://server/share", s)
	}
	port := u.Port()
	if port == "" {
		port = smbDefaultPort
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return location{}, fmt.Errorf("%q has port %q: give a port from 1 to 65535, or none for 445", s, port)
	}
	clean := strings.Trim(path.Clean("/"+u.Path), "/")
	if clean == "" || clean == "." {
		return location{}, fmt.Errorf("%q names no share: give smb://server/share", s)
	}
	share, dir, _ := strings.Cut(clean, "/")
	if strings.ContainsAny(clean, `\:*?"<>|`) {
		return location{}, fmt.Errorf("%q has a character SMB paths cannot hold (\\ : * ? \" < > |): fix the share path", s)
	}
	display := oneline.Escape("smb://" + u.Host + "/" + clean)
	return location{scheme: "smb", addr: net.JoinHostPort(host, port), host: host, share: share, dir: dir, display: display}, nil
}

func parseFile(u *url.URL, s string) (location, error) {
	if u.Host != "" && !strings.EqualFold(u.Host, "localhost") {
		return location{}, fmt.Errorf("%q names host %q: file:// is a local directory (file:///path); use smb://%s/share for a server", s, u.Host, u.Host)
	}
	if !strings.HasPrefix(u.Path, "/") || path.Clean(u.Path) == "/" {
		return location{}, fmt.Errorf("%q names no directory: give file:///path/to/share", s)
	}
	dir := path.Clean(u.Path)
	return location{scheme: "file", dir: dir, display: oneline.Escape("file://" + dir)}, nil
}
