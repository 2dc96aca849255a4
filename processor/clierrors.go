package processor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// How the pkg command reports a failure: in its own words (flags, not
// AutoPkg input names) and, with --json, as an object saying what kind of
// failure it was and what it left.

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// errorView is --json's error object: what kind of failure, the message,
// and what the run left on the server when that is known.
func errorView(err error, msg string) map[string]any {
	kind, left := "failed", ""
	var (
		ue *UsageError
		ie *InputError
		ni *NotImplementedError
		ae *jamf.AuthError
		te *jamf.TLSError
		re *jamf.UnreachableError
		ir *jcds2.InterruptedError
		ce *jcds2.CategoryError
		nd *jcds2.NoDistributionPointError
	)
	switch {
	case errors.As(err, &ue):
		kind, left = "usage", "nothing was changed"
	case errors.As(err, &ni):
		kind, left = "not_implemented", "nothing was changed"
	case errors.As(err, &ie), errors.As(err, &ce):
		kind, left = "input", "nothing was changed"
	case errors.As(err, &ae):
		kind = "auth"
	case errors.As(err, &te):
		kind = "tls"
	case errors.As(err, &re):
		kind = "unreachable"
		if !re.Reached {
			left = "nothing was changed"
		}
	case errors.As(err, &nd):
		kind, left = "setup", "nothing was changed"
	case errors.As(err, &ir):
		kind, left = "interrupted", ir.Left
	}
	v := map[string]any{"kind": kind, "message": msg}
	if left != "" {
		v["left"] = left
	}
	return v
}

// inputFlags spell inputs as pkg's flags, for messages about them.
var inputFlags = func() map[string]string {
	m := map[string]string{}
	for _, f := range PkgFlags {
		if f.key != "" && f.key != strings.ToUpper(f.key) {
			m[f.key] = "--" + f.Name
		}
	}
	delete(m, "md5")
	delete(m, "recalculate")
	return m
}()

// cliCredentialAdvice re-words the processor's advice on credentials.
var cliCredentialAdvice = map[string]string{
	"no Jamf Pro credentials: set CLIENT_ID and CLIENT_SECRET, or API_USERNAME and API_PASSWORD, or BEARER_TOKEN": "no Jamf Pro credentials: export CLIENT_ID and CLIENT_SECRET, or API_USERNAME and API_PASSWORD, or BEARER_TOKEN (--prefs reads them from an AutoPkg preferences file; on macOS the secret may be in the login keychain)",
	"give the API client's secret": "export CLIENT_SECRET (on macOS it may instead be in the login keychain); it is never taken from the command line",
	"give the account's password":  "export API_PASSWORD (on macOS it may instead be in the login keychain); it is never taken from the command line",
}

var switchToTrue = regexp.MustCompile(`(--[a-z0-9-]+) to True\b`)

var inputWord = regexp.MustCompile(`\b[a-z][a-z0-9_]*[a-z0-9]\b`)

// cliError re-spells an input error in the command's own terms: flags
// instead of AutoPkg input names, and no advice about recipes.
func cliError(err error) error {
	var ie *InputError
	if !errors.As(err, &ie) {
		return err
	}
	msg := err.Error()
	for _, s := range []string{" in the AutoPkg preferences or the recipe Input", " in the recipe Input or with -k"} {
		msg = strings.ReplaceAll(msg, s, "")
	}
	msg = inputWord.ReplaceAllStringFunc(msg, func(w string) string {
		if f, ok := inputFlags[w]; ok {
			return f
		}
		return w
	})
	msg = strings.ReplaceAll(msg, "set --", "use --")
	msg = switchToTrue.ReplaceAllString(msg, "$1") // a switch needs no value
	if rest, ok := strings.CutPrefix(msg, "JSS_URL "); ok {
		msg = "--url (or JSS_URL) " + rest
	}
	// Credentials come from the environment here (or the prefs or the
	// keychain), never from the command line: say how to give them.
	for old, new := range cliCredentialAdvice {
		msg = strings.ReplaceAll(msg, old, new)
	}
	return &InputError{Msg: msg}
}

// commandFailed prints a failure of a flags-only command (prune, audit)
// the CLI's way: "jcds2-uploader CMD: ..." with secrets redacted, and for
// a wrong command line (ExitUsage) where the flags are described. It
// returns code, the command's exit status.
func commandFailed(stderr io.Writer, log *Logger, cmd, msg string, code int) int {
	fmt.Fprintf(stderr, "jcds2-uploader %s: %s\n", cmd, log.Redact(msg))
	if code == ExitUsage {
		fmt.Fprintf(stderr, "Run 'jcds2-uploader %s --help' for the flags.\n", cmd)
	}
	return code
}
