package jamfsim

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The Classic API package document. The simulator reads and writes it
// with its own codec, not the client's (package classicxml): a bug
// shared by both sides would pass every test.

// classicPackage is <package> in the element order Jamf Pro writes
// (boot_volume_required, written by older servers only, is left out).
type classicPackage struct {
	XMLName                    xml.Name    `xml:"package"`
	ID                         int         `xml:"id"`
	Name                       string      `xml:"name"`
	Category                   string      `xml:"category"`
	Filename                   string      `xml:"filename"`
	Info                       string      `xml:"info"`
	Notes                      string      `xml:"notes"`
	Priority                   int         `xml:"priority"`
	RebootRequired             classicBool `xml:"reboot_required"`
	FillUserTemplate           classicBool `xml:"fill_user_template"`
	FillExistingUsers          classicBool `xml:"fill_existing_users"`
	AllowUninstalled           classicBool `xml:"allow_uninstalled"`
	OSRequirements             string      `xml:"os_requirements"`
	RequiredProcessor          string      `xml:"required_processor"`
	HashType                   string      `xml:"hash_type"`
	HashValue                  string      `xml:"hash_value"`
	SwitchWithPackage          string      `xml:"switch_with_package"`
	InstallIfReportedAvailable classicBool `xml:"install_if_reported_available"`
	ReinstallOption            string      `xml:"reinstall_option"`
	TriggeringFiles            string      `xml:"triggering_files"`
	SendNotification           classicBool `xml:"send_notification"`
}

// classicBool reads true/false in any case; an empty element is false,
// as older servers wrote it. Anything else is refused.
type classicBool bool

func (b *classicBool) UnmarshalText(t []byte) error {
	switch v := strings.ToLower(strings.TrimSpace(string(t))); v {
	case "true", "false", "":
		*b = v == "true"
		return nil
	}
	return fmt.Errorf("%q is not true or false", t)
}

func (b classicBool) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatBool(bool(b))), nil
}

// decodeClassicPackage reads a create or update body: well-formed XML
// whose root is <package>.
func decodeClassicPackage(data []byte) (*classicPackage, error) {
	var p classicPackage
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("reading the package XML: %w", err)
	}
	return &p, nil
}

// classicIDReply is what a Classic create, update or delete answers.
func classicIDReply(id int) []byte {
	return []byte(xml.Header + "<package><id>" + strconv.Itoa(id) + "</id></package>")
}

func (s *Server) toClassic(p *Package) *classicPackage {
	n, _ := strconv.Atoi(p.ID)
	return &classicPackage{
		ID: n, Name: p.PackageName, Category: s.categoryName(p.CategoryID), Filename: p.FileName,
		Info: deref(p.Info), Notes: deref(p.Notes), Priority: p.Priority,
		RebootRequired: classicBool(p.RebootRequired), FillUserTemplate: classicBool(p.FillUserTemplate),
		FillExistingUsers: classicBool(p.FillExistingUsers), OSRequirements: deref(p.OSRequirements),
		RequiredProcessor: "None", HashType: deref(p.HashType), HashValue: deref(p.HashValue),
		SwitchWithPackage: "Do Not Install", ReinstallOption: "Do Not Reinstall",
	}
}

func (s *Server) writeClassicPackage(w http.ResponseWriter, r *http.Request, p *Package) {
	if p == nil {
		writeClassicError(w, 404, "The server has not found anything matching the request URI")
		return
	}
	c := s.toClassic(p)
	if strings.Contains(r.Header.Get("Accept"), "json") {
		writeJSON(w, 200, map[string]any{"package": map[string]any{
			"id": c.ID, "name": c.Name, "category": c.Category, "filename": c.Filename, "info": c.Info,
			"notes": c.Notes, "priority": c.Priority, "reboot_required": bool(c.RebootRequired),
			"os_requirements": c.OSRequirements, "required_processor": c.RequiredProcessor,
			"hash_type": c.HashType, "hash_value": c.HashValue, "send_notification": false,
		}})
		return
	}
	body, err := xml.Marshal(c)
	if err != nil {
		writeClassicError(w, 500, "Unable to write the package")
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Write(append([]byte(xml.Header), body...))
}

func (s *Server) saveClassic(w http.ResponseWriter, r *http.Request, id string) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeClassicError(w, 400, "Unable to read the request")
		return
	}
	c, err := decodeClassicPackage(data)
	if err != nil {
		writeClassicError(w, 400, "Problem with the XML: "+err.Error())
		return
	}
	if c.Name == "" || c.Filename == "" {
		writeClassicError(w, 409, "Missing name or filename")
		return
	}
	catID := "-1"
	if c.Category != "" && c.Category != "No category assigned" {
		n := s.categoryID(c.Category)
		if n == 0 {
			writeClassicError(w, 409, "Problem with category")
			return
		}
		catID = strconv.Itoa(n)
	}
	s.mu.Lock()
	switch s.duplicateField(c.Name, c.Filename, id) {
	case "packageName":
		s.mu.Unlock()
		writeClassicError(w, 409, "Duplicate name")
		return
	case "fileName":
		s.mu.Unlock()
		writeClassicError(w, 409, "Duplicate filename")
		return
	}
	var p *Package
	if id == "" {
		p = &Package{ID: strconv.Itoa(s.nextPkgID), CloudTransferStatus: statusPending, Size: ptr("")}
		s.packages[s.nextPkgID] = p
		s.nextPkgID++
	} else {
		n, _ := strconv.Atoi(id)
		if p = s.packages[n]; p == nil { // deleted while the body was read
			s.mu.Unlock()
			writeClassicError(w, 404, "The server has not found anything matching the request URI")
			return
		}
		// An update blanks size until a refresh, as the Pro API's PUT does.
		p.Size = ptr("")
		if p.FileName != c.Filename {
			p.CloudTransferStatus = statusPending
		}
	}
	p.PackageName, p.FileName, p.CategoryID = c.Name, c.Filename, catID
	info, notes, osr := c.Info, c.Notes, c.OSRequirements
	p.Info, p.Notes, p.OSRequirements = &info, &notes, &osr
	p.Priority = max(c.Priority, 1)
	p.RebootRequired = bool(c.RebootRequired)
	p.FillUserTemplate, p.FillExistingUsers = bool(c.FillUserTemplate), bool(c.FillExistingUsers)
	if c.HashType != "" {
		ht, hv := c.HashType, c.HashValue
		p.HashType, p.HashValue = &ht, &hv
	}
	n, _ := strconv.Atoi(p.ID)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(201)
	w.Write(classicIDReply(n))
}
