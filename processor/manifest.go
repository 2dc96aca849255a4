// Package processor speaks AutoPkg's processor contract: it reads the env
// plist, maps JamfPackageUploader's inputs onto a typed upload request,
// calls the upload engine and writes the env back with the outputs.
package processor

// Name is the AutoPkg processor name that prefixes every log line.
const Name = "JCDS2PackageUploader"

// SummaryKey is JamfPackageUploader's summary key, kept so notifiers that
// look for it (JamfUploaderSlacker, Teams, Jira) keep working.
const SummaryKey = "jamfpackageuploader_summary_result"

// Description is shown by `autopkg processor-info` through the shim.
const Description = "Uploads a package to Jamf Pro over JCDS 2.0 (or the Jamf Pro API packages " +
	"upload route), skipping unchanged packages and never leaving a duplicate. A drop-in " +
	"replacement for JamfPackageUploader backed by the jcds2-uploader binary."

// Input describes one input variable. The manifest is the single source of
// truth for the shim, the README tables and the parser.
type Input struct {
	Name        string `json:"name"`
	Required    bool   `json:"required"`
	Default     any    `json:"default,omitempty"`
	Description string `json:"description"`
	// Kind says how the value is parsed: string, bool, int, path, secret, any.
	Kind string `json:"kind"`
	// Unsupported, when set, says why the input is not implemented. Such
	// an input at its default (or empty) is accepted; any other value
	// stops the run before anything is written (CheckNotImplemented).
	Unsupported string `json:"unsupported,omitempty"`
	// Ours marks inputs JamfPackageUploader does not have.
	Ours bool `json:"ours,omitempty"`
}

// Output describes one output variable.
type Output struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Ours        bool   `json:"ours,omitempty"`
}

// Manifest is what `jcds2-uploader manifest` prints.
type Manifest struct {
	Processor   string   `json:"processor"`
	Description string   `json:"description"`
	Inputs      []Input  `json:"inputs"`
	Outputs     []Output `json:"outputs"`
	// SecretKeyMarkers are the upper-case substrings that mark an env key
	// as secret: such keys are withheld from the output plist and never
	// deleted by the shim.
	SecretKeyMarkers []string `json:"secret_key_markers"`
}

