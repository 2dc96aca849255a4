package jamf

import (
	"context"
	"errors"
	"fmt"
)

// The JCDS 2.0 endpoints (/api/v1/jcds/*), deprecated since 11.24 but
// still the fastest way to put a big file on a Jamf Cloud distribution
// point: temporary S3 credentials, then a multipart upload.

// JCDS privileges, as the OpenAPI's x-required-privileges name them.
const (
	PrivReadJCDS   = "Read Jamf Cloud Distribution Service Files"
	PrivCreateJCDS = "Create Jamf Cloud Distribution Service Files"
	PrivDeleteJCDS = "Delete Jamf Cloud Distribution Service Files"
)

// FileData is one JCDS file (GET /api/v1/jcds/files).
type FileData struct {
	FileName string `json:"fileName"`
	Length   int64  `json:"length"`
	MD5      string `json:"md5"`
	Region   string `json:"region"`
	SHA3     string `json:"sha3"`
}

// JCDSCredentials are the temporary S3 credentials from POST /api/v1/jcds/files.
type JCDSCredentials struct {
	AccessKeyID     string `json:"accessKeyID"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	Region          string `json:"region"`
	Expiration      int64  `json:"expiration"`
	BucketName      string `json:"bucketName"`
	Path            string `json:"path"`
	UUID            string `json:"uuid"`
}

// NoJCDSError says JCDS 2.0 cannot be used here: the server has none
// (Reason "absent"), the endpoints are gone (404), or the role lacks
// the privilege (403, Privilege set). The packages route still can be.
type NoJCDSError struct {
	Status    int
	Privilege string // the missing privilege, on 403
	Err       error
}

func (e *NoJCDSError) Error() string {
	if e.Privilege != "" {
		return fmt.Sprintf("the account lacks the %q privilege (%v)", e.Privilege, e.Err)
	}
	return fmt.Sprintf("JCDS 2.0 is not available on this server (%v)", e.Err)
}

func (e *NoJCDSError) Unwrap() error { return e.Err }

// jcdsRefusal turns an answer that means "no JCDS for you" into a
// NoJCDSError; other errors pass through.
func jcdsRefusal(err error, privilege string) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.Status {
	case 403:
		return &NoJCDSError{Status: 403, Privilege: privilege, Err: err}
	case 400, 404, 409, 501:
		// Tenants without JCDS answer 400 or 409 (jamfplatform-go-sdk's
		// acceptance tests); a server without the endpoints, 404.
		return &NoJCDSError{Status: ae.Status, Err: err}
	}
	return err
}

// ListJCDS lists the JCDS files. A 500 is told apart by JamfSync's probe
// (Jcds2Dp.swift): GET /api/v1/jcds/files/<a name that is not there>
// answers 404 where JCDS 2.0 exists and 500 where it does not. Only
// when the probe says JCDS is there is the 500 a fault worth retrying.
func (c *Client) ListJCDS(ctx context.Context) ([]FileData, error) {
	body, err := c.jcdsListing(ctx)
	if err != nil {
		return nil, err
	}
	var files []FileData
	if err := decodeJSON(body, &files, "GET /api/v1/jcds/files"); err != nil {
		return nil, err
	}
	return files, nil
}

// jcdsListing is the answer of GET /api/v1/jcds/files, undecoded.
func (c *Client) jcdsListing(ctx context.Context) ([]byte, error) {
	a, err := c.send.do(ctx, &call{method: "GET", path: "/api/v1/jcds/files", tries: 1})
	if IsStatus(err, 500) {
		present, perr := c.ProbeJCDS(ctx)
		if perr == nil && !present {
			return nil, &NoJCDSError{Status: 500, Err: err}
		}
	}
	if st, permanent := statusOf(err); err != nil && !permanent && retryable(st) {
		a, err = c.send.do(ctx, &call{method: "GET", path: "/api/v1/jcds/files"})
	}
	if err != nil {
		return nil, fmt.Errorf("listing JCDS files: %w", jcdsRefusal(err, PrivReadJCDS))
	}
	return a.body, nil
}

// ProbeJCDS is JamfSync's detection: 404 for a missing file means JCDS
// 2.0 is there, 500 means it is not.
func (c *Client) ProbeJCDS(ctx context.Context) (bool, error) {
	_, err := c.send.do(ctx, &call{method: "GET", path: "/api/v1/jcds/files/" + PathEscape("jcds2-uploader-probe-nonexistent.pkg"), tries: 1})
	switch {
	case err == nil, IsStatus(err, 404):
		return true, nil
	case IsStatus(err, 500):
		return false, nil
	}
	return false, jcdsRefusal(err, PrivReadJCDS)
}

// NewJCDSUpload asks for temporary S3 credentials for one upload.
func (c *Client) NewJCDSUpload(ctx context.Context) (*JCDSCredentials, error) {
	var cr JCDSCredentials
	if err := c.sendJSON(ctx, "POST", "/api/v1/jcds/files", nil, &cr); err != nil {
		return nil, fmt.Errorf("asking JCDS for upload credentials: %w", jcdsRefusal(err, PrivCreateJCDS))
	}
	if cr.BucketName == "" {
		return nil, fmt.Errorf("POST /api/v1/jcds/files: the answer names no bucketName")
	}
	return c.checkCreds(&cr, "POST /api/v1/jcds/files")
}

// RenewJCDS renews the current upload's credentials.
func (c *Client) RenewJCDS(ctx context.Context) (*JCDSCredentials, error) {
	var cr JCDSCredentials
	if err := c.sendJSON(ctx, "POST", "/api/v1/jcds/renew-credentials", nil, &cr); err != nil {
		return nil, fmt.Errorf("renewing JCDS upload credentials: %w", jcdsRefusal(err, PrivCreateJCDS))
	}
	return c.checkCreds(&cr, "POST /api/v1/jcds/renew-credentials")
}

func (c *Client) checkCreds(cr *JCDSCredentials, what string) (*JCDSCredentials, error) {
	c.log.Secret(cr.SecretAccessKey)
	c.log.Secret(cr.SessionToken)
	c.log.Secret(cr.AccessKeyID)
	if cr.AccessKeyID == "" || cr.SecretAccessKey == "" {
		return nil, fmt.Errorf("%s: the answer lacks accessKeyID or secretAccessKey", what)
	}
	return cr, nil
}

// DeleteJCDS deletes one JCDS file; a missing file is not an error.
func (c *Client) DeleteJCDS(ctx context.Context, name string) error {
	_, err := c.send.do(ctx, &call{method: "DELETE", path: "/api/v1/jcds/files/" + PathEscape(name), expect: []int{200, 204, 404}})
	if err != nil {
		return fmt.Errorf("deleting JCDS file %q: %w", name, jcdsRefusal(err, PrivDeleteJCDS))
	}
	return nil
}
