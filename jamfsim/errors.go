package jamfsim

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
)

// writeJSON answers with Jamf's pretty-printed JSON (" : " spacing).
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.MarshalIndent(v, "", "  ")
	out := strings.ReplaceAll(string(data), `": `, `" : `)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprint(w, out)
}

// apiError is the schema's ApiError.
type apiError struct {
	HTTPStatus int             `json:"httpStatus"`
	Errors     []apiErrorCause `json:"errors"`
}

// apiErrorCause keeps Jamf's field order (code, description, id, field).
type apiErrorCause struct {
	Code        string  `json:"code"`
	Description string  `json:"description"`
	ID          *string `json:"id"`
	Field       *string `json:"field"`
}

func writeAPIError(w http.ResponseWriter, status int, code, desc string) {
	writeAPIErrorField(w, status, code, desc, "")
}

func writeAPIErrorField(w http.ResponseWriter, status int, code, desc, field string) {
	id := "0"
	c := apiErrorCause{Code: code, Description: desc, ID: &id}
	if field != "" {
		c.Field = &field
	}
	writeJSON(w, status, apiError{HTTPStatus: status, Errors: []apiErrorCause{c}})
}

// writeNotFound is Jamf Pro's answer for a path it does not serve: an
// endpoint this version lacks, or one Jamf has removed.
func writeNotFound(w http.ResponseWriter) {
	writeAPIError(w, http.StatusNotFound, "NOT_FOUND", "Resource not found")
}

// writeClassicError is the Classic API's HTML status page.
func writeClassicError(w http.ResponseWriter, status int, msg string) {
	writeStatusPage(w, status, "Error: "+msg)
}

// writeStatusPage is the Classic API's HTML status page with line as its
// explanation: "Error: ..." for most errors, plain text for some.
func writeStatusPage(w http.ResponseWriter, status int, line string) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html>\n<head>\n   <title>Status page</title>\n</head>\n<body style=\"font-family: sans-serif;\">\n<p style=\"font-size: 1.2em;font-weight: bold;margin: 1em 0px;\">%s</p>\n<p>%s</p>\n<p>You can get technical details <a href=\"http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.%d\">here</a>.<br>\nPlease continue your visit at our <a href=\"/\">home page</a>.\n</p>\n</body>\n</html>\n",
		html.EscapeString(http.StatusText(status)), html.EscapeString(line), status/100)
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>%s</Code><Message>%s</Message><RequestId>sim</RequestId></Error>", code, html.EscapeString(msg))
}
