package processor

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
	"github.com/jcds2-uploader/jcds2-uploader/lifecycle"
)

const auditUsage = `Usage: jcds2-uploader audit [--json] [--csv FILE] [--fix [--pkg-dir DIR]] [flags]

Reads the whole package repository, changing nothing: JCDS files no record
names, records whose file is missing, records not READY or without a size,
hashes that do not describe the file, Name_N duplicates, packages nothing
installs, and the storage each title uses. --fix repairs only what an
upload run converges anyway, through the upload engine itself: each
package with a fixable finding that is in --pkg-dir is uploaded as an
AutoPkg run would (the engine refreshes, corrects a hash, uploads a
missing file, removes a Name_N copy it proves holds the same bytes);
without the package, a record not READY or with a wrong hash gets an
inventory refresh. The rest is listed.
`

// RunAudit is `jcds2-uploader audit`.
func RunAudit(ctx context.Context, up jcds2.Uploader, args []string, stdout, stderr io.Writer) int {
	verbose, rest := SplitVerbose(args)
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, auditUsage); fs.PrintDefaults() }
	url := fs.String("url", "", "Jamf Pro URL (or a bare jamfcloud tenant name)")
	user := fs.String("user", "", "Jamf Pro user name (password from API_PASSWORD)")
	clientID := fs.String("clientid", "", "API client ID (secret from CLIENT_SECRET)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	csvPath := fs.String("csv", "", "also write the findings as CSV to this file")
	fix := fs.Bool("fix", false, "repair what an upload run would converge; list the rest")
	pkgDir := fs.String("pkg-dir", "", "with --fix: a folder holding packages whose files are missing")
	insecure := fs.Bool("insecure", false, "do not verify TLS certificates")
	prefs := fs.String("prefs", "", "AutoPkg preferences plist to read credentials and keys from")
	var keys ListFlag
	fs.Var(&keys, "key", "extra input as KEY=VALUE (repeatable)")
	if err := fs.Parse(rest); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return ExitUsage
	}
	log := NewLogger(stderr, verbose)
	log.SetName("audit")
	// The CLI's conventions (cli.go): exit 1 for a failed run, 2 for a
	// wrong command line.
	failCode := func(err error, code int) int { return commandFailed(stderr, log, "audit", err.Error(), code) }
	fail := func(err error) int { return failCode(cliNames.privilegeHint(err), ExitFailed) }
	if fs.NArg() > 0 {
		return failCode(fmt.Errorf("unexpected argument %q: audit takes flags only", fs.Arg(0)), ExitUsage)
	}
	if *pkgDir != "" && !*fix {
		return failCode(errors.New("--pkg-dir is for --fix: add --fix, or drop --pkg-dir"), ExitUsage)
	}
	given := map[string]string{"JSS_URL": *url, "API_USERNAME": *user, "CLIENT_ID": *clientID}
	if *insecure {
		given["insecure_mode"] = "True"
	}
	env, err := CLIEnv(*prefs, given, keys)
	if err != nil {
		return fail(err)
	}
	for _, s := range env.SecretValues() {
		log.Secret(s)
	}
	c, _, err := cleanerClient(env, log)
	if err != nil {
		return fail(err)
	}
	defer c.Close(ctx)
	limitMemory()
	rep, err := readAudit(ctx, c, log)
	if err != nil {
		return fail(err)
	}
	if *fix {
		fixed, err := fixAudit(ctx, c, up, env, rep, *pkgDir, log)
		if err != nil {
			return fail(err)
		}
		log.Logf(0, "--fix repaired %d; reading the repository again", fixed)
		if rep, err = readAudit(ctx, c, log); err != nil {
			return fail(err)
		}
	}
	if *csvPath != "" {
		if err := writeAuditCSV(*csvPath, rep); err != nil {
			return fail(err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fail(err)
		}
	} else {
		printAudit(stdout, c.URL(), rep)
	}
	log.Logf(1, "%d HTTP requests to Jamf Pro", c.Calls())
	return 0
}

// readAudit reads which packages something installs, the JCDS listing, then the
// records a page at a time, judging each as it comes: what it holds is
// a set of ids, one small entry per JCDS file and the findings, never every
// record at once (memory stays near flat as the repository grows).
func readAudit(ctx context.Context, c *jamf.Client, log *Logger) (*lifecycle.Report, error) {
	if err := lifecycle.CheckServer(ctx, c); err != nil {
		return nil, err
	}
	used, err := c.PackagesInUse(ctx, usageProgress(log))
	if err != nil {
		return nil, err
	}
	a := lifecycle.NewAuditor(true, used.Has)
	err = c.EachJCDSFile(ctx, func(f jamf.FileData) error { a.AddFile(f); return nil })
	var no *jamf.NoJCDSError
	if errors.As(err, &no) && no.Privilege != "" {
		log.Logf(0, "The account lacks the %q privilege: the JCDS file checks are skipped", no.Privilege)
		a, err = lifecycle.NewAuditor(false, used.Has), nil
	} else if errors.As(err, &no) {
		log.Logf(0, "This server has no JCDS 2.0 file list: file checks are skipped")
		a, err = lifecycle.NewAuditor(false, used.Has), nil
	}
	if err != nil {
		return nil, err
	}
	if err := c.EachPackage(ctx, func(p jamf.Package) error { a.AddPackage(p); return nil }); err != nil {
		return nil, err
	}
	return a.Report(), nil
}

