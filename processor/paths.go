package processor

import (
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Checking the names and paths inputs give: the Jamf Pro URL, file and
// display names, and the package path.

// NormalizeURL validates JSS_URL: https, or http only for loopback hosts
// (the simulator) or with insecure. A bare tenant name becomes
// https://NAME.jamfcloud.com. It returns a warning to log, if any.
func NormalizeURL(raw string, insecure bool) (string, string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", "", inputErr("JSS_URL is empty: set it to your Jamf Pro URL, e.g. https://yourorg.jamfcloud.com")
	}
	if !strings.Contains(s, "://") {
		if isTenantName(s) {
			s = "https://" + s + ".jamfcloud.com"
		} else {
			s = "https://" + s
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", "", inputErr("JSS_URL %s is not a valid URL: use the form https://yourorg.jamfcloud.com", strconv.Quote(raw))
	}
	return checkServerURL("JSS_URL", raw, u, insecure, "give credentials as API_USERNAME/API_PASSWORD or CLIENT_ID/CLIENT_SECRET")
}

func isTenantName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckFileName rejects names that cannot be a file name on the
// distribution point.
func CheckFileName(key, name string) error {
	switch {
	case name == "":
		return inputErr("%s is empty: give the package's file name, e.g. Firefox-120.pkg", key)
	case !utf8.ValidString(name):
		return inputErr("%s is not valid UTF-8: rename the package", key)
	case len(name) > 255:
		return inputErr("%s is %d bytes long: file names are at most 255 bytes", key, len(name))
	case strings.ContainsAny(name, "/\\"):
		return inputErr("%s %s contains a slash: give a file name, not a path", key, strconv.Quote(name))
	case name == "." || name == "..":
		return inputErr("%s is %s: give a real file name", key, strconv.Quote(name))
	case strings.HasPrefix(name, "."):
		return inputErr("%s %s starts with a dot: hidden files are not valid package names", key, strconv.Quote(name))
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return inputErr("%s %s contains a control character: rename the package", key, strconv.Quote(name))
	case strings.TrimSpace(name) != name:
		return inputErr("%s %s starts or ends with white space: trim it", key, strconv.Quote(name))
	}
	return nil
}

// CheckDisplayName is looser: any printable text up to 255 bytes.
func CheckDisplayName(key, name string) error {
	switch {
	case !utf8.ValidString(name):
		return inputErr("%s is not valid UTF-8", key)
	case len(name) > 255:
		return inputErr("%s is %d bytes long: display names are at most 255 bytes", key, len(name))
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return inputErr("%s %s contains a control character: remove it", key, strconv.Quote(name))
	}
	return nil
}

// ResolvePkgPath finds pkg_path: absolute as given, relative against
// RECIPE_DIR, then the working directory. It must be a readable regular
// file or a bundle directory.
func ResolvePkgPath(env Env, path string) (string, error) {
	if path == "" {
		return "", inputErr("pkg_path is missing: give the path to the package (a preceding step usually sets it)")
	}
	if strings.ContainsRune(path, 0) {
		return "", inputErr("pkg_path contains a NUL byte: give a real path")
	}
	candidates := []string{path}
	if !filepath.IsAbs(path) {
		candidates = nil
		if dir, _ := env["RECIPE_DIR"].(string); dir != "" {
			candidates = append(candidates, filepath.Join(dir, path))
		}
		if cwd, err := os.Getwd(); err == nil {
			candidates = append(candidates, filepath.Join(cwd, path))
		}
	}
	var firstErr error
	for _, c := range candidates {
		p, err := checkPkgFile(c)
		if err == nil {
			return p, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", firstErr
}

func checkPkgFile(p string) (string, error) {
	q := strconv.Quote(p)
	st, err := os.Stat(p)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			if _, lerr := os.Lstat(p); lerr == nil {
				return "", inputErr("pkg_path %s is a broken symbolic link: point it at the package file", q)
			}
			return "", inputErr("pkg_path %s does not exist: check the path, or the step that builds the package", q)
		case errors.Is(err, os.ErrPermission):
			return "", inputErr("pkg_path %s cannot be read (permission denied): fix its permissions", q)
		default:
			return "", inputErr("pkg_path %s cannot be read (%s): fix the path", q, oneLine(err.Error()))
		}
	}
	switch {
	case st.IsDir():
		if !strings.HasSuffix(strings.ToLower(p), ".pkg") && !strings.HasSuffix(strings.ToLower(p), ".mpkg") {
			return "", inputErr("pkg_path %s is a directory, not a package: give a .pkg file or a .pkg bundle", q)
		}
		f, err := os.Open(filepath.Join(p, "Contents"))
		if err != nil {
			return "", inputErr("pkg_path %s is a directory without Contents: give a flat .pkg or a complete bundle package", q)
		}
		f.Close()
	case !st.Mode().IsRegular():
		return "", inputErr("pkg_path %s is a device, pipe or socket, not a file: give the package file", q)
	case st.Size() == 0:
		return "", inputErr("pkg_path %s is empty (0 bytes): rebuild the package", q)
	default:
		f, err := os.Open(p)
		if err != nil {
			return "", inputErr("pkg_path %s cannot be opened (%s): fix its permissions", q, oneLine(err.Error()))
		}
		f.Close()
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return p, nil
	}
	return abs, nil
}

// resolveLink returns p with its symbolic links resolved when p itself is
// one, and p unchanged otherwise (so a path through a linked directory,
// such as macOS's /var, keeps the form it was given in).
func resolveLink(p string) (string, error) {
	st, err := os.Lstat(p)
	if err != nil || st.Mode()&os.ModeSymlink == 0 {
		return p, nil
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", inputErr("pkg_path %s is a symbolic link that cannot be followed (%s): point it at the package", strconv.Quote(p), oneLine(err.Error()))
	}
	if real, err = filepath.Abs(real); err != nil {
		return "", inputErr("pkg_path %s: %s", strconv.Quote(p), oneLine(err.Error()))
	}
	return real, nil
}
