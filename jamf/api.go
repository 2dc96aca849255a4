package jamf

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// ServerVersion is Jamf Pro's version, e.g. 11.30.1.
type ServerVersion struct {
	Raw                 string
	Major, Minor, Patch int
}

// AtLeast compares major.minor.
func (v ServerVersion) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// ModernPackages reports the Jamf Pro API packages endpoints (11.5+).
func (v ServerVersion) ModernPackages() bool { return v.AtLeast(11, 5) }

func parseVersion(raw string) (ServerVersion, error) {
	v := ServerVersion{Raw: raw}
	core, _, _ := strings.Cut(raw, "-")
	parts := strings.Split(core, ".")
	nums := []*int{&v.Major, &v.Minor, &v.Patch}
	for i := 0; i < len(parts) && i < 3; i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return v, fmt.Errorf("Jamf Pro version %q is not a version number", raw)
		}
		*nums[i] = n
	}
	if len(parts) < 2 {
		return v, fmt.Errorf("Jamf Pro version %q is not a version number", raw)
	}
	return v, nil
}

// Version asks GET /api/v1/jamf-pro-version.
func (c *Client) Version(ctx context.Context) (ServerVersion, error) {
	var out struct {
		Version string `json:"version"`
	}
	if err := c.getJSON(ctx, "/api/v1/jamf-pro-version", &out); err != nil {
		return ServerVersion{}, fmt.Errorf("asking the Jamf Pro version: %w", err)
	}
	return parseVersion(out.Version)
}

// Authenticate mints (or checks) the token now, so bad credentials are
// reported as such before anything else is asked.
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.tokens.Token(ctx)
	return err
}

// TokenLifetime is the lifetime the current token was issued with.
func (c *Client) TokenLifetime() (life, left float64) {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	return c.tokens.life.Seconds(), c.tokens.remaining().Seconds()
}

// Close invalidates a token this client minted (unless it is cached for
// later runs).
func (c *Client) Close(ctx context.Context) { c.tokens.Close(ctx) }

// CDNType is the cloud distribution point's technology, from GET
// /api/v1/cloud-distribution-point: JAMF_CLOUD, AMAZON_S3, AKAMAI,
// RACKSPACE_CLOUD_FILES or NONE.
func (c *Client) CDNType(ctx context.Context) (string, error) {
	var out struct {
		CDNType string `json:"cdnType"`
	}
	if err := c.getJSON(ctx, "/api/v1/cloud-distribution-point", &out); err != nil {
		return "", fmt.Errorf("reading the cloud distribution point: %w", err)
	}
	return out.CDNType, nil
}

// UploadCapability is GET /api/v1/cloud-distribution-point/upload-capability.
type UploadCapability struct {
	PrincipalDistributionTechnology bool `json:"principalDistributionTechnology"`
	DirectUploadCapable             bool `json:"directUploadCapable"`
}

// UploadCapability asks whether the cloud distribution point takes uploads.
func (c *Client) UploadCapability(ctx context.Context) (UploadCapability, error) {
	var out UploadCapability
	err := c.getJSON(ctx, "/api/v1/cloud-distribution-point/upload-capability", &out)
	return out, err
}

// AuthDetails is what GET /api/v1/auth says of the account (privileges
// are listed there for user accounts; API clients get little).
func (c *Client) AuthDetails(ctx context.Context) (map[string]any, error) {
	var out map[string]any
	if err := c.getJSON(ctx, "/api/v1/auth", &out); err != nil {
		return nil, fmt.Errorf("reading GET /api/v1/auth: %w", err)
	}
	return out, nil
}

// RefreshInventory asks Jamf Pro to look at the distribution point for
// fileName (all files when ""): the cloud-distribution-point endpoint
// on 11.24+, the JCDS one before.
func (c *Client) RefreshInventory(ctx context.Context, v ServerVersion, fileName string) error {
	path := "/api/v1/jcds/refresh-inventory"
	if v.AtLeast(11, 24) {
		path = "/api/v1/cloud-distribution-point/refresh-inventory"
	}
	if fileName != "" {
		path += "?file-name=" + QueryEscape(fileName)
	}
	if _, err := c.send.do(ctx, &call{method: "POST", path: path}); err != nil {
		return fmt.Errorf("refreshing the inventory: %w", err)
	}
	return nil
}
