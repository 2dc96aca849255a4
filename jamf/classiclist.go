package jamf

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/jcds2-uploader/jcds2-uploader/classicxml"
)

// Package records on a server older than 11.5, where only the Classic
// API holds them (prune's reads and deletes there). Its list names each
// record by id and name only, so a record's file name and hash cost one
// request each: the readers ask only for the records they need,
// MaxInFlight at a time.

// ClassicPackageNames lists /JSSResource/packages: id and name of each.
func (c *Client) ClassicPackageNames(ctx context.Context) (map[int]string, error) {
	var list struct {
		Packages []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"packages"`
	}
	a, err := c.send.do(ctx, &call{method: "GET", path: "/JSSResource/packages", accept: "application/json"})
	if err == nil {
		err = decodeJSON(a.body, &list, "GET /JSSResource/packages")
	}
	if err != nil {
		return nil, forbidden(err, PrivReadPackages, "listing the package records (Classic API)")
	}
	out := make(map[int]string, len(list.Packages))
	for _, p := range list.Packages {
		out[p.ID] = p.Name
	}
	return out, nil
}

// ClassicPackages reads the records with the given ids, MaxInFlight at a
// time, as Packages (ID, PackageName, FileName, HashType, HashValue); a
// record gone meanwhile is left out.
func (c *Client) ClassicPackages(ctx context.Context, ids []int) ([]Package, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		out   []Package
		first error
		wg    sync.WaitGroup
	)
	work := make(chan int)
	for w := 0; w < MaxInFlight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				p, err := c.ClassicPackage(ctx, id)
				mu.Lock()
				if err != nil && first == nil {
					first = err
					cancel()
				}
				if p != nil {
					out = append(out, *p)
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	return out, first
}

// ClassicPackage reads /JSSResource/packages/id/{id}; nil when absent.
func (c *Client) ClassicPackage(ctx context.Context, id int) (*Package, error) {
	path := "/JSSResource/packages/id/" + strconv.Itoa(id)
	a, err := c.send.do(ctx, &call{method: "GET", path: path, accept: "application/xml"})
	if IsStatus(err, 404) {
		return nil, nil
	}
	if err != nil {
		return nil, forbidden(err, PrivReadPackages, fmt.Sprintf("reading package record %d (Classic API)", id))
	}
	x, err := classicxml.Decode(a.body)
	if err != nil {
		return nil, fmt.Errorf("reading package record %d (Classic API): %w", id, err)
	}
	p := &Package{ID: strconv.Itoa(id), PackageName: x.Name, FileName: x.Filename}
	if x.HashType != "" {
		ht, hv := x.HashType, x.HashValue
		p.HashType, p.HashValue = &ht, &hv
	}
	return p, nil
}

// ClassicDeletePackage deletes /JSSResource/packages/id/{id}; a record
// already gone is no error.
func (c *Client) ClassicDeletePackage(ctx context.Context, id string) error {
	_, err := c.send.do(ctx, &call{method: "DELETE", path: "/JSSResource/packages/id/" + PathEscape(id), accept: "application/xml", expect: []int{200, 204, 404}})
	if err != nil {
		return forbidden(err, PrivDeletePackages, "deleting package record "+id+" (Classic API)")
	}
	return nil
}

// ClassicCanDeletePackages probes DELETE /JSSResource/packages/id/0 (no
// record has id 0), as CanDeletePackages does on the Jamf Pro API.
func (c *Client) ClassicCanDeletePackages(ctx context.Context) error {
	return c.probeDelete(ctx, "/JSSResource/packages/id/0", PrivDeletePackages, "checking that package records may be deleted")
}
