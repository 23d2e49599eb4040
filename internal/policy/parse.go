package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/llm-secrets/llms/internal/agentid"
	"github.com/llm-secrets/llms/internal/names"
)

// file is one parsed policy file.
type file struct {
	path    string
	secrets map[string]*entry
}

// entry is the rules of one secret in one file.
type entry struct {
	line        int
	allow, deny []*rule
}

type field int

const (
	fieldRepo field = iota
	fieldBranch
	fieldUser
	fieldAgent
	fieldCmd
	numFields
)

var fieldNames = [numFields]string{"repo", "branch", "user", "agent", "cmd"}

// rule is one allow or deny rule. A nil pattern list means the rule does
// not name that field.
type rule struct {
	line     int
	patterns [numFields][]glob
	maxTTL   time.Duration
}

// glob is a path.Match pattern in which '/' is an ordinary character, so
// that `*` means every value and `release/*` also matches release/1/hotfix.
// path.Match stops '*' and '?' at '/'; swapping '/' for NUL (which no
// pattern or known subject value contains) on both sides lifts exactly that
// rule and keeps the rest of path.Match: '?', classes, escapes.
type glob struct {
	pattern string
	// isPath marks a cmd pattern holding '/': it names an absolute path,
	// not a base name.
	isPath bool
	// hostless marks a repo pattern whose first component is no host name
	// (it holds no '.'): owner/name, matched on any host.
	hostless bool
	// email marks a user pattern holding '@': it is matched against the git
	// email, any other against the login name.
	email bool
}

func newGlob(s string) glob {
	return glob{pattern: strings.ReplaceAll(s, "/", "\x00"), isPath: strings.Contains(s, "/"),
		hostless: names.HostlessRepo(s), email: strings.Contains(s, "@")}
}

func (g glob) match(v string) bool {
	// Patterns are validated at load, so Match cannot fail here.
	ok, _ := path.Match(g.pattern, strings.ReplaceAll(v, "/", "\x00"))
	return ok
}

// parseError is the one error shape of the parser: file and line first, so
// that editors and terminals can jump to it.
func parseError(file string, line int, format string, args ...any) error {
	return fmt.Errorf("policy: %s:%d: %s", file, line, fmt.Sprintf(format, args...))
}

