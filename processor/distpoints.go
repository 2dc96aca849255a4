package processor

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/distpoint"
)

// DistributionPoints reads the file-share and aws_cdp_mode inputs the way
// JamfPackageUploader does (JamfPackageUploaderBase.execute):
//
//   - SMB_URL, SMB_USERNAME, SMB_PASSWORD, then SMB2_*, SMB3_* ... up to
//     the first SMBn_URL that is missing or empty;
//   - only when SMB_URL is absent or empty, SMB_SHARES: an array of dicts
//     with the keys SMB_URL, SMB_USERNAME and SMB_PASSWORD;
//   - the cloud distribution point is used when no share is configured,
//     or when CLOUD_DP is true;
//   - aws_cdp_mode with S3_BUCKET_NAME replaces the cloud upload by one to
//     that bucket.
//
// An smb:// share without user name or password is an error, as in the
// reference; a file:// share needs neither (the reference demanded both
// even there). Inputs the reference silently ignores (numbered shares
// after a gap, SMB_SHARES beside SMB_URL) come back as warnings to log.
// Nothing here touches the network or the disk.
func DistributionPoints(env Env) (distpoint.Config, []string, error) {
	var cfg distpoint.Config
	shares, warnings, err := smbShares(env)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Shares = shares
	b := binder{env: env}
	cloudDP := b.bool("CLOUD_DP")
	awsMode := b.bool("aws_cdp_mode")
	bucket := strings.TrimSpace(b.str("S3_BUCKET_NAME"))
	insecure := b.bool("insecure_mode")
	maxTries := b.int("max_tries", 1, 10)
	partSize := int64(b.int("jcds2_part_size_mb", 0, 5120)) << 20
	concurrency := b.int("jcds2_concurrency", 0, 64)
	if b.err != nil {
		return cfg, nil, b.err
	}
	cfg.CloudDP = len(shares) == 0 || cloudDP
	if !awsMode {
		return cfg, warnings, nil
	}
	if bucket == "" {
		return cfg, nil, inputErr("aws_cdp_mode is True but S3_BUCKET_NAME is not set: give the name of your S3 distribution point's bucket, e.g. my-jamf-packages")
	}
	cfg.S3 = &distpoint.S3Target{Bucket: bucket, Insecure: insecure, MaxTries: maxTries, PartSize: partSize, Concurrency: concurrency}
	if err := cfg.S3.Validate(); err != nil {
		return cfg, nil, &InputError{Msg: err.Error()}
	}
	if !cfg.CloudDP {
		warnings = append(warnings, "aws_cdp_mode is True but the S3 bucket is not uploaded to: with file shares configured, the cloud distribution point (here the bucket) is used only when CLOUD_DP is True, as in JamfPackageUploader")
	}
	return cfg, warnings, nil
}

// The engine passes the processor's logger to distpoint as it is.
var _ distpoint.Logger = (*Logger)(nil)

// numberedURL matches SMB2_URL, SMB3_URL ... (and SMB1_URL, which the
// reference never reads either).
var numberedURL = regexp.MustCompile(`^SMB([0-9]+)_URL$`)

