package processor

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// InputError is bad input: one line naming the input and what to do.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErr(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// ApplyDefaults sets the manifest default of every absent input, as
// AutoPkg's Processor.process does (absent, not falsy; no substitution).
func ApplyDefaults(env Env, log *Logger) {
	for _, in := range Inputs {
		if in.Default == nil {
			continue
		}
		if _, ok := env[in.Name]; !ok {
			env[in.Name] = in.Default
			log.Logf(2, "No value supplied for %s, setting default value of: %v", in.Name, in.Default)
		}
	}
}

// CheckRequired mirrors AutoPkg's "<Name> requires <var>" check.
func CheckRequired(env Env) error {
	for _, in := range Inputs {
		if !in.Required {
			continue
		}
		if _, ok := env[in.Name]; !ok {
			return inputErr("%s requires %s: %s", Name, in.Name, requiredHint(in.Name))
		}
	}
	return nil
}

func requiredHint(name string) string {
	if name == "JSS_URL" {
		return "set it to your Jamf Pro URL (e.g. https://yourorg.jamfcloud.com) in the AutoPkg preferences or the recipe Input"
	}
	return "set it in the recipe Input or with -k " + name + "=..."
}

// Verbose reads verbose as AutoPkg does: an int or a numeric string.
func Verbose(env Env) int {
	switch v := env["verbose"].(type) {
	case uint64:
		return int(min(v, 100))
	case int64:
		return int(max(min(v, 100), 0))
	case float64:
		return int(max(min(v, 100), 0))
	case bool:
		if v {
			return 1
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return max(min(n, 100), 0)
		}
	}
	return 0
}

// isEmptyish is true for values that mean "not set": "", the default
// "False", false.
func isEmptyish(v any) bool {
	switch x := v.(type) {
	case string:
		s := strings.ToLower(strings.TrimSpace(x))
		return s == "" || s == "false" || s == "no" || s == "0" || s == "none"
	case bool:
		return !x
	case nil:
		return true
	}
	return false
}

// Bool parses a boolean input. Accepted: plist booleans, the integers 0
// and 1, and the strings true/false/yes/no/1/0 in any case (empty = false).
// This is broader than JamfPackageUploader, which takes only "true".
func Bool(env Env, key string) (bool, error) {
	v, ok := env[key]
	if !ok || v == nil {
		return false, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case uint64:
		if x <= 1 {
			return x == 1, nil
		}
	case int64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "1":
			return true, nil
		case "false", "no", "0", "":
			return false, nil
		}
	}
	return false, inputErr("%s is %s, which is not a boolean: use True or False", key, describe(v))
}

// Int parses an integer input given as a plist integer or a numeric string.
func Int(env Env, key string, lo, hi int) (int, error) {
	v, ok := env[key]
	if !ok || v == nil {
		return 0, nil
	}
	var n int64
	var err error
	switch x := v.(type) {
	case uint64:
		if x > math.MaxInt32 {
			err = errors.New("too large")
		}
		n = int64(x)
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) {
			err = errors.New("not whole")
		}
		n = int64(x)
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, inputErr("%s is empty: give a whole number from %d to %d", key, lo, hi)
		}
		n, err = strconv.ParseInt(s, 10, 64)
	default:
		err = errors.New("wrong type")
	}
	if err != nil || n < int64(lo) || n > int64(hi) {
		return 0, inputErr("%s is %s: give a whole number from %d to %d", key, describe(v), lo, hi)
	}
	return int(n), nil
}

// String reads a string input; numbers are accepted and formatted.
func String(env Env, key string) (string, error) {
	switch x := env[key].(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case uint64, int64, float64:
		return fmt.Sprint(x), nil
	case bool:
		if x {
			return "True", nil
		}
		return "False", nil
	default:
		return "", inputErr("%s is %s, not a string: give it as a string", key, describe(x))
	}
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		s := x
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return strconv.Quote(s)
	case bool:
		return strconv.FormatBool(x)
	case uint64, int64, float64:
		return fmt.Sprint(x)
	}
	return typeName(v)
}

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

