package jamfsim

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The cloud distribution point (CDP) and Jamf Pro's inventory of it: a
// package record is READY, with a size and hashes that describe its
// file, only once an inventory refresh found the file (or Jamf processed
// an upload for a record that had none).

const noCloudDP = "Cloud distribution point not found or is null"

// cdnType is what GET /api/v1/cloud-distribution-point reports.
func (s *Server) cdnType() string {
	if !s.cfg.NoJCDS {
		return "JAMF_CLOUD"
	}
	return s.cfg.CDNType
}

func (s *Server) routeInventory(mux *http.ServeMux) {
	s.api(mux, "POST /api/v1/cloud-distribution-point/refresh-inventory", func() bool { return s.atLeast(11, 24) },
		needs(PrivReadCloudDP), s.handleRefresh)
	s.api(mux, "GET /api/v1/cloud-distribution-point", always, needs(PrivReadCloudDP), s.handleCDP)
	// The schema lists no privilege here, only authentication.
	s.api(mux, "GET /api/v1/cloud-distribution-point/upload-capability", always, need{}, func(w http.ResponseWriter, r *http.Request, _ string) {
		if s.cdnType() == "NONE" {
			writeAPIError(w, http.StatusNotFound, "NOT_FOUND", noCloudDP)
			return
		}
		writeJSON(w, 200, map[string]bool{"principalDistributionTechnology": true, "directUploadCapable": true})
	})
	s.api(mux, "GET /api/v1/cloud-distribution-point/files", always, needs(PrivReadCloudDP), s.handleCDPFiles)
}

// handleCDP answers the CloudDistributionPoint object; with cdnType NONE
// the schema says it is an empty one.
func (s *Server) handleCDP(w http.ResponseWriter, r *http.Request, _ string) {
	cdn := s.cdnType()
	out := map[string]any{"inventoryId": "0", "cdnType": cdn, "master": false, "username": "", "directory": "",
		"cdnUrl": "", "uploadUrl": "", "downloadUrl": "", "secondaryAuthRequired": false, "secondaryAuthStatusCode": 200,
		"secondaryAuthTimeToLive": 3600, "requireSignedUrls": false, "keyPairId": "", "expirationSeconds": 3600,
		"hasConnectionSucceeded": false, "message": ""}
	if cdn != "NONE" {
		out["inventoryId"], out["master"], out["cdnUrl"] = "1", true, s.S3Endpoint()+"/"+s.cfg.Bucket
		out["hasConnectionSucceeded"], out["message"] = true, "Connection successful"
	}
	writeJSON(w, 200, out)
}

// handleCDPFiles lists the inventory: one PACKAGE entry per record.
func (s *Server) handleCDPFiles(w http.ResponseWriter, r *http.Request, _ string) {
	if s.cdnType() == "NONE" {
		writeAPIError(w, http.StatusNotFound, "NOT_FOUND", noCloudDP)
		return
	}
	s.Ingest(r.Context())
	q := r.URL.Query()
	var filter rsql
	if f := q.Get("filter"); f != "" {
		var err error
		if filter, err = parseRSQL(f, map[string]bool{"fileName": true, "inventoryId": true, "type": true}, s.foldedFields("fileName")); err != nil {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid filter: "+err.Error(), "filter")
			return
		}
	}
	type item struct {
		ID          string `json:"id"`
		InventoryID string `json:"inventoryId"`
		Type        string `json:"type"`
		FileName    string `json:"fileName"`
		ObjectID    string `json:"fileObjectId"`
		Category    string `json:"category"`
		Status      string `json:"status"`
	}
	var list []item
	for id, p := range s.Packages() {
		it := item{ID: strconv.Itoa(id), InventoryID: "1", Type: "PACKAGE", FileName: p.FileName, ObjectID: p.ID,
			Category: s.categoryName(p.CategoryID), Status: p.CloudTransferStatus}
		if filter == nil || filter.match(func(f string) (string, bool) {
			return map[string]string{"fileName": it.FileName, "inventoryId": it.InventoryID, "type": it.Type}[f], true
		}) {
			list = append(list, it)
		}
	}
	sort.Slice(list, func(i, j int) bool { a, _ := strconv.Atoi(list[i].ID); b, _ := strconv.Atoi(list[j].ID); return a < b })
	from, to, ok := pageOf(q, len(list))
	if !ok {
		writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid page or page-size", "page")
		return
	}
	writeJSON(w, 200, map[string]any{"totalCount": len(list), "results": append([]item{}, list[from:to]...)})
}

