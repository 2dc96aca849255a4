package jamf

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DatedAnswer is the answer to one GET together with the server's clock
// reading: bearer tokens and S3 signatures are only valid within a
// window of the server's time, so a skewed local clock fails runs in
// ways that look like bad credentials.
type DatedAnswer struct {
	Body []byte
	// Date is the answer's Date header (zero when missing or not an HTTP
	// date). Local is the local time halfway through the exchange, the
	// moment the server most likely stamped; RTT is the whole exchange,
	// the uncertainty of comparing the two.
	Date, Local time.Time
	RTT         time.Duration
}

// GetDated sends one authenticated GET of path (Accept: accept, JSON
// when "") and returns the body with the Date header. It exists for
// `jcds2-uploader doctor`, which must read the server's clock and lists
// that no other method reads; the shared layers do not hand headers
// back, so this is one exchange of its own: no retry (a doctor reports
// what it sees), errors typed as the other calls' are (APIError,
// TLSError, AuthError), counted and logged alike.
func (c *Client) GetDated(ctx context.Context, path, accept string) (*DatedAnswer, error) {
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	if accept == "" {
		accept = "application/json"
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("building GET %s: %w", pathOnly(path), err)
	}
	hr.Header.Set("User-Agent", "jcds2-uploader/"+Version)
	hr.Header.Set("Accept", accept)
	hr.Header.Set("Authorization", "Bearer "+tok)
	c.calls.Add(1)
	start := time.Now()
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, transportError(ctx, &call{method: "GET", path: path}, err, c.timeout, c.base)
	}
	defer resp.Body.Close()
	rtt := time.Since(start)
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	c.log.Logf(3, "GET %s -> %d (%d bytes, %s)", pathOnly(path), resp.StatusCode, len(data), time.Since(start).Round(time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the answer: %w", pathOnly(path), err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, parseAPIError("GET", pathOnly(path), resp.StatusCode, data)
	}
	a := &DatedAnswer{Body: data, Local: start.Add(rtt / 2), RTT: rtt}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		a.Date = d
	}
	return a, nil
}