// BuildRequest validates every input and maps the env onto a request.
// Nothing here touches the network.
func BuildRequest(env Env) (*jcds2.Request, []string, error) {
	var warnings []string
	b := binder{env: env}
	req := &jcds2.Request{}

	req.Insecure = b.bool("insecure_mode")
	rawURL := b.str("JSS_URL")
	if b.err != nil {
		return nil, nil, b.err
	}
	u, warn, err := NormalizeURL(rawURL, req.Insecure)
	if err != nil {
		return nil, nil, err
	}
	req.URL = u
	if warn != "" {
		warnings = append(warnings, warn)
	}
	if req.Insecure {
		warnings = append(warnings, "WARNING: insecure_mode is set: TLS certificates are not verified.")
	}

	req.Auth = jcds2.Credentials{
		BearerToken:  b.str("BEARER_TOKEN"),
		ClientID:     b.str("CLIENT_ID"),
		ClientSecret: b.str("CLIENT_SECRET"),
		Username:     b.str("API_USERNAME"),
		Password:     b.str("API_PASSWORD"),
	}
	if b.err != nil {
		return nil, nil, b.err
	}
	a := req.Auth
	if err := checkCredentials(a); err != nil {
		return nil, nil, err
	}
	switch {
	case a.BearerToken != "":
	case a.ClientID != "" || a.ClientSecret != "":
		if a.ClientID == "" {
			return nil, nil, inputErr("CLIENT_SECRET is set but CLIENT_ID is missing: give both, or API_USERNAME and API_PASSWORD")
		}
		if a.ClientSecret == "" {
			return nil, nil, inputErr("CLIENT_ID is set but CLIENT_SECRET is missing: give the API client's secret")
		}
	case a.Username != "" || a.Password != "":
		if a.Username == "" {
			return nil, nil, inputErr("API_PASSWORD is set but API_USERNAME is missing: give both")
		}
		if a.Password == "" {
			return nil, nil, inputErr("API_USERNAME is set but API_PASSWORD is missing: give the account's password")
		}
	default:
		return nil, nil, inputErr("no Jamf Pro credentials: set CLIENT_ID and CLIENT_SECRET, or API_USERNAME and API_PASSWORD, or BEARER_TOKEN")
	}

	path := b.str("pkg_path")
	if b.err != nil {
		return nil, nil, b.err
	}
	if path == "" {
		if pn, _ := env["pathname"].(string); strings.HasSuffix(strings.ToLower(pn), ".pkg") {
			path = pn
		}
	}
	given, err := ResolvePkgPath(env, path)
	if err != nil {
		return nil, nil, err
	}
	// A pkg_path that is a symbolic link is resolved before anything is
	// decided (flat or bundle) or read: walking a link to a bundle zipped
	// the link alone. The name stays the link's, as JamfPackageUploader's
	// basename does.
	if req.PkgPath, err = resolveLink(given); err != nil {
		return nil, nil, err
	}
	isBundle := false
	if st, err := os.Stat(req.PkgPath); err == nil && st.IsDir() {
		isBundle = true
	}

	req.PkgName = b.str("pkg_name")
	if req.PkgName == "" {
		req.PkgName = filepath.Base(given)
	}
	if isBundle && !strings.HasSuffix(strings.ToLower(req.PkgName), ".zip") {
		req.PkgName += ".zip"
	}
	if err := CheckFileName("pkg_name", req.PkgName); err != nil {
		return nil, nil, err
	}
	req.DisplayName = b.str("pkg_display_name")
	if req.DisplayName == "" {
		req.DisplayName = req.PkgName
	}
	if err := CheckDisplayName("pkg_display_name", req.DisplayName); err != nil {
		return nil, nil, err
	}

	req.Category = Substitute(env, b.str("pkg_category"), nil)
	if err := CheckDisplayName("pkg_category", req.Category); err != nil {
		return nil, nil, err
	}
	req.Info = b.str("pkg_info")
	req.Notes = b.str("pkg_notes")
	req.OSRequirements = b.str("os_requirements")
	req.RequiredProcessor = b.str("required_processor")
	req.Priority = b.int("pkg_priority", 1, 20)
	req.RebootRequired = b.bool("reboot_required")
	req.SendNotification = b.bool("send_notification")
	req.Replace = b.bool("replace_pkg")
	req.ReplaceMetadata = b.bool("replace_pkg_metadata")
	req.SkipMetadata = b.bool("skip_metadata_upload")
	req.UseMD5 = b.bool("md5")
	req.DryRun = b.bool("dry_run")
	req.Recalculate = b.bool("recalculate")
	req.RecalculateWait = time.Duration(b.int("recalculate_wait_time", 0, 3600)) * time.Second
	req.RetryFloor = time.Duration(b.int("sleep", 0, 600)) * time.Second
	req.MaxTries = b.int("max_tries", 1, 10)
	req.VerifyTimeout = time.Duration(b.int("jcds2_verify_timeout", 0, 86400)) * time.Second
	req.Timeout = time.Duration(b.int("jcds2_timeout", 1, 3600)) * time.Second
	req.RemoveDuplicates = b.bool("jcds2_remove_duplicates")
	req.Concurrency = b.int("jcds2_concurrency", 0, 64)
	req.PartSize = int64(b.int("jcds2_part_size_mb", 0, 5120)) << 20
	req.ShowProgress = b.bool("show_upload_progress")
	req.ReuseToken = b.bool("jcds2_reuse_auth")
	req.S3Endpoint = b.str("jcds2_s3_endpoint")
	jcds2Mode := b.bool("jcds2_mode")
	pkgAPIMode := b.bool("pkg_api_mode")
	if b.err != nil {
		return nil, nil, b.err
	}
	if req.PartSize != 0 && req.PartSize < 5<<20 {
		return nil, nil, inputErr("jcds2_part_size_mb is %d: S3 parts are at least 5 MiB; use 0 for the default", req.PartSize>>20)
	}
	switch {
	case jcds2Mode && pkgAPIMode:
		return nil, nil, inputErr("jcds2_mode and pkg_api_mode are both True: set at most one (or neither for automatic choice)")
	case jcds2Mode:
		req.Route = jcds2.RouteJCDS2
	case pkgAPIMode:
		req.Route = jcds2.RoutePackages
	}
	if req.S3Endpoint, warn, err = S3Endpoint(req.S3Endpoint, req.Insecure); err != nil {
		return nil, nil, err
	}
	if warn != "" {
		warnings = append(warnings, warn)
	}
	req.CacheDir, _ = env["RECIPE_CACHE_DIR"].(string)
	if strings.ContainsRune(req.CacheDir, 0) {
		return nil, nil, inputErr("RECIPE_CACHE_DIR contains a NUL byte: give a real directory")
	}
	return req, warnings, nil
}

