package jamf

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"sync"
)

// What installs a package. JamfUnusedPackageCleaner (grahampugh/jamf-upload)
// reads the same three places: Classic policies' package_configuration,
// patch software title configurations' packages, and computer PreStages'
// customPackageIds. Shapes follow Jamf-Concepts/jamf-cli's specs
// (classic/schemas.json, PatchSoftwareTitleConfigurations.yaml,
// ComputerPrestagesV3.yaml).

// Use is one thing that installs a package.
type Use struct {
	Kind string // "policy", "patch title", "PreStage"
	ID   string
	Name string
	// Version is the patch title version the package is (patch titles only).
	Version string
}

func (u Use) String() string {
	s := fmt.Sprintf("%s %s %q", u.Kind, u.ID, u.Name)
	if u.Version != "" {
		s += " version " + u.Version
	}
	return s
}

// Usage maps package ids to what installs them.
type Usage map[string][]Use

// MaxInFlight is how many requests the usage readers send at once: Jamf
// asks API clients for at most 5 connections; 4 leaves one for others.
const MaxInFlight = 4

// listedPackage is what a lifecycle reads of a record: no Raw map and
// none of the three hash fields beside hashType/hashValue. At 5,000
// records, Raw maps and unused hashes were most of a run's heap.
type listedPackage struct {
	ID                  string  `json:"id"`
	PackageName         string  `json:"packageName"`
	FileName            string  `json:"fileName"`
	HashType            *string `json:"hashType"`
	HashValue           *string `json:"hashValue"`
	Size                *string `json:"size"`
	CloudTransferStatus string  `json:"cloudTransferStatus"`
}

