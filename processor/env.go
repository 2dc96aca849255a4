package processor

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"howett.net/plist"
)

// Env is AutoPkg's env: a plist dict decoded into Go values (string, bool,
// uint64, int64, float64, time.Time, []byte, []any, map[string]any).
type Env map[string]any

// Format is the plist format of the input, mirrored on output by default.
type Format int

// The plist formats AutoPkg (Python's plistlib) reads and writes.
const (
	FormatXML    Format = plist.XMLFormat
	FormatBinary Format = plist.BinaryFormat
)

func (f Format) String() string {
	if f == FormatBinary {
		return "binary"
	}
	return "xml"
}

// ParseFormat turns "xml" or "binary" into a Format.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "xml", "xml1":
		return FormatXML, nil
	case "binary", "binary1", "bplist":
		return FormatBinary, nil
	}
	return 0, fmt.Errorf("--format %q: use xml or binary", s)
}

// DecodeEnv parses stdin the way plistlib.loads does: XML or binary,
// empty input meaning {}. The top level must be a dict. The shape limits
// (MaxDepth, MaxObjects, MaxInputBytes) are checked before decoding.
func DecodeEnv(data []byte) (Env, Format, error) { return decodeEnv(data, "stdin") }

// decodeEnv is DecodeEnv for input from source ("stdin", "--prefs FILE"),
// which starts every error message.
func decodeEnv(data []byte, source string) (Env, Format, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return Env{}, FormatXML, nil
	}
	var format Format
	switch {
	case bytes.HasPrefix(data, []byte("bplist00")):
		format = FormatBinary
	case bytes.HasPrefix(trimmed, []byte("<?xml")), bytes.HasPrefix(trimmed, []byte("<plist")), bytes.HasPrefix(trimmed, []byte("<!DOCTYPE")):
		format = FormatXML
	default:
		return nil, 0, fmt.Errorf("%s is not an XML or binary plist: send the AutoPkg env as a plist dict (plutil -convert xml1 or binary1)", source)
	}
	if err := checkShape(data, format, source); err != nil {
		var np *notPlistError
		if errors.As(err, &np) {
			return nil, 0, fmt.Errorf("%s is not a valid %s plist (%s): send the AutoPkg env as a plist dict", source, format, np.detail)
		}
		return nil, 0, err
	}
	var v any
	f, err := decodePlist(data, &v)
	if err == nil && Format(f) != format {
		// The decoder falls back to other formats (OpenStep text), which
		// the pre-scan has not looked at and AutoPkg never sends.
		err = fmt.Errorf("it parses only as a %s plist", plistFormatName(f))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%s is not a valid %s plist (%s): send the AutoPkg env as a plist dict", source, format, oneLine(err.Error()))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, 0, fmt.Errorf("%s plist top level is %s, not a dictionary: send the AutoPkg env as a plist dict", source, typeName(v))
	}
	return Env(normalize(m).(map[string]any)), format, nil
}

func plistFormatName(f int) string {
	switch f {
	case plist.OpenStepFormat:
		return "OpenStep"
	case plist.GNUStepFormat:
		return "GNUstep"
	}
	return "different"
}

// decodePlist wraps plist.Unmarshal, turning its panics on hostile input
// (it has had a few) into errors.
func decodePlist(data []byte, v any) (f int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed plist: %v", r)
		}
	}()
	return plist.Unmarshal(data, v)
}

// normalize turns values that AutoPkg's receipts cannot hold (UIDs) into
// integers, and leaves everything else as decoded.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	case plist.UID:
		return uint64(x)
	}
	return v
}

// EncodeEnv writes env as one plist document. Binary is lossless; XML is
// what AutoPkg's execute_shell writes.
func EncodeEnv(env Env, format Format) ([]byte, error) {
	var buf bytes.Buffer
	enc := plist.NewEncoderForFormat(&buf, int(format))
	if format == FormatXML {
		enc.Indent("\t")
	}
	if err := enc.Encode(map[string]any(env)); err != nil {
		return nil, fmt.Errorf("encoding the output plist: %w", err)
	}
	return buf.Bytes(), nil
}

// IsSecretKey reports whether an env key holds a secret.
func IsSecretKey(key string) bool {
	up := strings.ToUpper(key)
	for _, m := range SecretKeyMarkers {
		if strings.Contains(up, m) {
			return true
		}
	}
	return false
}

// SecretValues collects every non-trivial string held under a secret key
// at any depth (API_PASSWORD, a dict's SMB_PASSWORD ...), so the logger
// can scrub them. Inside SMB_SHARES only the values under secret keys
// count: its URLs and user names must stay readable in the log.
func (e Env) SecretValues() []string {
	var out []string
	var walk func(v any, secret bool)
	walk = func(v any, secret bool) {
		switch x := v.(type) {
		case string:
			if secret && len(x) >= 4 {
				out = append(out, x)
			}
		case []any:
			for _, y := range x {
				walk(y, secret)
			}
		case map[string]any:
			for k, y := range x {
				walk(y, secret || holdsSecretValue(k))
			}
		}
	}
	for k, v := range e {
		walk(v, holdsSecretValue(k))
	}
	sort.Strings(out)
	return out
}

// holdsSecretValue is IsSecretKey minus SMB_SHARES, which is withheld
// from the output as a whole but is a container: the secrets are the
// SMB_PASSWORD values inside it.
func holdsSecretValue(key string) bool {
	return IsSecretKey(key) && !strings.Contains(strings.ToUpper(key), "SMB_SHARES")
}

// WithoutSecrets returns a shallow copy of env without secret keys: the
// output plist never carries a secret back out.
func (e Env) WithoutSecrets() Env {
	out := make(Env, len(e))
	for k, v := range e {
		if !IsSecretKey(k) {
			out[k] = v
		}
	}
	return out
}

// typeName names a decoded value's plist type in words a Mac admin
// knows (never a Go type): every type DecodeEnv can produce is listed.
func typeName(v any) string {
	switch v.(type) {
	case map[string]any, Env:
		return "a dictionary"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case uint64, int64, float64, plist.UID:
		return "a number"
	case []byte:
		return "data"
	case time.Time:
		return "a date"
	case nil:
		return "empty"
	}
	return "a value of an unknown kind"
}

// oneLine keeps error text to one printable line of modest length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 600 {
		cut := 600
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}
