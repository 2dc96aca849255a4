package jamf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/oneline"
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

// cleanText makes a server's text one short line: white space runs
// become one space, and control and invisible characters (ESC, NUL, a
// bidi override) are printed escaped, so a hostile answer can neither
// add log lines nor rewrite the terminal.
func cleanText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "..."
	}
	return oneline.Escape(s)
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
		snippet := strings.Join(strings.Fields(string(data)), " ")
		if len(snippet) > 80 {
			snippet = strings.ToValidUTF8(snippet[:80], "") + "..."
		}
		began := fmt.Sprintf("it began %q", snippet)
		if snippet == "" {
			began = fmt.Sprintf("it is %d bytes of white space", len(data))
			if len(data) == 0 {
				began = "it is empty"
			}
		}
		return fmt.Errorf("%s: Jamf Pro's answer is not the JSON expected (%s; %s): check that the Jamf Pro URL points at Jamf Pro", what, jsonProblem(err), began)
	}
	return nil
}

// jsonProblem says what is wrong with a JSON answer in JSON's words
// (a string, a number, an object), never Go's (int64, struct field).
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		where := "the answer"
		if te.Field != "" {
			where = fmt.Sprintf("field %q", te.Field)
		}
		return fmt.Sprintf("%s holds %s where %s is expected", where, jsonValueName(te.Value), jsonKindName(te.Type.Kind()))
	case strings.Contains(err.Error(), "unexpected end of JSON input"):
		return "it ends before the JSON does"
	case errors.As(err, &se):
		return fmt.Sprintf("it is not valid JSON at byte %d", se.Offset)
	}
	return "it is not valid JSON"
}

func jsonValueName(v string) string {
	switch {
	case v == "string":
		return "a string"
	case v == "object":
		return "an object"
	case v == "array":
		return "a list"
	case v == "bool":
		return "true or false"
	case strings.HasPrefix(v, "number"):
		return "a number"
	}
	return v
}

func jsonKindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number of 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another kind of value"
}
