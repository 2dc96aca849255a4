package jamfsim

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// FileShare is a file share distribution point (SMB or AFP) that the
// Classic API lists at /JSSResource/distributionpoints.
type FileShare struct {
	Name      string
	Server    string // host name or IP address (ip_address)
	ShareName string
	Port      int    // share_port; default 445 for SMB, 548 for AFP
	Type      string // connection_type: SMB (default) or AFP
	Workgroup string // workgroup_or_domain
	// ReadOnlyUsername and ReadWriteUsername are the share's accounts;
	// the Classic API never shows their passwords.
	ReadOnlyUsername, ReadWriteUsername string
	Master                              bool   // the principal distribution point
	HTTPURL                             string // http_url when HTTP downloads are on
}

// classicDP is the Classic distribution_point object. The Classic schema
// excerpt defines no body; the fields and their order follow Jamf's
// Classic API reference as JamfSync (JsonDpDetail) and ruby-jss read it.
type classicDP struct {
	XMLName                  xml.Name `xml:"distribution_point" json:"-"`
	ID                       int      `xml:"id" json:"id"`
	Name                     string   `xml:"name" json:"name"`
	IPAddress                string   `xml:"ip_address" json:"ip_address"`
	IsMaster                 bool     `xml:"is_master" json:"is_master"`
	FailoverPoint            string   `xml:"failover_point" json:"failover_point"`
	FailoverPointURL         string   `xml:"failover_point_url" json:"failover_point_url"`
	EnableLoadBalancing      bool     `xml:"enable_load_balancing" json:"enable_load_balancing"`
	LocalPath                string   `xml:"local_path" json:"local_path"`
	SSHUsername              string   `xml:"ssh_username" json:"ssh_username"`
	SSHPasswordSHA256        string   `xml:"ssh_password_sha256" json:"ssh_password_sha256"`
	ConnectionType           string   `xml:"connection_type" json:"connection_type"`
	ShareName                string   `xml:"share_name" json:"share_name"`
	WorkgroupOrDomain        string   `xml:"workgroup_or_domain" json:"workgroup_or_domain"`
	SharePort                int      `xml:"share_port" json:"share_port"`
	ReadOnlyUsername         string   `xml:"read_only_username" json:"read_only_username"`
	ReadOnlyPasswordSHA256   string   `xml:"read_only_password_sha256" json:"read_only_password_sha256"`
	ReadWriteUsername        string   `xml:"read_write_username" json:"read_write_username"`
	ReadWritePasswordSHA256  string   `xml:"read_write_password_sha256" json:"read_write_password_sha256"`
	NoAuthenticationRequired bool     `xml:"no_authentication_required" json:"no_authentication_required"`
	UsernamePasswordRequired bool     `xml:"username_password_required" json:"username_password_required"`
	HTTPUsername             string   `xml:"http_username" json:"http_username"`
	HTTPPasswordSHA256       string   `xml:"http_password_sha256" json:"http_password_sha256"`
	HTTPDownloadsEnabled     bool     `xml:"http_downloads_enabled" json:"http_downloads_enabled"`
	Protocol                 string   `xml:"protocol" json:"protocol"`
	Port                     int      `xml:"port" json:"port"`
	Context                  string   `xml:"context" json:"context"`
	CertificateRequired      bool     `xml:"certificate_required" json:"certificate_required"`
	HTTPURL                  string   `xml:"http_url" json:"http_url"`
}

// hidden is how the Classic API shows a password digest: asterisks.
const hidden = "****************"

func (f FileShare) classic(id int) classicDP {
	typ, port := f.Type, f.Port
	if typ == "" {
		typ = "SMB"
	}
	if port == 0 {
		port = 445
		if strings.EqualFold(typ, "AFP") {
			port = 548
		}
	}
	return classicDP{ID: id, Name: f.Name, IPAddress: f.Server, IsMaster: f.Master, LocalPath: "/Users/Shared/" + f.ShareName,
		ConnectionType: typ, ShareName: f.ShareName, WorkgroupOrDomain: f.Workgroup, SharePort: port,
		ReadOnlyUsername: f.ReadOnlyUsername, ReadOnlyPasswordSHA256: hidden, ReadWriteUsername: f.ReadWriteUsername,
		ReadWritePasswordSHA256: hidden, HTTPDownloadsEnabled: f.HTTPURL != "", Protocol: "http", Port: 80,
		Context: f.ShareName, HTTPURL: f.HTTPURL, NoAuthenticationRequired: true}
}

func (s *Server) routeDistributionPoints(mux *http.ServeMux) {
	n := needs(PrivReadDistributionPoints)
	s.classic(mux, "GET /JSSResource/distributionpoints", n, func(w http.ResponseWriter, r *http.Request, _ string) {
		names := map[int]string{}
		for i, f := range s.cfg.FileShares {
			names[i+1] = f.Name
		}
		s.writeClassicList(w, r, "distribution_points", "distribution_point", names)
	})
	one := func(w http.ResponseWriter, r *http.Request, match func(int, FileShare) bool) {
		for i, f := range s.cfg.FileShares {
			if match(i+1, f) {
				s.writeClassicDP(w, r, f.classic(i+1))
				return
			}
		}
		writeClassicError(w, 404, "The server has not found anything matching the request URI")
	}
	s.classic(mux, "GET /JSSResource/distributionpoints/id/{id}", n, func(w http.ResponseWriter, r *http.Request, _ string) {
		want, _ := strconv.Atoi(r.PathValue("id"))
		one(w, r, func(id int, _ FileShare) bool { return id == want })
	})
	s.classic(mux, "GET /JSSResource/distributionpoints/name/{name}", n, func(w http.ResponseWriter, r *http.Request, _ string) {
		want := classicName(r)
		one(w, r, func(_ int, f FileShare) bool { return s.sameName(f.Name, want) })
	})
}

func (s *Server) writeClassicDP(w http.ResponseWriter, r *http.Request, dp classicDP) {
	if strings.Contains(r.Header.Get("Accept"), "json") {
		writeJSON(w, 200, map[string]any{"distribution_point": dp})
		return
	}
	body, err := xml.Marshal(dp)
	if err != nil {
		writeClassicError(w, 500, "Unable to write the distribution point")
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Write(append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`), body...))
}
