package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/llm-secrets/llms/internal/agentid"
	"github.com/llm-secrets/llms/internal/names"
	"github.com/llm-secrets/llms/internal/smallfile"
)

// Subject is who asks for a secret, as the broker established it. An empty
// field is unknown.
type Subject struct {
	Repo   string // gitctx.NormalizeRepo form, e.g. github.com/acme/api
	Branch string // "" when HEAD is detached
	User   string // login name of the caller's uid, from the user database
	Email  string // git user.email
	// Agents are every agent found (agentid ids, e.g. claude-code), or
	// [Human] when none is; the request is allowed only if it is allowed
	// for each of them.
	Agents []string
	Cmd    string // absolute, clean path of the program to run; "" if none
	// SystemProgram: Cmd is the program of its base name in the system
	// directories, the one a pin by name means. A cmd pattern without '/'
	// matches no other in an allow rule; in a deny rule it matches every
	// program of that name.
	SystemProgram bool
}

// Human is the agent a policy sees when none is detected, so that rules can
// name the human ("agent: [human, claude-code]").
const Human = "human"

// Decision is the policy's answer for one secret and subject.
type Decision struct {
	Allowed bool
	Reason  string
	// MaxTTL is the smallest max_ttl of the allow rules that matched, in any
	// file; 0 means no limit.
	MaxTTL time.Duration
	// Source is file:line of the deciding rule ("file:line, file:line" when
	// several files had to allow), or the file alone when no rule decided.
	Source string
}

// Set is the policy files in force. The zero Set has no files and allows
// everything; a nil *Set allows nothing.
type Set struct {
	files []*file
}

// maxFileSize bounds what Load reads: a policy is a few kilobytes.
const maxFileSize = 1 << 20

// Load parses the policy files at paths, which must be absolute. A file that
// does not exist is skipped; if none exists the Set is empty and allows
// everything. Any other problem with any file is an error, and the caller
// must then deny everything: a policy that cannot be read is never
// treated as absent.
func Load(paths ...string) (*Set, error) {
	s := &Set{}
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("policy: path %q is not absolute", p)
		}
		// A policy that cannot be read (a FIFO, a device, too large)
		// denies everything.
		data, err := smallfile.Read(p, maxFileSize)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		f, err := parse(p, data)
		if err != nil {
			return nil, err
		}
		s.files = append(s.files, f)
	}
	return s, nil
}

// Empty reports whether no policy file was found, which allows every
// access. It is false for a nil Set.
func (s *Set) Empty() bool {
	return s != nil && len(s.files) == 0
}

// Decide says whether subj may use the secret key. Every file must allow it,
// for every agent of the subject; the first denial decides.
func (s *Set) Decide(key string, subj Subject) Decision {
	if s == nil {
		return Decision{Reason: "no policy loaded"}
	}
	if len(s.files) == 0 {
		return Decision{Allowed: true, Reason: "no policy file"}
	}
	if len(subj.Agents) < 2 {
		return s.decide(key, subj)
	}
	allowed := Decision{Allowed: true, Reason: "allowed by policy for each agent"}
	var sources []string
	for _, a := range subj.Agents {
		one := subj
		one.Agents = []string{a}
		d := s.decide(key, one)
		if !d.Allowed {
			d.Reason = "for agent " + a + ": " + d.Reason
			return d
		}
		if !slices.Contains(sources, d.Source) {
			sources = append(sources, d.Source)
		}
		allowed.MaxTTL = minTTL(allowed.MaxTTL, d.MaxTTL)
	}
	allowed.Source = strings.Join(sources, ", ")
	return allowed
}

// decide is Decide for a subject with at most one agent.
func (s *Set) decide(key string, subj Subject) Decision {
	allowed := Decision{Allowed: true, Reason: "allowed by policy"}
	var sources []string
	for _, f := range s.files {
		d := f.decide(key, subj)
		if !d.Allowed {
			return d
		}
		sources = append(sources, d.Source)
		allowed.MaxTTL = minTTL(allowed.MaxTTL, d.MaxTTL)
	}
	allowed.Source = strings.Join(sources, ", ")
	return allowed
}

func (f *file) decide(key string, subj Subject) Decision {
	e, ok := f.secrets[key]
	if !ok {
		return Decision{Reason: fmt.Sprintf("secret %s is not listed in the policy", key), Source: f.path}
	}
	for _, r := range e.deny {
		if r.matches(subj, true) {
			return Decision{Reason: "denied by a deny rule", Source: f.source(r.line)}
		}
	}
	var decisive *rule
	for _, r := range e.allow {
		if !r.matches(subj, false) {
			continue
		}
		// The rule with the smallest max_ttl decides; without any, the first.
		if decisive == nil || r.maxTTL != 0 && (decisive.maxTTL == 0 || r.maxTTL < decisive.maxTTL) {
			decisive = r
		}
	}
	if decisive == nil {
		reason := "no allow rule matches"
		if unknown := subj.unknown(); len(unknown) > 0 {
			reason += " (unknown: " + strings.Join(unknown, ", ") + ")"
		}
		return Decision{Reason: reason, Source: f.source(e.line)}
	}
	return Decision{Allowed: true, MaxTTL: decisive.maxTTL, Source: f.source(decisive.line)}
}

