package jcds2

import (
	"fmt"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// The engine's errors are typed so the edge can add the names of its own
// inputs or flags; their text never spells one.

// NoDistributionPointError: cdnType NONE, so there is nowhere to upload.
type NoDistributionPointError struct{ URL string }

func (e *NoDistributionPointError) Error() string {
	return fmt.Sprintf("%s has no cloud distribution point (cdnType NONE): configure one in Jamf Pro (Settings > Server > Cloud distribution point) or upload to a file share distribution point", e.URL)
}

// ChangedError: the package changed while it was read or uploaded, so
// what was sent is not a file that ever existed as a whole.
type ChangedError struct {
	Path string
	What string
}

// Permanent tells retry layers that sending again cannot help.
func (e *ChangedError) Permanent() bool { return true }

func (e *ChangedError) Error() string {
	what := ""
	if e.What != "" {
		what = " (" + e.What + ")"
	}
	return fmt.Sprintf("%s changed while it was being read%s: nothing was recorded for it; wait until the step that writes it has finished, then run again", e.Path, what)
}

// InterruptedError: a signal stopped the run; Left says, truthfully,
// what the server holds now.
type InterruptedError struct {
	Step string
	Left string
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted while %s: %s", e.Step, e.Left)
}

// CategoryError: the category the package asks for does not exist. The
// edge names the setting that asked for it.
type CategoryError struct {
	Err *jamf.CategoryNotFoundError
}

func (e *CategoryError) Error() string { return e.Err.Error() }
func (e *CategoryError) Unwrap() error { return e.Err }

func hashWord(h string) string { return strings.ToLower(strings.ReplaceAll(h, "_", "-")) }

// MissingPrivilegeError: Jamf Pro refused a step (403) that needs a
// privilege the account lacks. Privilege is Jamf's own name for it; the
// edge says where the credentials came from.
type MissingPrivilegeError struct {
	Privilege string // e.g. "Create Packages"
	Step      string // what the run was doing
	Err       error
}

func (e *MissingPrivilegeError) Error() string {
	return fmt.Sprintf("%s: %v; the account lacks the %q privilege", e.Step, e.Err, e.Privilege)
}
func (e *MissingPrivilegeError) Unwrap() error { return e.Err }

// needs turns a 403 into a MissingPrivilegeError naming privilege.
func needs(err error, privilege, step string) error {
	if err != nil && jamf.IsStatus(err, 403) {
		return &MissingPrivilegeError{Privilege: privilege, Step: step, Err: err}
	}
	return err
}

// RecordNamesOtherFileError: the package record found for the package
// (by its display name) names a wholly other file, and metadata updates
// are off, so the record cannot be pointed at this package. Uploading
// anyway would leave a file no record names, or a record that does not
// describe the file it names (and the packages route refuses a file
// name other than the record's): the plan refuses before anything is
// written. The edge says which setting turns metadata updates on.
type RecordNamesOtherFileError struct {
	ID, Display string // the record found
	FileName    string // the file it names
	PkgName     string // the package's file name
}

func (e *RecordNamesOtherFileError) Error() string {
	return fmt.Sprintf("package record %s (%q) names the file %s, not %s, and metadata updates are off, so the record cannot be pointed at %s: nothing was uploaded or changed",
		e.ID, e.Display, e.FileName, e.PkgName, e.PkgName)
}
