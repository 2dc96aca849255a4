package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/distpoint"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// maxShareDetails bounds the per-share reads on a server with many.
const maxShareDetails = 20

// listedShare is a file share distribution point as the Classic API
// shows it.
type listedShare struct {
	ID        int    `json:"id"`
	Name      string `json:"name"`
	Server    string `json:"ip_address"`
	ShareName string `json:"share_name"`
	Type      string `json:"connection_type"`
}

func (s listedShare) String() string {
	if s.Server == "" {
		return s.Name
	}
	return fmt.Sprintf("%s (%s://%s/%s)", s.Name, strings.ToLower(orDefault(s.Type, "smb")), s.Server, s.ShareName)
}

// checkFileShares compares the file shares Jamf Pro lists with those the
// inputs name (SMB_URL ...): a run copies only to the latter.
func (d *doctor) checkFileShares(ctx context.Context) {
	const name = "file shares"
	cfg, _, err := processor.DistributionPoints(d.env)
	if err != nil {
		d.rep.add(Fail, name, "%v", err)
		return
	}
	inputs := ""
	if n := len(cfg.Shares); n > 0 {
		var list []string
		for _, s := range cfg.Shares {
			list = append(list, s.Input+" "+s.String())
		}
		inputs = fmt.Sprintf("the inputs name %s, where runs copy packages", strings.Join(list, ", "))
	}
	listed, err := d.listShares(ctx)
	switch {
	case jamf.IsStatus(err, 403):
		d.rep.add(OK, name, "not listed: the account lacks %q, which a run does not need%s", privReadDPs, prefixed("; ", inputs))
		return
	case err != nil:
		d.rep.add(Warn, name, "not listed (%v)%s", err, prefixed("; ", inputs))
		return
	case len(listed) == 0:
		d.rep.add(OK, name, "Jamf Pro lists none%s", prefixed("; ", inputs))
		return
	}
	var all, unnamed []string
	for _, s := range listed {
		all = append(all, s.String())
		if !namedByInputs(s, cfg.Shares) {
			unnamed = append(unnamed, s.String())
		}
	}
	var unknown []string
	for _, in := range cfg.Shares {
		// A file:// input is a mounted path: which share it is, is unknown.
		if strings.HasPrefix(strings.ToLower(in.URL), "smb://") && !listedByJamf(in, listed) {
			unknown = append(unknown, in.Input+" "+in.String())
		}
	}
	lists := fmt.Sprintf("Jamf Pro lists %s", strings.Join(all, ", "))
	switch {
	case len(cfg.Shares) == 0:
		d.rep.add(Warn, name, "%s, but no SMB_URL (or SMB_SHARES) is set, so runs put packages on the cloud distribution point only: to copy to the shares too, set SMB_URL, SMB_USERNAME and SMB_PASSWORD (SMB2_URL ... for more)", lists)
	case len(unnamed) > 0 || len(unknown) > 0:
		var gaps []string
		if len(unnamed) > 0 {
			gaps = append(gaps, "runs copy nothing to "+strings.Join(unnamed, ", "))
		}
		if len(unknown) > 0 {
			gaps = append(gaps, strings.Join(unknown, ", ")+" is not a share Jamf Pro lists")
		}
		d.rep.add(Warn, name, "%s; %s; %s", lists, inputs, strings.Join(gaps, "; "))
	default:
		d.rep.add(OK, name, "%s; %s", lists, inputs)
	}
}

// listShares reads the list, then each share's server and share name.
func (d *doctor) listShares(ctx context.Context) ([]listedShare, error) {
	a, err := d.c.GetDated(ctx, "/JSSResource/distributionpoints", "application/json")
	if err != nil {
		return nil, err
	}
	var list struct {
		Points []listedShare `json:"distribution_points"`
	}
	if err := json.Unmarshal(a.Body, &list); err != nil {
		return nil, fmt.Errorf("GET /JSSResource/distributionpoints: the answer is not the JSON expected: %w", err)
	}
	for i := range list.Points {
		if i >= maxShareDetails {
			break
		}
		p := &list.Points[i]
		a, err := d.c.GetDated(ctx, "/JSSResource/distributionpoints/id/"+strconv.Itoa(p.ID), "application/json")
		if err != nil {
			continue // the name alone still says something
		}
		var one struct {
			Point listedShare `json:"distribution_point"`
		}
		if json.Unmarshal(a.Body, &one) == nil && one.Point.Name != "" {
			*p = one.Point
		}
	}
	return list.Points, nil
}

// sameShare: an smb:// input is Jamf's share when server and share name
// match, in any letter case (SMB names are case-insensitive).
func sameShare(in distpoint.Share, s listedShare) bool {
	u, err := url.Parse(in.URL)
	if err != nil || u.Scheme != "smb" || s.Server == "" {
		return false
	}
	share, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	return strings.EqualFold(u.Hostname(), s.Server) && strings.EqualFold(share, s.ShareName)
}

func namedByInputs(s listedShare, inputs []distpoint.Share) bool {
	for _, in := range inputs {
		if sameShare(in, s) {
			return true
		}
	}
	return false
}

func listedByJamf(in distpoint.Share, listed []listedShare) bool {
	for _, s := range listed {
		if sameShare(in, s) {
			return true
		}
	}
	return false
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