func (f *file) source(line int) string { return fmt.Sprintf("%s:%d", f.path, line) }

func minTTL(a, b time.Duration) time.Duration {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

// value returns the subject's value that pattern g of field f is matched
// against, and false when it is unknown. A user pattern holding '@' is
// matched against the git email, any other against the login name. The
// agent "unknown" (agentid.Unknown) is an unknown value. A
// command that is not an absolute, clean path is unknown: it could be
// matched neither as a path nor reliably by base name. A value holding NUL
// is unknown too, since glob matching reserves NUL.
func (subj Subject) value(f field, g glob) (string, bool) {
	v, known := subj.rawValue(f, g)
	if strings.IndexByte(v, 0) >= 0 {
		return "", false
	}
	return v, known
}

func (subj Subject) rawValue(f field, g glob) (string, bool) {
	switch f {
	case fieldRepo:
		return asciiLower(subj.Repo), subj.Repo != ""
	case fieldBranch:
		return subj.Branch, subj.Branch != ""
	case fieldUser:
		if g.email {
			return asciiLower(subj.Email), subj.Email != ""
		}
		return asciiLower(subj.User), subj.User != ""
	case fieldAgent:
		// Decide splits a subject with several agents into one per agent.
		// The agent "unknown" is found but cannot be named: no pattern,
		// not even "*", allows it, and every deny rule naming agents
		// matches it.
		if len(subj.Agents) != 1 {
			return "", false
		}
		return subj.Agents[0], subj.Agents[0] != "" && subj.Agents[0] != agentid.Unknown
	default:
		return subj.Cmd, strings.HasPrefix(subj.Cmd, "/") && path.Clean(subj.Cmd) == subj.Cmd
	}
}

// unknown names the subject values that could not be established.
func (subj Subject) unknown() []string {
	var names []string
	for f := range numFields {
		if _, ok := subj.value(f, glob{}); !ok {
			names = append(names, fieldNames[f])
		}
		if _, ok := subj.value(f, glob{email: true}); f == fieldUser && !ok {
			names = append(names, "email")
		}
	}
	return names
}

// matches reports whether every field r names matches subj. A pattern
// whose value is unknown fails an allow rule and satisfies a deny rule:
// either way the unknown value cannot widen access.
func (r *rule) matches(subj Subject, deny bool) bool {
	for f := range numFields {
		if pats := r.patterns[f]; pats != nil && !fieldMatches(f, pats, subj, deny) {
			return false
		}
	}
	return true
}

// fieldMatches reports whether any pattern of a field matches.
func fieldMatches(f field, pats []glob, subj Subject, deny bool) bool {
	for _, g := range pats {
		v, known := subj.value(f, g)
		if !known {
			if deny {
				return true
			}
			continue
		}
		if f == fieldCmd && !g.isPath && !deny && !subj.SystemProgram {
			continue
		}
		if g.matchField(f, v) {
			return true
		}
	}
	return false
}

// matchField matches v, the value of field f: a command pattern without
// '/' names the program by base name; a repository pattern without a host
// (owner/name) matches the path after any host, or the whole value.
func (g glob) matchField(f field, v string) bool {
	switch {
	case f == fieldCmd && !g.isPath:
		return g.match(path.Base(v))
	case f == fieldRepo && g.hostless:
		p, ok := names.RepoPath(v)
		return g.match(v) || ok && g.match(p)
	}
	return g.match(v)
}

// MintBound is the longest lifetime a token for key may be minted with:
// the smallest max_ttl of every allow rule for key, in every file (0: no
// limit). At mint time the context of the future use (agent, program,
// branch) is not known, so the bound must hold whichever rule ends up
// matching; Decide enforces the matching rule's max_ttl again at use.
func (s *Set) MintBound(key string) time.Duration {
	if s == nil {
		return 0
	}
	var bound time.Duration
	for _, f := range s.files {
		if e, ok := f.secrets[key]; ok {
			for _, r := range e.allow {
				bound = minTTL(bound, r.maxTTL)
			}
		}
	}
	return bound
}

// asciiLower folds A-Z only. Unicode case folding would let, say, a Kelvin
// sign (U+212A) in a git email match a rule written with "k".
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