// Inputs lists every input JamfPackageUploader has had, current and
// legacy, with JamfPackageUploader's defaults, then ours.
var Inputs = []Input{
	{Name: "JSS_URL", Required: true, Kind: "string", Description: "Jamf Pro URL, e.g. https://yourorg.jamfcloud.com. A bare tenant name becomes https://NAME.jamfcloud.com; plain http:// only for loopback or with insecure_mode."},
	{Name: "API_USERNAME", Kind: "string", Description: "Jamf Pro user name, used only to mint a bearer token."},
	{Name: "API_PASSWORD", Kind: "secret", Description: "Password for API_USERNAME. Never logged or written back."},
	{Name: "CLIENT_ID", Kind: "string", Description: "Jamf Pro API client ID (preferred over user name and password)."},
	{Name: "CLIENT_SECRET", Kind: "secret", Description: "Jamf Pro API client secret. Never logged or written back."},
	{Name: "BEARER_TOKEN", Kind: "secret", Description: "A bearer token minted elsewhere; checked with GET /api/v1/auth before use."},
	{Name: "JAMF_CLI_PROFILE", Default: "", Kind: "string", Unsupported: "jamf-cli profiles are not read; give JSS_URL and credentials instead, from AutoPkg's preferences, the environment or the login keychain"},
	{Name: "PLATFORM_API_REGION", Default: "", Kind: "string", Unsupported: "the Jamf Platform API gateway is not used; JSS_URL is called directly"},
	{Name: "PLATFORM_API_TENANT_ID", Default: "", Kind: "string", Unsupported: "the Jamf Platform API gateway is not used; JSS_URL is called directly"},
	{Name: "CLOUD_DP", Default: "False", Kind: "bool", Description: "With file shares configured, upload to the cloud distribution point (JCDS, or the bucket of aws_cdp_mode) as well only when True. With no file share it is always used."},
	{Name: "SMB_URL", Default: "", Kind: "string", Description: "First file-share distribution point: smb://server[:port]/share[/folder] (SMB 2/3, spoken directly, no mount) or file:///path. The package goes into its Packages folder. SMB2_URL, SMB3_URL ... with their _USERNAME and _PASSWORD add more, read up to the first gap."},
	{Name: "SMB_USERNAME", Default: "", Kind: "string", Description: "User name for SMB_URL (DOMAIN\\user works); SMB2_USERNAME ... for the others. Needed for smb:// shares."},
	{Name: "SMB_PASSWORD", Default: "", Kind: "secret", Description: "Password for SMB_URL; SMB2_PASSWORD ... for the others. Never logged, never on a command line, never written back."},
	{Name: "SMB_SHARES", Kind: "any", Description: "Used only when SMB_URL is not set: an array of dicts, each with SMB_URL, SMB_USERNAME and SMB_PASSWORD. Never written back."},
	{Name: "pkg_name", Default: "", Kind: "string", Description: "File name in Jamf Pro and on the distribution point. Default: the base name of pkg_path (plus .zip for bundles)."},
	{Name: "pkg_display_name", Default: "", Kind: "string", Description: "Display name of the package record. Default: pkg_name."},
	{Name: "pkg_path", Default: "", Kind: "path", Description: "Path to the package (flat .pkg, .dmg, or a bundle directory, which is zipped). Falls back to pathname; relative paths resolve against RECIPE_DIR, then the working directory."},
	{Name: "version", Default: "", Kind: "string", Description: "Only echoed in the summary."},
	{Name: "pkg_category", Default: "", Kind: "string", Description: "Category name; it must exist in Jamf Pro. Empty means no category."},
	{Name: "pkg_info", Default: "", Kind: "string", Description: "Info field of the package record."},
	{Name: "pkg_notes", Default: "", Kind: "string", Description: "Notes field of the package record."},
	{Name: "pkg_priority", Default: "10", Kind: "int", Description: "Install priority, 1 to 20."},
	{Name: "reboot_required", Default: "", Kind: "bool", Description: "Whether the package requires a restart. Empty means false."},
	{Name: "os_requirements", Default: "", Kind: "string", Description: "OS requirements string, e.g. \"14.x, 15.x\"."},
	{Name: "required_processor", Default: "None", Kind: "string", Description: "Classic API required processor (None, x86, ppc); only sent on the Classic route."},
	{Name: "send_notification", Default: "", Kind: "bool", Description: "Classic API send_notification flag; only sent on the Classic route."},
	{Name: "replace_pkg", Default: "False", Kind: "bool", Description: "Upload even if a file with this name is already on the distribution point and its bytes differ. Unchanged bytes are never uploaded again."},
	{Name: "replace_pkg_metadata", Default: "False", Kind: "bool", Description: "Rewrite the package record's metadata even when the file is not uploaded. Unlike JamfPackageUploader it never re-uploads the file by itself."},
	{Name: "skip_metadata_upload", Default: "False", Kind: "bool", Description: "Do not update an existing package record (for accounts without Update Packages). A new record is still created."},
	{Name: "jcds_mode", Default: "False", Kind: "bool", Description: "Accepted for old recipes: the JCDS GUI upload it named no longer exists, so True leaves the route to the automatic choice (JCDS 2.0 when the server has it, the packages upload otherwise), as JamfPackageUploader ignores it."},
	{Name: "jcds2_mode", Default: "False", Kind: "bool", Description: "True prefers the JCDS 2.0 (S3) route: where JCDS refuses (a missing privilege, endpoints gone, no Jamf Cloud distribution point) the packages upload is used, with one line saying what JCDS lacked, as JamfPackageUploader (which no longer reads this input) does. When neither jcds2_mode nor pkg_api_mode is true the route is chosen automatically in the same way."},
	{Name: "pkg_api_mode", Default: "False", Kind: "bool", Description: "True forces the supported Jamf Pro API route, POST /api/v1/packages/{id}/upload."},
	{Name: "aws_cdp_mode", Default: "False", Kind: "bool", Description: "Upload to a self-hosted S3 distribution point, s3://S3_BUCKET_NAME/pkg_name, instead of JCDS, with the AWS SDK (no AWS CLI): credentials, region and endpoint from the standard AWS configuration. An object already holding the package's bytes (read back, or known from this machine's own upload by its ETag) is not sent again."},
	{Name: "S3_BUCKET_NAME", Kind: "string", Description: "Bucket name (just the name) for aws_cdp_mode."},
	{Name: "recalculate", Default: "False", Kind: "bool", Description: "Ask for a full inventory refresh of the cloud distribution point instead of a per-file one."},
	{Name: "recalculate_wait_time", Default: "0", Kind: "int", Description: "Seconds to wait before the inventory refresh."},
	{Name: "sleep", Default: "0", Kind: "int", Description: "Floor, in seconds, of the wait between retries (JamfPackageUploader's meaning)."},
	{Name: "max_tries", Default: "5", Kind: "int", Description: "Attempts for each request and upload part, 1 to 10."},
	{Name: "md5", Default: "False", Kind: "bool", Description: "Record the package hash as MD5 instead of SHA3-512 (needed for MDM InstallEnterpriseApplication). A boolean here, unlike JamfPackageUploader, where any non-empty value enabled it."},
	{Name: "insecure_mode", Default: "False", Kind: "bool", Description: "Turn off TLS certificate verification and allow plain http:// to non-loopback hosts. Prints a warning."},
	{Name: "custom_curl_opts", Kind: "string", Unsupported: "no curl is run; timeouts, retries and proxies (HTTPS_PROXY) are built in, or set with jcds2_timeout and max_tries"},
	{Name: "dry_run", Default: "False", Kind: "bool", Description: "Look everything up, then print what would be uploaded, deleted, created or updated, and change nothing."},
	{Name: "show_upload_progress", Default: "False", Kind: "bool", Description: "Log upload progress at verbose 0 too (it is always logged at verbose 1 and above)."},
	{Name: "skip_if", Default: "False", Kind: "any", Unsupported: "NSPredicate evaluation is not available; put a StopProcessingIf step with the same predicate before this step"},
	{Name: "jcds2_s3_endpoint", Default: "", Kind: "string", Ours: true, Description: "S3 endpoint override (for the simulator or tests); AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL also work. Path-style addressing is used whenever an override is set."},
	{Name: "jcds2_concurrency", Default: "0", Kind: "int", Ours: true, Description: "Parallel S3 part uploads; 0 picks a default from the file size."},
	{Name: "jcds2_part_size_mb", Default: "0", Kind: "int", Ours: true, Description: "S3 multipart part size in MiB (5 to 5120); 0 picks a default from the file size."},
	{Name: "jcds2_verify_timeout", Default: "900", Kind: "int", Ours: true, Description: "Seconds to wait for Jamf Pro to list the uploaded hash before reporting \"uploaded, not yet verified\"."},
	{Name: "jcds2_timeout", Default: "120", Kind: "int", Ours: true, Description: "Seconds a Jamf Pro or S3 request may wait for an answer before it is retried (uploads through the packages API get longer, by size)."},
	{Name: "jcds2_lock_timeout", Default: "3600", Kind: "int", Ours: true, Description: "Seconds to wait for another run on this machine that uploads the same file to the same server (a stopped run holds its turn until it ends); then the run stops, naming that run, and changes nothing."},
	{Name: "jcds2_remove_duplicates", Default: "False", Kind: "bool", Ours: true, Description: "Kept for compatibility. Name_1.pkg-style copies of pkg_name with its bytes that no record names are always removed; files a record names, or with other bytes, never are."},
	{Name: "jcds2_reuse_auth", Default: "False", Kind: "bool", Ours: true, Description: "Reuse a still-valid bearer token across processors of one recipe run through a 0600 file in RECIPE_CACHE_DIR."},
	{Name: "JCDS2_UPLOADER_PATH", Kind: "string", Ours: true, Description: "Path to the jcds2-uploader binary (read by the shim)."},
}

