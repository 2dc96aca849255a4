package jcds2

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// progressLog records what the engine reports, and when.
type progressLog struct {
	mu    sync.Mutex
	steps []progressStep
}

type progressStep struct {
	at          time.Time
	done, total int64
}

func (l *progressLog) Logf(int, string, ...any) {}
func (l *progressLog) Secret(string)            {}
func (l *progressLog) Note(Note)                {}
func (l *progressLog) Progress(done, total int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.steps = append(l.steps, progressStep{time.Now(), done, total})
}

// The progress users see counts the bytes S3 acknowledged, not the
// bytes read ahead into part buffers: while every part is held by the
// server, it stays at zero (it used to show most of the file sent).
func TestProgressCountsAcknowledgedBytes(t *testing.T) {
	sim, err := jamfsim.New(jamfsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	dir := t.TempDir()
	pkg := filepath.Join(dir, "Progress.pkg")
	data := make([]byte, 40<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(pkg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	const hold = 1500 * time.Millisecond
	arrived := sim.DelayNotify("UploadPart", hold, 5)
	var heldAt time.Time
	go func() { <-arrived; heldAt = time.Now() }()
	log := &progressLog{}
	req := &Request{URL: sim.URL, Auth: Credentials{ClientID: jamfsim.DefaultClientID, ClientSecret: jamfsim.DefaultClientSecret},
		PkgPath: pkg, PkgName: "Progress.pkg", DisplayName: "Progress.pkg", Priority: 10, MaxTries: 3,
		VerifyTimeout: 30 * time.Second, Concurrency: 4, PartSize: 8 << 20, S3Endpoint: sim.S3Endpoint(), CacheDir: t.TempDir()}
	res, err := NewEngine().Upload(context.Background(), req, log)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Uploaded {
		t.Fatalf("result: %+v", res)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.steps) == 0 || log.steps[len(log.steps)-1].done != int64(len(data)) {
		t.Fatalf("progress must end at the whole file: %+v", log.steps)
	}
	for _, s := range log.steps {
		if s.done > 0 && !heldAt.IsZero() && s.at.Before(heldAt.Add(hold-200*time.Millisecond)) {
			t.Fatalf("progress showed %d bytes while every part was still held by S3", s.done)
		}
		if s.done > s.total {
			t.Fatalf("progress past the total: %+v", s)
		}
	}
}
