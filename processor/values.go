package processor

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Reading one input's value: errors naming the input, AutoPkg's defaults
// and required inputs, booleans, integers and strings as plists hold them.

// InputError is bad input: one line naming the input and what to do.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErr(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// ApplyDefaults sets the manifest default of every absent input, as
// AutoPkg's Processor.process does (absent, not falsy; no substitution).
func ApplyDefaults(env Env, log *Logger) {
	for _, in := range Inputs {
		if in.Default == nil {
			continue
		}
		if _, ok := env[in.Name]; !ok {
			env[in.Name] = in.Default
			log.Logf(2, "No value supplied for %s, setting default value of: %v", in.Name, in.Default)
		}
	}
}

// CheckRequired mirrors AutoPkg's "<Name> requires <var>" check.
func CheckRequired(env Env) error {
	for _, in := range Inputs {
		if !in.Required {
			continue
		}
		if _, ok := env[in.Name]; !ok {
			return inputErr("%s requires %s: %s", Name, in.Name, requiredHint(in.Name))
		}
	}
	return nil
}

func requiredHint(name string) string {
	if name == "JSS_URL" {
		return "set it to your Jamf Pro URL (e.g. https://yourorg.jamfcloud.com) in the AutoPkg preferences or the recipe Input"
	}
	return "set it in the recipe Input or with -k " + name + "=..."
}

// Verbose reads verbose as AutoPkg does: an int or a numeric string.
func Verbose(env Env) int {
	switch v := env["verbose"].(type) {
	case uint64:
		return int(min(v, 100))
	case int64:
		return int(max(min(v, 100), 0))
	case float64:
		return int(max(min(v, 100), 0))
	case bool:
		if v {
			return 1
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return max(min(n, 100), 0)
		}
	}
	return 0
}

// isEmptyish is true for values that mean "not set": "", the default
// "False", false.
func isEmptyish(v any) bool {
	switch x := v.(type) {
	case string:
		s := strings.ToLower(strings.TrimSpace(x))
		return s == "" || s == "false" || s == "no" || s == "0" || s == "none"
	case bool:
		return !x
	case nil:
		return true
	}
	return false
}

// Bool parses a boolean input. Accepted: plist booleans, the integers 0
// and 1, and the strings true/false/yes/no/1/0 in any case (empty = false).
// This is broader than JamfPackageUploader, which takes only "true".
func Bool(env Env, key string) (bool, error) {
	v, ok := env[key]
	if !ok || v == nil {
		return false, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case uint64:
		if x <= 1 {
			return x == 1, nil
		}
	case int64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "1":
			return true, nil
		case "false", "no", "0", "":
			return false, nil
		}
	}
	return false, inputErr("%s is %s, which is not a boolean: use True or False", key, describe(v))
}

// Int parses an integer input given as a plist integer or a numeric string.
func Int(env Env, key string, lo, hi int) (int, error) {
	v, ok := env[key]
	if !ok || v == nil {
		return 0, nil
	}
	var n int64
	var err error
	switch x := v.(type) {
	case uint64:
		if x > math.MaxInt32 {
			err = errors.New("too large")
		}
		n = int64(x)
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) {
			err = errors.New("not whole")
		}
		n = int64(x)
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, inputErr("%s is empty: give a whole number from %d to %d", key, lo, hi)
		}
		n, err = strconv.ParseInt(s, 10, 64)
	default:
		err = errors.New("wrong type")
	}
	if err != nil || n < int64(lo) || n > int64(hi) {
		return 0, inputErr("%s is %s: give a whole number from %d to %d", key, describe(v), lo, hi)
	}
	return int(n), nil
}

// String reads a string input; numbers are accepted and formatted.
func String(env Env, key string) (string, error) {
	switch x := env[key].(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case uint64, int64, float64:
		return fmt.Sprint(x), nil
	case bool:
		if x {
			return "True", nil
		}
		return "False", nil
	default:
		return "", inputErr("%s is %s, not a string: give it as a string", key, describe(x))
	}
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		s := x
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return strconv.Quote(s)
	case bool:
		return strconv.FormatBool(x)
	case uint64, int64, float64:
		return fmt.Sprint(x)
	}
	return typeName(v)
}
