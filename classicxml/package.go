// Package classicxml encodes and decodes the Classic API (/JSSResource)
// package XML with encoding/xml, so names, info and notes holding
// & < > " ' or non-ASCII text survive the round trip.
package classicxml

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Package is the Classic API package, in the element order Jamf Pro
// writes. Fields are strings where Jamf's own output varies ("true",
// "false", "None").
type Package struct {
	XMLName                    xml.Name `xml:"package"`
	ID                         int      `xml:"id,omitempty"`
	Name                       string   `xml:"name"`
	Category                   string   `xml:"category"`
	Filename                   string   `xml:"filename"`
	Info                       string   `xml:"info"`
	Notes                      string   `xml:"notes"`
	Priority                   int      `xml:"priority"`
	RebootRequired             Bool     `xml:"reboot_required"`
	FillUserTemplate           Bool     `xml:"fill_user_template"`
	FillExistingUsers          Bool     `xml:"fill_existing_users"`
	AllowUninstalled           Bool     `xml:"allow_uninstalled"`
	OSRequirements             string   `xml:"os_requirements"`
	RequiredProcessor          string   `xml:"required_processor"`
	HashType                   string   `xml:"hash_type,omitempty"`
	HashValue                  string   `xml:"hash_value,omitempty"`
	SwitchWithPackage          string   `xml:"switch_with_package,omitempty"`
	InstallIfReportedAvailable Bool     `xml:"install_if_reported_available"`
	ReinstallOption            string   `xml:"reinstall_option,omitempty"`
	TriggeringFiles            string   `xml:"triggering_files,omitempty"`
	SendNotification           Bool     `xml:"send_notification"`
}

// Bool is a Classic API boolean. Jamf writes "true"/"false"; an empty
// element (seen on old servers) reads as false rather than failing.
type Bool bool

// UnmarshalText accepts true/false in any case, and empty as false.
func (b *Bool) UnmarshalText(t []byte) error {
	switch strings.ToLower(strings.TrimSpace(string(t))) {
	case "true", "1", "yes":
		*b = true
	case "false", "0", "no", "":
		*b = false
	default:
		return fmt.Errorf("%q is not a boolean", t)
	}
	return nil
}

// MarshalText writes true or false.
func (b Bool) MarshalText() ([]byte, error) { return []byte(strconv.FormatBool(bool(b))), nil }

// Encode writes p as a Classic API request body.
func Encode(p *Package) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encoding package XML: %w", err)
	}
	return buf.Bytes(), nil
}

// Decode reads a Classic API package document.
func Decode(data []byte) (*Package, error) {
	var p Package
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decoding package XML: %w", err)
	}
	if p.XMLName.Local != "package" {
		return nil, fmt.Errorf("decoding package XML: root element is <%s>, not <package>", p.XMLName.Local)
	}
	return &p, nil
}

// IDReply is what POST and PUT answer: <package><id>12</id></package>.
type IDReply struct {
	XMLName xml.Name `xml:"package"`
	ID      int      `xml:"id"`
}

// DecodeID reads the id from a create or update reply.
func DecodeID(r io.Reader) (int, error) {
	var rep IDReply
	if err := xml.NewDecoder(r).Decode(&rep); err != nil {
		return 0, fmt.Errorf("decoding the package id reply: %w", err)
	}
	if rep.ID <= 0 {
		return 0, fmt.Errorf("the reply holds no package id")
	}
	return rep.ID, nil
}

// EncodeID writes the reply a server sends.
func EncodeID(id int) []byte {
	b, _ := xml.Marshal(IDReply{ID: id})
	return append([]byte(xml.Header), b...)
}
