package jcds2

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/classicxml"
)

// Engine uploads packages. The zero value is not usable; call NewEngine.
type Engine struct {
	objects objectUploader
}

// NewEngine returns the engine with the AWS SDK's multipart uploader.
func NewEngine() *Engine { return &Engine{objects: defaultObjectUploader} }

// run is the state of one upload.
type run struct {
	e     *Engine
	req   *Request
	log   Logger
	c     *Client
	v     ServerVersion
	file  string // the file to upload (the zip for bundles)
	size  int64
	cache *hashCache
	local Hashes // what we know of the local file
	rec   *record
	res   *Result
	plan  []string
	// hashFromServer: on the packages route the record's hash must come
	// from Jamf Pro's own processing of the file, so a record whose file
	// never arrived never claims a hash.
	hashFromServer bool
}

// record is the package record, from either API.
type record struct {
	id       string
	fileName string
	display  string
	hashType string
	hashVal  string
	raw      map[string]any // Jamf Pro API fields as looked up: the merge base
	classic  *classicxml.Package
}

// Upload makes Jamf Pro hold exactly one record and one file with the
// local package's bytes.
func (e *Engine) Upload(ctx context.Context, req *Request, log Logger) (*Result, error) {
	r := &run{e: e, req: req, log: log, res: &Result{PkgName: req.PkgName}}
	r.c = NewClient(req, log)
	if req.ReuseToken {
		r.c.tokens.enableCache(req.CacheDir)
	}
	defer func() {
		r.c.tokens.Close(ctx)
		r.res.HTTPCalls = r.c.Calls()
		log.Logf(1, "%d HTTP requests to Jamf Pro", r.res.HTTPCalls)
	}()
	r.cache = openHashCache(req.CacheDir)
	if err := r.prepareFile(); err != nil {
		return nil, err
	}
	r.local = r.cache.Get(r.file)

	// Authenticate first, so bad credentials are reported as such.
	if _, err := r.c.tokens.Token(ctx); err != nil {
		return nil, err
	}
	v, err := r.c.Version(ctx)
	if err != nil {
		return nil, err
	}
	r.v = v
	log.Logf(1, "Jamf Pro %s at %s", v.Raw, req.URL)

	var files []FileData
	hasJCDS := false
	if req.Route != RoutePackages {
		if files, hasJCDS, err = r.c.ListJCDS(ctx); err != nil {
			return nil, err
		}
	}
	route := req.Route
	switch {
	case route == RouteJCDS2 && !hasJCDS:
		return nil, fmt.Errorf("jcds2_mode is True but %s has no JCDS 2.0 distribution point: set pkg_api_mode to True instead", req.URL)
	case route == RouteAuto && hasJCDS:
		route = RouteJCDS2
	case route == RouteAuto:
		route = RoutePackages
	}
	if route == RoutePackages && !v.AtLeast(11, 5) {
		return nil, fmt.Errorf("Jamf Pro %s has no JCDS 2.0 and is older than 11.5, so it has no packages upload endpoint: upgrade Jamf Pro or upload by hand", v.Raw)
	}
	log.Logf(1, "Upload route: %s; metadata route: %s", route, map[bool]string{true: "Jamf Pro API", false: "Classic API"}[r.modernAPI()])

	if r.rec, err = r.findRecord(ctx); err != nil {
		return nil, err
	}
	if route == RouteJCDS2 {
		err = r.viaJCDS(ctx, files)
	} else {
		err = r.viaPackages(ctx)
	}
	if err != nil {
		if ctx.Err() != nil && !strings.HasPrefix(err.Error(), "interrupted") {
			err = fmt.Errorf("interrupted (%w); run again to finish", err)
		}
		return nil, err
	}
	if req.DryRun {
		r.res.Plan = r.plan
		r.res.Status = "dry run"
		for _, p := range r.plan {
			log.Logf(0, "Dry run: would %s", p)
		}
		if len(r.plan) == 0 {
			log.Logf(0, "Dry run: nothing to do")
		}
	}
	r.res.SHA3, r.res.MD5 = r.local.SHA3, r.local.MD5
	r.res.PkgPath = r.file
	return r.res, nil
}

func (r *run) modernAPI() bool { return r.v.AtLeast(11, 5) }

