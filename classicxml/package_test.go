package classicxml

import (
	"bytes"
	"strings"
	"testing"
)

func TestRoundTripKeepsHardText(t *testing.T) {
	p := &Package{ID: 7, Name: `Tom & Jerry's <"App">`, Filename: "Grüße 日本 & <x>.pkg", Category: "Apps & Tools",
		Info: "a < b > c", Notes: "line1\nline2 ' \"", Priority: 12, RebootRequired: true, RequiredProcessor: "None",
		HashType: "MD5", HashValue: "abc"}
	data, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("& ")) || bytes.Contains(data, []byte("<\"App\">")) {
		t.Fatalf("special characters must be escaped: %s", data)
	}
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	got.XMLName = p.XMLName
	if *got != *p {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, p)
	}
}

func TestDecodeToleratesEmptyBooleans(t *testing.T) {
	p, err := Decode([]byte(`<package><id>3</id><name>X</name><reboot_required/><fill_user_template>TRUE</fill_user_template></package>`))
	if err != nil || p.RebootRequired || !p.FillUserTemplate || p.ID != 3 {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := Decode([]byte(`<computer><id>1</id></computer>`)); err == nil || !strings.Contains(err.Error(), "package") {
		t.Fatalf("a non-package document must be refused: %v", err)
	}
}

func TestIDReply(t *testing.T) {
	id, err := DecodeID(bytes.NewReader(EncodeID(42)))
	if err != nil || id != 42 {
		t.Fatalf("%d %v", id, err)
	}
	if _, err := DecodeID(strings.NewReader(`<package><id>0</id></package>`)); err == nil {
		t.Fatal("id 0 is not an id")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?><package><id>1</id><name>A &amp; B</name></package>`))
	f.Add([]byte(`<package><reboot_required>maybe</reboot_required></package>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode(data)
		if err != nil {
			return
		}
		if _, err := Encode(p); err != nil {
			t.Fatalf("decoded package does not encode: %v", err)
		}
	})
}
