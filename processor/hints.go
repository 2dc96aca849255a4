package processor

import (
	"errors"
	"fmt"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// Names is how one edge (processor mode, the pkg command) spells the
// settings its users give: the library's errors and log lines never
// name an input or a flag; the edge adds them.
type Names struct {
	Settings map[jcds2.Setting]string
	Insecure string
	// Credentials by method: the inputs (or variables) that hold them.
	Password, Client, Token string
}

// processorNames are AutoPkg's input names.
var processorNames = Names{
	Settings: map[jcds2.Setting]string{
		jcds2.SetReplace: "replace_pkg", jcds2.SetReplaceMetadata: "replace_pkg_metadata",
		jcds2.SetSkipMetadata: "skip_metadata_upload", jcds2.SetRemoveDuplicates: "jcds2_remove_duplicates",
		jcds2.SetVerifyTimeout: "jcds2_verify_timeout", jcds2.SetCategory: "pkg_category",
	},
	Insecure: "insecure_mode",
	Password: "API_USERNAME and API_PASSWORD",
	Client:   "CLIENT_ID and CLIENT_SECRET",
	Token:    "BEARER_TOKEN",
}

// cliNames are the pkg command's flags (credentials come from the
// environment or the prefs there).
var cliNames = Names{
	Settings: map[jcds2.Setting]string{
		jcds2.SetReplace: "--replace", jcds2.SetReplaceMetadata: "--replace-pkg-metadata",
		jcds2.SetSkipMetadata: "--skip-metadata-upload", jcds2.SetRemoveDuplicates: "--key jcds2_remove_duplicates=True",
		jcds2.SetVerifyTimeout: "--key jcds2_verify_timeout=N", jcds2.SetCategory: "--category",
	},
	Insecure: "--insecure",
	Password: "--user (or API_USERNAME) and API_PASSWORD",
	Client:   "--clientid (or CLIENT_ID) and CLIENT_SECRET",
	Token:    "BEARER_TOKEN",
}

// hint adds the edge's names to an engine error.
func (n Names) hint(err error) error {
	var tlsErr *jamf.TLSError
	var authErr *jamf.AuthError
	switch {
	case errors.As(err, &tlsErr):
		return fmt.Errorf("%w (to skip the check for a server you trust, set %s)", err, n.Insecure)
	case errors.As(err, &authErr):
		who := map[jamf.AuthMethod]string{jamf.AuthPassword: n.Password, jamf.AuthClient: n.Client, jamf.AuthToken: n.Token}[authErr.Method]
		return fmt.Errorf("%s: %w", who, err)
	}
	return err
}
