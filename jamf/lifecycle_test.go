package jamf

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// The compact in-use set answers as a set of strings would, numbers or not.
func TestInUse(t *testing.T) {
	var s InUse
	for _, id := range []string{"1", "4294967295", "007", "abc", "-3"} {
		s.Add(id)
	}
	for id, want := range map[string]bool{"1": true, "4294967295": true, "007": true, "7": false, "abc": true,
		"-3": true, "2": false, "": false, "4294967296": false} {
		if got := s.Has(id); got != want {
			t.Errorf("Has(%q) = %v, want %v", id, got, want)
		}
	}
}

// EachJCDSFile hands over every file of the listing in order; null is no
// file; an answer that is not a list of files says so.
func TestEachJCDSFile(t *testing.T) {
	for body, want := range map[string]string{
		`[{"fileName":"a.pkg","length":1,"md5":"m","sha3":"s"},{"fileName":"b.pkg","length":2}]`: "a.pkg,b.pkg",
		`[]`:                         "",
		`null`:                       "",
		`{"fileName":"a.pkg"}`:       "error",
		`[{"fileName":"a.pkg"}, 17]`: "error",
		`<html>not JSON</html>`:      "error",
	} {
		s := serve(t, func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/api/v1/oauth/token":
				w.Write([]byte(`{"access_token":"tok","token_type":"Bearer","expires_in":1200}`))
			case "/api/v1/jcds/files":
				w.Write([]byte(body))
			default:
				http.NotFound(w, r)
			}
		})
		var got []string
		err := clientFor(s.URL).EachJCDSFile(context.Background(), func(f FileData) error { got = append(got, f.FileName); return nil })
		if want == "error" {
			if err == nil || !strings.Contains(err.Error(), "/api/v1/jcds/files") {
				t.Errorf("%s: %v, want an error naming the listing", body, err)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("%s: %v, %v; want %s", body, got, err, want)
		}
	}
}

// The delete probes: only a 403 is an answer about the privilege (named
// in Jamf's words); whatever a server says of a missing object is not.
func TestDeleteProbes(t *testing.T) {
	for status, want := range map[int]string{204: "", 404: "", 400: "", 403: `the account lacks the "Delete Packages" privilege`} {
		s := serve(t, func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/api/v1/oauth/token":
				w.Write([]byte(`{"access_token":"tok","token_type":"Bearer","expires_in":1200}`))
			case r.Method == "DELETE" && r.URL.Path == "/api/v1/packages/0":
				w.WriteHeader(status)
			default:
				http.NotFound(w, r)
			}
		})
		err := clientFor(s.URL).CanDeletePackages(context.Background())
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%d: %v, want %q", status, err, want)
		}
		if p, ok := MissingPrivilege(err); want != "" && (!ok || p != PrivDeletePackages) {
			t.Errorf("%d: MissingPrivilege %q %v", status, p, ok)
		}
	}
}
