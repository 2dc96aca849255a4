package jamf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// APIError is a non-2xx answer from Jamf Pro.
type APIError struct {
	Method, Path string
	Status       int
	Code         string // Jamf's error code, e.g. DUPLICATE_FIELD, INVALID_PRIVILEGE
	Text         string // Jamf's description or the Classic <p>Error:</p> text
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("Jamf Pro answered %d %s to %s %s", e.Status, http.StatusText(e.Status), e.Method, e.Path)
	if e.Code != "" || e.Text != "" {
		msg += ": " + strings.TrimSpace(strings.Join(nonEmpty(e.Code, e.Text), " "))
	}
	switch e.Status {
	case 401:
		msg += " (check the credentials)"
	case 403:
		msg += " (the account lacks a privilege this step needs)"
	}
	return msg
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// IsStatus reports whether err is an APIError with one of the statuses.
func IsStatus(err error, statuses ...int) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, s := range statuses {
		if ae.Status == s {
			return true
		}
	}
	return false
}

// IsDuplicate reports a uniqueness conflict on a record write: someone
// else wrote a record of that name first.
func IsDuplicate(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.Status == 409 || ae.Status == 400 && (ae.Code == "DUPLICATE_FIELD" || strings.Contains(strings.ToLower(ae.Text), "duplicate"))
}

var classicErr = regexp.MustCompile(`(?s)<p>Error:?(.*?)</p>`)
var classicH3 = regexp.MustCompile(`(?s)<h3>(.*?)</h3>`)

// parseAPIError reads Jamf's three error shapes: the Jamf Pro API JSON,
// the OAuth RFC 6749 JSON and the Classic API HTML status page.
func parseAPIError(method, path string, status int, data []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var j struct {
		Errors []struct {
			Code        string `json:"code"`
			Description string `json:"description"`
			Field       string `json:"field"`
		} `json:"errors"`
		Error            any    `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(data, &j) == nil {
		if len(j.Errors) > 0 {
			e.Code = cleanText(j.Errors[0].Code)
			e.Text = cleanText(j.Errors[0].Description)
			if j.Errors[0].Field != "" {
				e.Text += " (field " + cleanText(j.Errors[0].Field) + ")"
			}
		} else if s, ok := j.Error.(string); ok {
			e.Code, e.Text = cleanText(s), cleanText(j.ErrorDescription)
		}
		return e
	}
	if m := classicErr.FindSubmatch(data); m != nil {
		e.Text = cleanText(string(m[1]))
	} else if m := classicH3.FindSubmatch(data); m != nil {
		e.Text = cleanText(string(m[1]))
	}
	return e
}

func cleanText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// getJSON and sendJSON are the common shapes: send, then decode.
func (c *Client) getJSON(ctx context.Context, path string, out any) error {
	a, err := c.send.do(ctx, &call{method: "GET", path: path})
	if err != nil {
		return err
	}
	return decodeJSON(a.body, out, "GET "+pathOnly(path))
}

func (c *Client) sendJSON(ctx context.Context, method, path string, in, out any) error {
	rq := &call{method: method, path: path}
	if in != nil {
		body, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding %s %s: %w", method, path, err)
		}
		rq.body, rq.contentType = body, "application/json"
	}
	a, err := c.send.do(ctx, rq)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return decodeJSON(a.body, out, method+" "+pathOnly(path))
}

func decodeJSON(data []byte, out any, what string) error {
	if err := json.Unmarshal(data, out); err != nil {
		snippet := cleanText(string(data))
		if len(snippet) > 80 {
			snippet = snippet[:80] + "..."
		}
		return fmt.Errorf("%s: Jamf Pro's answer is not the JSON expected (%v; it began %q): check that the Jamf Pro URL points at Jamf Pro", what, err, snippet)
	}
	return nil
}
