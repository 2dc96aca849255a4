package processor

import (
	"fmt"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// --json's error object says "nothing was changed" only where that is
// known: failures before the first write.
func TestErrorViewSaysWhatWasLeftOnlyWhenKnown(t *testing.T) {
	for _, c := range []struct {
		err        error
		kind, left string
	}{
		{&UsageError{Msg: "x"}, "usage", "nothing was changed"},
		{&NotImplementedError{Input: "skip_if", Value: "x"}, "not_implemented", "nothing was changed"},
		{inputErr("bad"), "input", "nothing was changed"},
		{fmt.Errorf("wrapped: %w", &jamf.UnreachableError{URL: "https://x", Reason: "r"}), "unreachable", "nothing was changed"},
		{fmt.Errorf("wrapped: %w", &jamf.UnreachableError{URL: "https://x", Reason: "r", Reached: true}), "unreachable", ""},
		{&jcds2.NoDistributionPointError{URL: "https://x"}, "setup", "nothing was changed"},
		{&jcds2.InterruptedError{Step: "s", Left: "a multipart upload, aborted"}, "interrupted", "a multipart upload, aborted"},
		{fmt.Errorf("something else"), "failed", ""},
	} {
		v := errorView(c.err, c.err.Error())
		left, _ := v["left"].(string)
		if v["kind"] != c.kind || left != c.left || v["message"] != c.err.Error() {
			t.Errorf("%T: %v, want kind %q left %q", c.err, v, c.kind, c.left)
		}
	}
}