// Outputs are the variables a run sets.
var Outputs = []Output{
	{Name: "pkg_name", Description: "File name of the package in Jamf Pro."},
	{Name: "pkg_display_name", Description: "Display name of the package record."},
	{Name: "pkg_path", Description: "Absolute path of the package given (a bundle keeps its own path; the summary names the .zip that was uploaded)."},
	{Name: "pkg_uploaded", Description: "True (a plist boolean) when the file was uploaded in this run."},
	{Name: "pkg_metadata_updated", Description: "True (a plist boolean) when the package record was created or updated."},
	{Name: "pkg_id", Ours: true, Description: "ID of the package record, as a string."},
	{Name: "pkg_hash_sha3_512", Ours: true, Description: "SHA3-512 of the package, hex, when known (computed locally or listed by JCDS)."},
	{Name: "pkg_hash_md5", Ours: true, Description: "MD5 of the package, hex."},
	{Name: "pkg_upload_status", Ours: true, Description: "What happened: unchanged, uploaded, verified; uploaded, not yet verified; metadata updated; dry run."},
	{Name: SummaryKey, Description: "Summary for AutoPkg's report, written only when something changed."},
}

// SecretKeyMarkers mark an env key as secret when its upper-cased name
// contains one of them (API_PASSWORD, CLIENT_SECRET, BEARER_TOKEN,
// SMB2_PASSWORD, GITHUB_TOKEN ...). SMB_SHARES holds passwords too.
var SecretKeyMarkers = []string{"PASSWORD", "SECRET", "TOKEN", "SMB_SHARES"}

// GetManifest returns the whole manifest.
func GetManifest() Manifest {
	return Manifest{Processor: Name, Description: Description, Inputs: Inputs, Outputs: Outputs, SecretKeyMarkers: SecretKeyMarkers}
}

// LookupInput returns the manifest entry for name.
func LookupInput(name string) (Input, bool) {
	for _, in := range Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return Input{}, false
}