// handleRefresh is refresh-inventory on either route. With file-name it
// updates the records with that fileName; without, every record, but at
// most once per RefreshRateLimit (a sooner call answers 204 and does
// nothing: what Jamf answers then is undocumented). The first call waits
// RefreshDelay, as a real server's first refresh is slow.
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request, _ string) {
	name := r.URL.Query().Get("file-name")
	if len(name) > 255 {
		writeAPIErrorField(w, 400, "INVALID_FIELD", "file-name is longer than 255 characters", "file-name")
		return
	}
	s.mu.Lock()
	first := s.refreshes == 0
	s.refreshes++
	s.mu.Unlock()
	if first && s.cfg.RefreshDelay > 0 {
		select {
		case <-time.After(s.cfg.RefreshDelay):
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	limited := name == "" && !s.lastFullScan.IsZero() && time.Since(s.lastFullScan) < s.cfg.RefreshRateLimit
	if name == "" && !limited {
		s.lastFullScan = time.Now()
	}
	s.mu.Unlock()
	if !limited {
		s.Refresh(r.Context(), name)
	}
	w.WriteHeader(http.StatusNoContent)
}

// Refresh runs an inventory refresh now, as refresh-inventory would
// (without its delay or rate limit): for fileName, or for every record
// when fileName is "". For test set-up.
func (s *Server) Refresh(ctx context.Context, fileName string) {
	s.Ingest(ctx)
	s.scanS3CDP(ctx, fileName)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.packages {
		if fileName == "" || s.sameName(p.FileName, fileName) {
			s.inventory(p)
		}
	}
}

// inventory updates one record from the distribution point: READY with
// the file's size when its file is there (and the file's own hashes
// when the record's hash does not describe it), PENDING otherwise.
// Callers hold s.mu.
func (s *Server) inventory(p *Package) {
	f := s.files[p.FileName]
	if f == nil {
		p.CloudTransferStatus, p.Size = statusPending, ptr("")
		return
	}
	if !describes(p, f) {
		s.takeFileHashes(p, f)
	}
	p.CloudTransferStatus, p.Size = statusReady, ptr(humanSize(f.Length))
}

// describes reports whether the record's hashType and hashValue are
// those of the stored file.
func describes(p *Package, f *StoredFile) bool {
	want := map[string]string{"SHA3_512": f.SHA3, "MD5": f.MD5, "SHA_512": f.SHA512, "SHA_256": f.SHA256}[strings.ToUpper(deref(p.HashType))]
	return want != "" && strings.EqualFold(deref(p.HashValue), want)
}

// scanS3CDP models a cloud distribution point on the customer's own S3
// bucket (cdnType AMAZON_S3, what aws_cdp_mode uploads to): the bucket
// holds each package as an object named like its file, at the top
// level, and a refresh takes stock of it.
func (s *Server) scanS3CDP(ctx context.Context, fileName string) {
	if s.cdnType() != "AMAZON_S3" {
		return
	}
	s.mu.Lock()
	var names []string
	for _, p := range s.packages {
		if fileName == "" || s.sameName(p.FileName, fileName) {
			names = append(names, p.FileName)
		}
	}
	s.mu.Unlock()
	for _, name := range names {
		d, err := s.hashObject(ctx, name)
		if err != nil {
			continue // not in the bucket (yet)
		}
		s.mu.Lock()
		s.files[name] = storedFile(name, name, d)
		s.mu.Unlock()
	}
}
