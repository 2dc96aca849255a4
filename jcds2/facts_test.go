package jcds2

import "testing"

// The result says what the actions did that still stands: an upload
// that lost the name, or that the engine took back, is not "uploaded";
// a record the engine deleted again is not "metadata updated".
func TestResultIsWhatStands(t *testing.T) {
	put := map[int]*putFact{0: {stamp: "1"}}
	for _, c := range []struct {
		name        string
		steps       []facts
		sent, wrote bool
	}{
		{"nothing", nil, false, false},
		{"JCDS upload, landed", []facts{{uploaded: true}}, true, false},
		{"JCDS upload, pending", []facts{{uploaded: true, pending: true}}, true, false},
		{"JCDS upload, lost", []facts{{uploaded: true, lostTo: otherMD5}}, false, false},
		{"JCDS upload, record failed, taken back", []facts{{uploaded: true, uploadedNew: true}, {uploadUndone: true}}, false, false},
		{"a copy to a share", []facts{{puts: put}}, true, false},
		{"packages: record, then upload", []facts{{wroteRecord: true, createdID: "7"}, {sentPackages: true}}, true, true},
		{"packages: record, upload failed, record taken back", []facts{{wroteRecord: true, createdID: "7"}, {recordUndone: true}}, false, false},
		{"a hash cleared, then the upload taken back", []facts{{wroteRecord: true}, {uploaded: true}, {uploadUndone: true}}, false, true},
	} {
		var k facts
		for _, f := range c.steps {
			k.add(f)
		}
		if k.sent() != c.sent || k.wrote() != c.wrote {
			t.Errorf("%s: sent %v wrote %v, want %v %v", c.name, k.sent(), k.wrote(), c.sent, c.wrote)
		}
	}
}
