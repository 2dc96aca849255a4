package jamfsim

import (
	"fmt"
	"path"
	"strings"
)

// rsql is the small part of RSQL that Jamf's filters use: field==value
// and field!=value (value quoted or bare, * as wildcard), joined with
// and/; and or/, and grouped with parentheses.
type rsql interface {
	match(get func(field string) (string, bool)) bool
}

type rsqlCmp struct {
	field, value string
	neg          bool
	fold         bool // the server compares this field ignoring case
}

type rsqlOp struct {
	and  bool
	l, r rsql
}

func (c rsqlCmp) match(get func(string) (string, bool)) bool {
	v, _ := get(c.field)
	want := c.value
	if c.fold {
		v, want = strings.ToLower(v), strings.ToLower(want)
	}
	ok := v == want
	if strings.Contains(want, "*") {
		pat := strings.NewReplacer(`\`, `\\`, `[`, `\[`, `?`, `\?`).Replace(want)
		ok, _ = path.Match(pat, v)
	}
	return ok != c.neg
}

func (o rsqlOp) match(get func(string) (string, bool)) bool {
	if o.and {
		return o.l.match(get) && o.r.match(get)
	}
	return o.l.match(get) || o.r.match(get)
}

type rsqlParser struct {
	s            string
	i            int
	fields, fold map[string]bool
}

// parseRSQL parses a filter over the allowed fields; == and != on the
// fold fields ignore letter case.
func parseRSQL(s string, fields, fold map[string]bool) (rsql, error) {
	p := &rsqlParser{s: s, fields: fields, fold: fold}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at %d", p.s[p.i:], p.i)
	}
	return e, nil
}

func (p *rsqlParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *rsqlParser) keyword(words ...string) bool {
	p.space()
	for _, w := range words {
		if strings.HasPrefix(p.s[p.i:], w) {
			p.i += len(w)
			return true
		}
	}
	return false
}

func (p *rsqlParser) or() (rsql, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword(",", "or ", "OR ") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = rsqlOp{and: false, l: l, r: r}
	}
	return l, nil
}

func (p *rsqlParser) and() (rsql, error) {
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.keyword(";", "and ", "AND ") {
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		l = rsqlOp{and: true, l: l, r: r}
	}
	return l, nil
}

func (p *rsqlParser) term() (rsql, error) {
	if p.keyword("(") {
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.keyword(")") {
			return nil, fmt.Errorf("missing )")
		}
		return e, nil
	}
	p.space()
	start := p.i
	for p.i < len(p.s) && strings.IndexByte("=!<> ", p.s[p.i]) < 0 {
		p.i++
	}
	field := p.s[start:p.i]
	if !p.fields[field] {
		return nil, fmt.Errorf("field %q cannot be filtered on", field)
	}
	var neg bool
	switch {
	case p.keyword("=="):
	case p.keyword("!="):
		neg = true
	default:
		return nil, fmt.Errorf("expected == or != after %s", field)
	}
	val, err := p.value()
	if err != nil {
		return nil, err
	}
	return rsqlCmp{field: field, value: val, neg: neg, fold: p.fold[field]}, nil
}

func (p *rsqlParser) value() (string, error) {
	if p.i < len(p.s) && (p.s[p.i] == '"' || p.s[p.i] == '\'') {
		q := p.s[p.i]
		p.i++
		var b strings.Builder
		for p.i < len(p.s) {
			c := p.s[p.i]
			switch {
			case c == '\\' && p.i+1 < len(p.s):
				b.WriteByte(p.s[p.i+1])
				p.i += 2
			case c == q:
				p.i++
				return b.String(), nil
			default:
				b.WriteByte(c)
				p.i++
			}
		}
		return "", fmt.Errorf("unterminated quote")
	}
	start := p.i
	for p.i < len(p.s) && strings.IndexByte(";,() ", p.s[p.i]) < 0 {
		p.i++
	}
	if p.i == start {
		return "", fmt.Errorf("missing value")
	}
	return p.s[start:p.i], nil
}
