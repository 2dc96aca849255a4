package jcds2

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// waitingLog records what the engine says it waits for.
type waitingLog struct {
	progressLog
	mu    sync.Mutex
	waits []string
}

func (l *waitingLog) Waiting(what string, waited time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if waited > 0 && !slices.Contains(l.waits, what) {
		l.waits = append(l.waits, what)
	}
}

// While JCDS has not yet listed an upload, the run says so to a logger
// that can show it (the pkg command's progress line): a wait of seconds
// is never silent.
func TestPollSaysWhatItWaitsFor(t *testing.T) {
	sim, err := jamfsim.New(jamfsim.Config{IngestDelay: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	pkg := filepath.Join(t.TempDir(), "Wait.pkg")
	if err := os.WriteFile(pkg, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	log := &waitingLog{}
	req := &Request{URL: sim.URL, Auth: Credentials{ClientID: jamfsim.DefaultClientID, ClientSecret: jamfsim.DefaultClientSecret},
		PkgPath: pkg, PkgName: "Wait.pkg", DisplayName: "Wait.pkg", Priority: 10, MaxTries: 3,
		VerifyTimeout: 30 * time.Second, S3Endpoint: sim.S3Endpoint(), CacheDir: t.TempDir()}
	res, err := NewEngine().Upload(context.Background(), req, log)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified {
		t.Fatalf("the run did not converge: %+v", res)
	}
	if !slices.Contains(log.waits, "JCDS to process the upload") {
		t.Fatalf("the wait for JCDS was not reported; reported: %q", log.waits)
	}
}