func smbShares(env Env) ([]distpoint.Share, []string, error) {
	b := binder{env: env}
	var shares []distpoint.Share
	var warnings []string
	read := map[string]bool{}
	if first := strings.TrimSpace(b.str("SMB_URL")); first != "" {
		for n := 1; ; n++ {
			prefix := "SMB"
			if n > 1 {
				prefix = "SMB" + strconv.Itoa(n)
			}
			raw := strings.TrimSpace(b.str(prefix + "_URL"))
			if b.err != nil {
				return nil, nil, b.err
			}
			if raw == "" {
				break
			}
			read[prefix+"_URL"] = true
			s := distpoint.Share{Input: prefix + "_URL", URL: raw, Username: b.str(prefix + "_USERNAME"), Password: b.str(prefix + "_PASSWORD")}
			if b.err != nil {
				return nil, nil, b.err
			}
			if err := checkShare(s, fmt.Sprintf("%s_URL defined but no credentials supplied: set %s_USERNAME and %s_PASSWORD to the share account's", prefix, prefix, prefix)); err != nil {
				return nil, nil, err
			}
			shares = append(shares, s)
		}
		if !isEmptyish(env["SMB_SHARES"]) {
			warnings = append(warnings, "SMB_SHARES is ignored because SMB_URL is set (the numbered SMB_URL, SMB2_URL ... inputs take precedence, as in JamfPackageUploader)")
		}
	} else if list, ok := env["SMB_SHARES"]; ok && !isEmptyish(list) {
		var err error
		if shares, err = sharesList(list); err != nil {
			return nil, nil, err
		}
	}
	if b.err != nil {
		return nil, nil, b.err
	}
	var ignored []string
	for k, v := range env {
		if numberedURL.MatchString(k) && !read[k] && !isEmptyish(v) {
			ignored = append(ignored, k)
		}
	}
	sort.Strings(ignored)
	for _, k := range ignored {
		warnings = append(warnings, fmt.Sprintf("%s is ignored: shares are read from SMB_URL, SMB2_URL, SMB3_URL ... up to the first one missing; fill the gap or renumber", k))
	}
	return shares, warnings, nil
}

// sharesList reads SMB_SHARES: an array of dicts.
func sharesList(v any) ([]distpoint.Share, error) {
	items, ok := v.([]any)
	if !ok {
		return nil, inputErr("SMB_SHARES is %s, not an array: give an array of dicts with SMB_URL, SMB_USERNAME and SMB_PASSWORD", describe(v))
	}
	var shares []distpoint.Share
	for i, item := range items {
		label := fmt.Sprintf("SMB_SHARES item %d", i+1)
		d, ok := item.(map[string]any)
		if !ok {
			return nil, inputErr("%s is %s, not a dict: give each item SMB_URL, SMB_USERNAME and SMB_PASSWORD", label, describe(item))
		}
		b := binder{env: Env(d)}
		s := distpoint.Share{Input: label, URL: strings.TrimSpace(b.str("SMB_URL")), Username: b.str("SMB_USERNAME"), Password: b.str("SMB_PASSWORD")}
		if b.err != nil {
			return nil, inputErr("%s: %v", label, b.err)
		}
		if s.URL == "" {
			return nil, inputErr("Incorrect SMB credentials supplied: %s has no SMB_URL: give each item SMB_URL, SMB_USERNAME and SMB_PASSWORD", label)
		}
		if err := checkShare(s, "Incorrect SMB credentials supplied: "+label+" lacks SMB_USERNAME or SMB_PASSWORD: give each item the share account's"); err != nil {
			return nil, err
		}
		shares = append(shares, s)
	}
	return shares, nil
}

// checkShare validates the URL and, for smb://, that both credentials
// are there; noCreds is the message start when they are not.
func checkShare(s distpoint.Share, noCreds string) error {
	if strings.HasPrefix(strings.ToLower(s.URL), "smb:") && (s.Username == "" || s.Password == "") {
		missing := "user name and password"
		switch {
		case s.Username != "":
			missing = "password"
		case s.Password != "":
			missing = "user name"
		}
		return inputErr("%s %s (%s missing)", noCreds, "user name and password", missing)
	}
	// Like every credential, a share's are refused with a line break or
	// another control character (a copied password often ends in one).
	user, pass := s.Input+" SMB_USERNAME", s.Input+" SMB_PASSWORD"
	if prefix, ok := strings.CutSuffix(s.Input, "_URL"); ok {
		user, pass = prefix+"_USERNAME", prefix+"_PASSWORD"
	}
	if err := checkCredential(user, s.Username, false); s.Username != "" && err != nil {
		return err
	}
	if err := checkCredential(pass, s.Password, true); s.Password != "" && err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return &InputError{Msg: oneLine(err.Error())}
	}
	return nil
}