// fixAudit repairs what an upload run converges anyway, through the
// upload engine itself: for each package with a fixable finding whose
// file is in pkgDir (a record not READY or with a lying hash, a missing
// file, a Name_N copy with the same bytes), it runs the upload of that
// package, as AutoPkg would, with jcds2_remove_duplicates on; the
// engine observes, plans (refresh, hash correction, upload, removal of
// copies it proves hold the local bytes) and verifies. Without the local
// package the one repair that needs no file is the inventory refresh,
// which makes Jamf Pro recompute size and hashes from the file
// (reference section 13); a copy is never deleted on the listing's word.
func fixAudit(ctx context.Context, c *jamf.Client, up jcds2.Uploader, env Env, rep *lifecycle.Report, pkgDir string, log *Logger) (int, error) {
	type target struct{ file, display string }
	var targets []target
	seen := map[string]bool{}
	local := func(file string) bool {
		if pkgDir == "" {
			return false
		}
		_, err := os.Stat(filepath.Join(pkgDir, file))
		return err == nil
	}
	want := func(file, display string) {
		if !seen[file] {
			seen[file] = true
			targets = append(targets, target{file, display})
		}
	}
	refresh := false
	for _, f := range rep.Findings {
		switch {
		case f.Class == lifecycle.NotReady || f.Class == lifecycle.HashMismatch:
			if local(f.FileName) {
				want(f.FileName, f.PackageName)
			} else {
				refresh = true
			}
		case f.Class == lifecycle.Duplicate && f.SameBytes:
			if local(f.Original) {
				want(f.Original, f.OriginalName)
			} else {
				log.Logf(0, "Not fixed (duplicate): %s: put %s in --pkg-dir, and the upload engine proves the copy holds its bytes and removes it", f.Detail, f.Original)
			}
		case f.Class == lifecycle.MissingFile:
			if local(f.FileName) {
				want(f.FileName, f.PackageName)
			} else {
				log.Logf(0, "Not fixed (missing-file): %s: put the package in --pkg-dir to upload it again", f.Detail)
			}
		case f.Fix == "" && f.Class != lifecycle.Unused:
			log.Logf(0, "Not fixed (%s): %s", f.Class, f.Detail)
		}
	}
	fixed := 0
	for _, t := range targets {
		run := Env{}
		for k, v := range env {
			run[k] = v
		}
		run["pkg_path"] = filepath.Join(pkgDir, t.file)
		run["jcds2_remove_duplicates"] = "True"
		if t.display != "" {
			run["pkg_display_name"] = t.display
		}
		if _, err := Process(ctx, up, run, log); err != nil {
			return fixed, fmt.Errorf("converging %s through the upload engine: %w", t.file, err)
		}
		log.Logf(0, "Converged %s through the upload engine", t.file)
		fixed++
	}
	if refresh {
		v, err := c.Version(ctx)
		if err != nil {
			return fixed, err
		}
		if err := c.RefreshInventory(ctx, v, ""); err != nil {
			return fixed, err
		}
		log.Logf(0, "Refreshed the distribution point inventory")
		fixed++
	}
	return fixed, nil
}

func printAudit(w io.Writer, url string, r *lifecycle.Report) {
	fmt.Fprintf(w, "Audit of %s: %d package records, %d JCDS files, %s\n", url, r.Packages, r.Files, jcds2.HumanBytes(r.Bytes))
	counts := map[string]int{}
	for _, f := range r.Findings {
		counts[f.Class]++
	}
	for _, class := range []string{lifecycle.OrphanFile, lifecycle.MissingFile, lifecycle.NotReady, lifecycle.HashMismatch,
		lifecycle.UnknownHashes, lifecycle.Duplicate, lifecycle.Unused} {
		fmt.Fprintf(w, "  %-15s %d\n", class, counts[class])
	}
	for _, f := range r.Findings {
		fix := ""
		if f.Fix != "" {
			fix = " [--fix: " + f.Fix + "]"
		}
		fmt.Fprintf(w, "%-15s %s%s\n", f.Class, f.Detail, fix)
	}
	fmt.Fprintln(w, "Storage by title:")
	for _, t := range r.Titles {
		fmt.Fprintf(w, "  %-40s %4d packages %12s\n", t.Title, t.Packages, jcds2.HumanBytes(t.Bytes))
	}
}

func writeAuditCSV(path string, r *lifecycle.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing the CSV: %w: check --csv", err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"class", "packageId", "fileName", "detail", "fix"})
	for _, x := range r.Findings {
		w.Write([]string{x.Class, x.PackageID, x.FileName, x.Detail, x.Fix})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