// yamlLineError is compiled when a policy fails to parse, not at start-up,
// which every llms command pays.
var yamlLineError = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// parse reads one policy file. It walks the YAML node tree itself instead
// of decoding into structs: that way every error, including an unknown
// field deep in a rule, a bad glob or a bad duration, carries file:line,
// and YAML features a policy has no use for (anchors, aliases, tags, several
// documents, duplicate keys) are refused rather than interpreted.
func parse(name string, data []byte) (*file, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, parseError(name, 1, "empty policy file (write `secrets: {}` to deny every secret)")
		}
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, parseError(name, extra.Line, "more than one YAML document")
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	p := parser{name: name}
	if err := p.plain(&doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, parseError(name, doc.Line, "expected a mapping with a `secrets` key")
	}
	root := doc.Content[0]
	f := &file{path: name, secrets: map[string]*entry{}}
	sawSecrets := false
	err := p.mapping(root, func(key string, line int, v *yaml.Node) error {
		if key != "secrets" {
			return parseError(name, line, "unknown field %q (the only top-level field is `secrets`)", key)
		}
		sawSecrets = true
		if v.Kind != yaml.MappingNode {
			return parseError(name, v.Line, "secrets: expected a mapping of secret names to rules")
		}
		return p.mapping(v, func(secret string, line int, v *yaml.Node) error {
			if err := names.Secret(secret); err != nil {
				return parseError(name, line, "%v", err)
			}
			e, err := p.entry(secret, line, v)
			if err != nil {
				return err
			}
			f.secrets[secret] = e
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if !sawSecrets {
		return nil, parseError(name, root.Line, "missing `secrets`")
	}
	return f, nil
}

// yamlError rewrites the YAML library's "yaml: line N: msg" as file:line.
// The library numbers scanner errors from 1 but parser errors from 0 (it
// prints the 0-based line of the construct being parsed); parserProblems
// lists the parser's messages so that both come out 1-based. A message
// without a line stays without one rather than be given a guessed line.
func yamlError(name string, err error) error {
	m := yamlLineError().FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("policy: %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	line, convErr := strconv.Atoi(m[1])
	if convErr != nil {
		return fmt.Errorf("policy: %s: %s", name, m[2])
	}
	if parserProblems[m[2]] {
		line++
	}
	return parseError(name, line, "%s", m[2])
}

var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":    true,
	"did not find expected ',' or '}'":    true,
	"did not find expected '-' indicator": true,
	"did not find expected key":           true,
	"did not find expected node content":  true,
	"found undefined tag handle":          true,
}

type parser struct{ name string }

// plain refuses anchors, aliases and explicit tags anywhere in the tree, so
// that every value means what it says where it says it.
func (p parser) plain(n *yaml.Node) error {
	switch {
	case n.Kind == yaml.AliasNode || n.Anchor != "":
		return parseError(p.name, n.Line, "anchors and aliases are not allowed")
	case n.Style&yaml.TaggedStyle != 0:
		return parseError(p.name, n.Line, "tags are not allowed")
	}
	for _, c := range n.Content {
		if err := p.plain(c); err != nil {
			return err
		}
	}
	return nil
}

// mapping calls fn for each key of n, in order, refusing duplicate and
// non-string keys.
func (p parser) mapping(n *yaml.Node, fn func(key string, line int, value *yaml.Node) error) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return parseError(p.name, k.Line, "keys must be strings (quote a name that looks like a number)")
		}
		if seen[k.Value] {
			return parseError(p.name, k.Line, "duplicate key %q", k.Value)
		}
		seen[k.Value] = true
		if err := fn(k.Value, k.Line, v); err != nil {
			return err
		}
	}
	return nil
}

