package processor

import (
	"fmt"
	"regexp"
	"strings"
)

// keyRef is AutoPkg's RE_KEYREF: %name% with an identifier inside.
var keyRef = regexp.MustCompile(`%([a-zA-Z_][a-zA-Z_0-9]*)%`)

// ParseKeyValues mirrors Processor.parse_arguments: each argument is split
// at its first "=", values are strings, and %key% refers to keys given
// earlier on the same command line. warn receives AutoPkg's message for an
// undefined key, in which case the whole value is left as it is.
func ParseKeyValues(args []string, warn func(string)) (Env, error) {
	if err := checkKeyValues(args); err != nil {
		return nil, err
	}
	env := Env{}
	total := 0
	for _, arg := range args {
		key, value, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, fmt.Errorf("Illegal argument '%s'", arg)
		}
		if total += substitutedLen(env, value); total > MaxInputBytes {
			return nil, inputErr("the key=value arguments add up to more than %d MiB once %%key%% references are replaced (at %s): pass the AutoPkg env as a plist on stdin instead", MaxInputBytes>>20, key)
		}
		env[key] = Substitute(env, value, warn)
	}
	return env, nil
}

// Substitute replaces %key% references with string values from env, in a
// single pass. Like AutoPkg, an undefined key leaves the whole string
// unchanged; a non-string value is rendered with %v rather than crashing.
func Substitute(env Env, value string, warn func(string)) string {
	for _, m := range keyRef.FindAllStringSubmatch(value, -1) {
		if _, ok := env[m[1]]; !ok {
			if warn != nil {
				warn(fmt.Sprintf("Use of undefined key in variable substitution: '%s'", m[1]))
			}
			return value
		}
	}
	return keyRef.ReplaceAllStringFunc(value, func(ref string) string {
		v := env[ref[1:len(ref)-1]]
		if s, ok := v.(string); ok {
			return s
		}
		return fmt.Sprint(v)
	})
}
