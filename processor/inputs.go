package processor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

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