// EachPackage reads every package record, a page of 100 at a time by id,
// and hands each to fn as soon as its page is read: only one page is held
// (the caller keeps what it needs). A record comes without Raw, CategoryID
// or the md5/sha256/sha3512 fields (a listing is read, never merged back).
// fn's error stops the reading and is returned as it is.
func (c *Client) EachPackage(ctx context.Context, fn func(Package) error) error {
	for page := 0; ; page++ {
		var out struct {
			TotalCount int             `json:"totalCount"`
			Results    []listedPackage `json:"results"`
		}
		q := url.Values{"page": {strconv.Itoa(page)}, "page-size": {"100"}, "sort": {"id:asc"}}
		if err := c.getJSON(ctx, "/api/v1/packages?"+q.Encode(), &out); err != nil {
			return forbidden(err, PrivReadPackages, "listing the package records")
		}
		for _, r := range out.Results {
			p := Package{ID: r.ID, PackageName: r.PackageName, FileName: r.FileName,
				HashType: r.HashType, HashValue: r.HashValue, Size: r.Size, CloudTransferStatus: r.CloudTransferStatus}
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(out.Results) == 0 || (page+1)*100 >= out.TotalCount {
			return nil
		}
	}
}

// EachJCDSFile lists the JCDS files as ListJCDS does, handing each to fn
// as it is decoded from the answer: the answer (one array, unpaged) is
// held, the decoded list is not.
func (c *Client) EachJCDSFile(ctx context.Context, fn func(FileData) error) error {
	body, err := c.jcdsListing(ctx)
	if err != nil {
		return err
	}
	const what = "GET /api/v1/jcds/files"
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err == nil && tok == nil { // null: no files
		return nil
	}
	if err != nil || tok != json.Delim('[') {
		// Not an array: decodeJSON says what it is instead.
		var files []FileData
		if err := decodeJSON(body, &files, what); err != nil {
			return err
		}
		return fmt.Errorf("%s: Jamf Pro's answer is not the JSON array expected", what)
	}
	for dec.More() {
		var f FileData
		if err := dec.Decode(&f); err != nil {
			if derr := decodeJSON(body, &[]FileData{}, what); derr != nil {
				return derr
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// PackageUsage reads every policy, patch title and PreStage and says
// which packages each installs. progress, when set, is told how many
// policies of how many have been read.
func (c *Client) PackageUsage(ctx context.Context, progress func(done, total int)) (Usage, error) {
	u := Usage{}
	if err := c.EachUse(ctx, progress, func(id string, use Use) { u[id] = append(u[id], use) }); err != nil {
		return nil, err
	}
	for id := range u {
		sort.SliceStable(u[id], func(i, j int) bool { return u[id][i].Kind < u[id][j].Kind })
	}
	return u, nil
}

// InUse is the set of package ids something installs, compact: a
// number per package (ids are numbers in Jamf Pro; any other is kept as
// a string), without what installs it, for a reader that needs only
// whether (audit) at 5,000 or 50,000 packages.
type InUse struct {
	nums  map[uint32]struct{}
	other map[string]struct{}
}

// Add puts id in the set.
func (s *InUse) Add(id string) {
	if n, err := strconv.ParseUint(id, 10, 32); err == nil && strconv.FormatUint(n, 10) == id {
		if s.nums == nil {
			s.nums = map[uint32]struct{}{}
		}
		s.nums[uint32(n)] = struct{}{}
		return
	}
	if s.other == nil {
		s.other = map[string]struct{}{}
	}
	s.other[id] = struct{}{}
}

// Has reports whether something installs id.
func (s *InUse) Has(id string) bool {
	if n, err := strconv.ParseUint(id, 10, 32); err == nil && strconv.FormatUint(n, 10) == id {
		_, ok := s.nums[uint32(n)]
		return ok
	}
	_, ok := s.other[id]
	return ok
}

// PackagesInUse reads what PackageUsage reads and keeps only which ids.
func (c *Client) PackagesInUse(ctx context.Context, progress func(done, total int)) (*InUse, error) {
	s := &InUse{}
	if err := c.EachUse(ctx, progress, func(id string, _ Use) { s.Add(id) }); err != nil {
		return nil, err
	}
	return s, nil
}

// EachUse reads every policy, patch title and PreStage and hands each
// package one installs to add, one call at a time.
func (c *Client) EachUse(ctx context.Context, progress func(done, total int), add func(id string, use Use)) error {
	if err := c.policyUsage(ctx, add, progress); err != nil {
		return err
	}
	var titles []struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
		Packages    []struct {
			PackageID string `json:"packageId"`
			Version   string `json:"version"`
		} `json:"packages"`
	}
	if err := c.getJSON(ctx, "/api/v2/patch-software-title-configurations", &titles); err != nil {
		return forbidden(err, PrivReadPatchTitles, "reading patch software title configurations")
	}
	for _, t := range titles {
		for _, p := range t.Packages {
			if p.PackageID != "" {
				add(p.PackageID, Use{Kind: "patch title", ID: t.ID, Name: t.DisplayName, Version: p.Version})
			}
		}
	}
	for page := 0; ; page++ {
		var out struct {
			TotalCount int `json:"totalCount"`
			Results    []struct {
				ID               string   `json:"id"`
				DisplayName      string   `json:"displayName"`
				CustomPackageIDs []string `json:"customPackageIds"`
			} `json:"results"`
		}
		q := url.Values{"page": {strconv.Itoa(page)}, "page-size": {"100"}, "sort": {"id:asc"}}
		if err := c.getJSON(ctx, "/api/v3/computer-prestages?"+q.Encode(), &out); err != nil {
			return forbidden(err, PrivReadPreStages, "reading computer PreStages")
		}
		for _, p := range out.Results {
			for _, id := range p.CustomPackageIDs {
				add(id, Use{Kind: "PreStage", ID: p.ID, Name: p.DisplayName})
			}
		}
		if len(out.Results) == 0 || (page+1)*100 >= out.TotalCount {
			return nil
		}
	}
}

// policyUsage lists the Classic policies and reads each one's packages,
// MaxInFlight at a time (the Classic list names policies, not packages).
func (c *Client) policyUsage(ctx context.Context, add func(string, Use), progress func(done, total int)) error {
	var list struct {
		Policies []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"policies"`
	}
	a, err := c.send.do(ctx, &call{method: "GET", path: "/JSSResource/policies", accept: "application/json"})
	if err == nil {
		err = decodeJSON(a.body, &list, "GET /JSSResource/policies")
	}
	if err != nil {
		return forbidden(err, PrivReadPolicies, "listing policies")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		done  int
		wg    sync.WaitGroup
	)
	ids := make(chan int)
	for w := 0; w < MaxInFlight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				uses, err := c.policyPackages(ctx, id)
				mu.Lock()
				if err != nil && first == nil {
					first = err
					cancel()
				}
				for pkg, use := range uses {
					add(pkg, use)
				}
				done++
				if progress != nil {
					progress(done, len(list.Policies))
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range list.Policies {
		select {
		case ids <- p.ID:
		case <-ctx.Done():
		}
	}
	close(ids)
	wg.Wait()
	return first
}

func (c *Client) policyPackages(ctx context.Context, id int) (map[string]Use, error) {
	var out struct {
		Policy struct {
			General struct {
				Name string `json:"name"`
			} `json:"general"`
			PackageConfiguration struct {
				Packages []struct {
					ID int `json:"id"`
				} `json:"packages"`
			} `json:"package_configuration"`
		} `json:"policy"`
	}
	path := "/JSSResource/policies/id/" + strconv.Itoa(id)
	a, err := c.send.do(ctx, &call{method: "GET", path: path, accept: "application/json"})
	if err == nil {
		err = decodeJSON(a.body, &out, "GET "+path)
	}
	if err != nil {
		return nil, forbidden(err, PrivReadPolicies, fmt.Sprintf("reading policy %d", id))
	}
	uses := map[string]Use{}
	for _, p := range out.Policy.PackageConfiguration.Packages {
		uses[strconv.Itoa(p.ID)] = Use{Kind: "policy", ID: strconv.Itoa(id), Name: out.Policy.General.Name}
	}
	return uses, nil
}
