package processor

import (
	"errors"
	"fmt"

	"github.com/jcds2-uploader/jcds2-uploader/distpoint"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// Names is how one edge (processor mode, the pkg command) spells the
// settings its users give: the library's errors and notes never name an
// input or a flag; the edge adds them.
type Names struct {
	Replace, SkipMetadata, Category, Insecure string
	DisplayName                               string // the package record's name
	LockWait                                  string // the wait for another run of the same upload
	// NeedsReplace is the sentence that says how to allow replacing.
	NeedsReplace string
	// Credentials by method: the inputs (or variables) that hold them.
	Password, Client, Token string
	// URL holds the server's address.
	URL string
	// PkgPath gives the package ("" when the edge's own words are the
	// path itself, as on the command line).
	PkgPath string
}

// processorNames are AutoPkg's input names.
var processorNames = Names{
	Replace:      "replace_pkg",
	SkipMetadata: "skip_metadata_upload",
	DisplayName:  "pkg_display_name",
	Category:     "pkg_category",
	Insecure:     "insecure_mode",
	LockWait:     "jcds2_lock_timeout",
	NeedsReplace: "Set replace_pkg to True to upload it.",
	Password:     "API_USERNAME and API_PASSWORD",
	Client:       "CLIENT_ID and CLIENT_SECRET",
	Token:        "BEARER_TOKEN",
	URL:          "JSS_URL",
	PkgPath:      "pkg_path",
}

// cliNames are the pkg command's flags (credentials come from the
// environment or the prefs there).
var cliNames = Names{
	Replace:      "--replace",
	SkipMetadata: "--skip-metadata-upload",
	DisplayName:  "--name",
	Category:     "--category",
	Insecure:     "--insecure",
	LockWait:     "--key jcds2_lock_timeout=N",
	NeedsReplace: "Run again with --replace to upload it.",
	Password:     "--user (or API_USERNAME) and API_PASSWORD",
	Client:       "--clientid (or CLIENT_ID) and CLIENT_SECRET",
	Token:        "BEARER_TOKEN",
	URL:          "--url (or JSS_URL)",
}

// note renders one of the engine's notes in this edge's words.
func (n Names) note(note jcds2.Note) string {
	switch note.Hint {
	case jcds2.NeedsReplace:
		return note.Text + " " + n.NeedsReplace
	case jcds2.ReplaceAllowed:
		return note.Text + " (" + n.Replace + " is set)"
	case jcds2.MetadataSkipped:
		return note.Text + " (" + n.SkipMetadata + " is set)"
	}
	return note.Text
}

// outcome says how a run left the package, when that is not converged,
// in this edge's words: what the user can do about it. "" when converged.
func (n Names) outcome(res *jcds2.Result) string {
	name := res.PkgName
	switch res.Outcome {
	case jcds2.Diverged:
		if res.NeedsReplace {
			return fmt.Sprintf("%s was left as it is: Jamf Pro (or a distribution point) holds other bytes under that name. %s", name, n.NeedsReplace)
		}
		return fmt.Sprintf("%s was left as it is: other bytes arrived under that name during this run; run again to decide.", name)
	case jcds2.Lost:
		return fmt.Sprintf("%s was left to another run, whose upload of other bytes won while this one uploaded; this run left no copy of its own (%s replaces what a run finds, not what a concurrent run leaves).", name, n.Replace)
	case jcds2.Unhashed:
		if res.Uploaded {
			return fmt.Sprintf("%s was uploaded, not verified: Jamf Pro processed it but computed no hash for its file (it does not for very large packages), so no run can check the bytes it holds.", name)
		}
		// Sending it again would not verify it either: Jamf Pro would not
		// hash that upload. Say so, so that a replace is a choice made
		// for the bytes, not a way to get a hash.
		return fmt.Sprintf("%s was left as it is, not verified: Jamf Pro computed no hash for its file (it does not for very large packages), so no run can tell whether it holds these bytes. Only if it may not: %s Jamf Pro will not hash that upload either.", name, n.NeedsReplace)
	}
	return ""
}

// edgeLog is the engine's logger at one edge: notes are said in the
// words of that edge's inputs or flags.
type edgeLog struct {
	*Logger
	names Names
}

func (l edgeLog) Note(n jcds2.Note) { l.Logf(n.Level, "%s", l.names.note(n)) }

// hint adds the edge's names to an engine error.
func (n Names) hint(err error) error {
	var tlsErr *jamf.TLSError
	var authErr *jamf.AuthError
	var catErr *jcds2.CategoryError
	var privErr *jcds2.MissingPrivilegeError
	var unreachable *jamf.UnreachableError
	var pkgErr *jcds2.PackageError
	var otherFile *jcds2.RecordNamesOtherFileError
	switch {
	case errors.As(err, &otherFile):
		return fmt.Errorf("%s: %w. To point that record at %s, turn %s off; to give %s a record of its own, give it a %s no other package has",
			n.SkipMetadata, err, otherFile.PkgName, n.SkipMetadata, otherFile.PkgName, n.DisplayName)
	case errors.As(err, &pkgErr) && n.PkgPath != "":
		return fmt.Errorf("%s %w", n.PkgPath, err)
	case errors.As(err, &unreachable):
		// Before the credentials: a server that cannot be reached says
		// nothing about them, even when the token request found out.
		return fmt.Errorf("%s: %w", n.URL, unreachable)
	case errors.As(err, &catErr):
		return fmt.Errorf("%s: %w", n.Category, err)
	case errors.As(err, &tlsErr):
		return fmt.Errorf("%w (to skip the check for a server you trust, set %s)", err, n.Insecure)
	case errors.Is(err, distpoint.ErrRetryReplacing):
		return fmt.Errorf("%w (with %s)", err, n.Replace)
	case errors.Is(err, distpoint.ErrPlainHTTP):
		return fmt.Errorf("%w (%s allows it)", err, n.Insecure)
	case errors.As(err, &privErr):
		return fmt.Errorf("%w: add it to the API role of the client in %s (or to the privileges of the user in %s)", err, n.Client, n.Password)
	case errors.As(err, &authErr):
		who := map[jamf.AuthMethod]string{jamf.AuthPassword: n.Password, jamf.AuthClient: n.Client, jamf.AuthToken: n.Token}[authErr.Method]
		return fmt.Errorf("%s: %w", who, err)
	}
	return err
}
