package jamf

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// Requests in flight together, all refused because the token expired on
// the server, mint one new token between them: the first refusal mints
// it, the later ones (held a second by the simulator, so they come back
// after that mint) take it. Minting one each would leave all but the
// last live on the server, never invalidated. State: live tokens.
func TestRefusedTogetherMintOnce(t *testing.T) {
	sim, err := jamfsim.New(jamfsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	c := New(Options{URL: sim.URL, Auth: Credentials{ClientID: jamfsim.DefaultClientID, ClientSecret: jamfsim.DefaultClientSecret}, MaxTries: 1, Timeout: time.Minute, Log: nopLog{}})
	ctx := context.Background()
	if err := c.Authenticate(ctx); err != nil {
		t.Fatal(err)
	}
	sim.ExpireTokens()
	sim.Pass("GET /api/v1/jcds/files", 1)
	sim.Delay("GET /api/v1/jcds/files", time.Second, 4)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, errs[i] = c.ListJCDS(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := sim.LiveTokens(); n != 1 {
		t.Fatalf("%d live tokens after the refused requests; want 1", n)
	}
	c.Close(ctx)
	if n := sim.LiveTokens(); n != 0 {
		t.Fatalf("%d live tokens after Close; want 0", n)
	}
}