// prepareFile zips a bundle and sizes the file.
func (r *run) prepareFile() error {
	r.file = r.req.PkgPath
	st, err := os.Stat(r.file)
	if err != nil {
		return fmt.Errorf("pkg_path: %w", err)
	}
	if st.IsDir() {
		dir := filepath.Join(r.req.CacheDir, "jcds2-uploader-bundles")
		if r.req.CacheDir == "" {
			dir = filepath.Dir(r.file)
		}
		r.log.Logf(1, "Zipping bundle package %s", r.file)
		if r.file, err = zipBundle(r.req.PkgPath, dir, r.req.PkgName, r.cache); err != nil {
			return err
		}
		if st, err = os.Stat(r.file); err != nil {
			return err
		}
	}
	r.size = st.Size()
	return nil
}

// findRecord looks the package record up by file name, then display name.
func (r *run) findRecord(ctx context.Context) (*record, error) {
	if r.modernAPI() {
		p, raw, err := r.c.FindPackage(ctx, r.req.PkgName, r.req.DisplayName)
		if err != nil || p == nil {
			return nil, err
		}
		return &record{id: p.ID, fileName: p.FileName, display: p.PackageName, hashType: deref(p.HashType), hashVal: deref(p.HashValue), raw: raw}, nil
	}
	p, err := r.c.ClassicFindPackage(ctx, r.req.DisplayName)
	if err != nil || p == nil {
		return nil, err
	}
	return &record{id: fmt.Sprint(p.ID), fileName: p.Filename, display: p.Name, hashType: p.HashType, hashVal: p.HashValue, classic: p}, nil
}

// ensureHashes makes sure the wanted hashes are known, from the cache or
// one read of the file.
func (r *run) ensureHashes(md5, sha3 bool) error {
	needMD5 := md5 && r.local.MD5 == ""
	needSHA3 := sha3 && r.local.SHA3 == ""
	if !needMD5 && !needSHA3 {
		r.log.Logf(2, "Using the cached hash of %s (same path, size, mtime and inode)", r.file)
		return nil
	}
	start := time.Now()
	h, err := HashFile(r.file, needMD5, needSHA3)
	if err != nil {
		return err
	}
	if h.MD5 != "" {
		r.local.MD5 = h.MD5
	}
	if h.SHA3 != "" {
		r.local.SHA3 = h.SHA3
	}
	r.log.Logf(2, "Hashed %s in %s", r.file, time.Since(start).Round(time.Millisecond))
	r.cache.Put(r.file, r.local)
	return nil
}

// resolveCategory checks the category before anything is written.
func (r *run) resolveCategory(ctx context.Context) (string, error) {
	if !r.modernAPI() {
		if r.req.Category == "" {
			return "", nil
		}
		return r.req.Category, r.c.ClassicCategoryExists(ctx, r.req.Category)
	}
	return r.c.CategoryID(ctx, r.req.Category)
}

// SplitName splits a package file name into base and extension, keeping
// a bundle's double extension together: "App.pkg.zip" is "App" and
// ".pkg.zip". JCDS puts a clashing upload at base + "_1" + ext.
func SplitName(name string) (base, ext string) {
	ext = filepath.Ext(name)
	base = strings.TrimSuffix(name, ext)
	if strings.HasSuffix(strings.ToLower(base), ".pkg") {
		ext = base[len(base)-4:] + ext
		base = base[:len(base)-4]
	}
	return base, ext
}

// duplicatesOf finds Name_1.pkg-style copies of name in a JCDS listing.
func duplicatesOf(name string, files []FileData) []FileData {
	base, ext := SplitName(name)
	re := regexp.MustCompile("^" + regexp.QuoteMeta(base) + `_\d+` + regexp.QuoteMeta(ext) + "$")
	var out []FileData
	for _, f := range files {
		if re.MatchString(f.FileName) {
			out = append(out, f)
		}
	}
	return out
}

func findFile(name string, files []FileData) *FileData {
	for i := range files {
		if files[i].FileName == name {
			return &files[i]
		}
	}
	return nil
}

// wait sleeps for d unless ctx ends first.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// interrupted replaces an error caused by an interrupt (SIGINT, SIGTERM)
// with what the interrupted step left behind.
func interrupted(ctx context.Context, err error, state string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %s", state)
	}
	return err
}