func (p parser) entry(secret string, line int, n *yaml.Node) (*entry, error) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return nil, parseError(p.name, line, "%s: expected `allow` and/or `deny` rules", secret)
	}
	e := &entry{line: line}
	err := p.mapping(n, func(key string, line int, v *yaml.Node) error {
		var deny bool
		switch key {
		case "allow":
		case "deny":
			deny = true
		default:
			return parseError(p.name, line, "unknown field %q (expected allow or deny)", key)
		}
		if v.Kind != yaml.SequenceNode {
			return parseError(p.name, v.Line, "%s: expected a list of rules", key)
		}
		for _, rn := range v.Content {
			r, err := p.rule(rn, deny)
			if err != nil {
				return err
			}
			if deny {
				e.deny = append(e.deny, r)
			} else {
				e.allow = append(e.allow, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(e.allow) > 0 {
		for _, r := range e.deny {
			if f, ok := r.matchesEverything(); ok {
				return nil, parseError(p.name, r.line, "%s: this deny rule (%s: \"*\") matches every request, so the allow rules above can never apply: "+
					"a matching deny always wins. Deny by default is already the rule (whatever no allow rule matches is denied): remove it "+
					"(llm-secrets v3's README suggested it as \"deny by default\")", secret, fieldNames[f])
			}
		}
	}
	return e, nil
}

// matchesEverything reports whether every field the rule names has a
// pattern of only '*', which matches every value (and, in a deny rule, an
// unknown one), and names one such field.
func (r *rule) matchesEverything() (field, bool) {
	named := field(-1)
	for f, pats := range r.patterns {
		if pats == nil {
			continue
		}
		if !slices.ContainsFunc(pats, func(g glob) bool { return strings.Trim(g.pattern, "*") == "" }) {
			return 0, false
		}
		if named < 0 {
			named = field(f)
		}
	}
	return named, named >= 0
}

func (p parser) rule(n *yaml.Node, deny bool) (*rule, error) {
	if n.Kind != yaml.MappingNode {
		return nil, parseError(p.name, n.Line, "expected a rule (a mapping of fields)")
	}
	if len(n.Content) == 0 {
		return nil, parseError(p.name, n.Line, "empty rule: it would match everything; name at least one field")
	}
	r := &rule{line: n.Line}
	err := p.mapping(n, func(key string, line int, v *yaml.Node) error {
		if key == "max_ttl" {
			if deny {
				return parseError(p.name, line, "max_ttl is only meaningful in an allow rule")
			}
			s, err := p.str(v, key)
			if err != nil {
				return err
			}
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				return parseError(p.name, v.Line, "max_ttl: %q is not a positive duration like 15m or 1h30m", s)
			}
			r.maxTTL = d
			return nil
		}
		for f, fname := range fieldNames {
			if key == fname {
				pats, err := p.patterns(field(f), v)
				r.patterns[f] = pats
				return err
			}
		}
		return parseError(p.name, line, "unknown field %q (expected repo, branch, user, agent, cmd or max_ttl)", key)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// patterns reads a field's value: one pattern or a non-empty list of them.
func (p parser) patterns(f field, n *yaml.Node) ([]glob, error) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		if len(n.Content) == 0 {
			return nil, parseError(p.name, n.Line, "%s: empty list matches nothing; remove the field to match any value", fieldNames[f])
		}
		items = n.Content
	}
	var pats []glob
	for _, item := range items {
		s, err := p.str(item, fieldNames[f])
		if err != nil {
			return nil, err
		}
		if err := validPattern(f, s); err != nil {
			return nil, parseError(p.name, item.Line, "%s: %v", fieldNames[f], err)
		}
		if f == fieldRepo || f == fieldUser {
			s = asciiLower(s)
		}
		if f == fieldAgent {
			if s, err = agentPattern(s); err != nil {
				return nil, parseError(p.name, item.Line, "agent: %v", err)
			}
		}
		pats = append(pats, newGlob(s))
	}
	return pats, nil
}

func (p parser) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", parseError(p.name, n.Line, "%s: expected a string (quote values like 2024, true or ~)", what)
	}
	return n.Value, nil
}

// agentPattern turns an agent pattern into its canonical form: an agent id
// or alias gives the id, human stays human, and a glob must match at least
// one of them. Any other name is refused, listing the known ones: a rule
// naming an agent no detector reports would silently never apply.
func agentPattern(s string) (string, error) {
	if s == Human {
		return s, nil
	}
	if strings.ContainsAny(s, "*?[\\") {
		g := newGlob(s)
		if g.match(Human) || slices.ContainsFunc(agentid.Known(), g.match) {
			return s, nil
		}
		return "", fmt.Errorf("%q matches no agent; known agents: %s; or %s", s, agentid.KnownList(), Human)
	}
	id, err := agentid.Canonical(s)
	if err != nil {
		return "", fmt.Errorf("%v; or %s (no agent detected)", err, Human)
	}
	return id, nil
}

func validPattern(f field, s string) error {
	if s == "" {
		return errors.New("empty pattern")
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return errors.New("control characters in pattern")
	}
	if _, err := path.Match(newGlob(s).pattern, ""); err != nil {
		return fmt.Errorf("bad glob %q", s)
	}
	switch f {
	case fieldRepo:
		if strings.ContainsAny(s, "@:") || strings.HasSuffix(s, "/") || strings.HasSuffix(s, ".git") {
			return fmt.Errorf("%q: write a repository as host/path, e.g. github.com/acme/api", s)
		}
	case fieldCmd:
		if strings.Contains(s, "/") && !strings.HasPrefix(s, "/") {
			return fmt.Errorf("%q: a command is a base name (psql) or an absolute path (/usr/bin/psql)", s)
		}
	}
	return nil
}