// checkCredentials checks every credential given, used or not, before
// any request: each becomes a header or a form value.
func checkCredentials(a jcds2.Credentials) error {
	if a.BearerToken != "" {
		if err := checkBearerToken(a.BearerToken); err != nil {
			return err
		}
	}
	if a.Username != "" {
		if err := checkBasicUser("API_USERNAME", a.Username); err != nil {
			return err
		}
	}
	for _, c := range []struct {
		name, v string
		secret  bool
	}{{"API_PASSWORD", a.Password, true}, {"CLIENT_ID", a.ClientID, false}, {"CLIENT_SECRET", a.ClientSecret, true}} {
		if c.v != "" {
			if err := checkCredential(c.name, c.v, c.secret); err != nil {
				return err
			}
		}
	}
	return nil
}

// binder reads typed inputs, keeping the first error.
type binder struct {
	env Env
	err error
}

func (b *binder) str(k string) string {
	if b.err != nil {
		return ""
	}
	s, err := String(b.env, k)
	b.err = err
	return s
}

func (b *binder) bool(k string) bool {
	if b.err != nil {
		return false
	}
	v, err := Bool(b.env, k)
	b.err = err
	return v
}

func (b *binder) int(k string, lo, hi int) int {
	if b.err != nil {
		return 0
	}
	if s, ok := b.env[k].(string); ok && strings.TrimSpace(s) == "" {
		// An empty string is AutoPkg's "unset" for optional inputs.
		if in, ok := LookupInput(k); ok {
			if d, ok := in.Default.(string); ok {
				n, _ := strconv.Atoi(d)
				return n
			}
		}
	}
	v, err := Int(b.env, k, lo, hi)
	b.err = err
	return v
}
