package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"filippo.io/age"
)

// A shared store's recipients.txt names each member in a comment line
// before its recipient, so that `age -R recipients.txt` reads it as it is:
//
//	# llms shared store: each member is a "# NAME" line, then its recipient
//	# alice
//	age1…
//	# ci
//	age1…
//
// Only X25519 recipients are members: llms decrypts with X25519 identities
// only, and age refuses to mix post-quantum recipients with X25519 ones in
// one file. ssh-ed25519 keys are refused for the same reason (a member
// could read the files with `age` but not with llms).

// Member is one recipient of a shared store.
type Member struct {
	Name      string
	Recipient string
}

// isMemberName: 1-64 of A-Z a-z 0-9 _ . @ -, starting with a letter or
// digit. (No regexp: compiled at start-up, one would cost every command.)
func isMemberName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '@' && c != '-') {
			return false
		}
	}
	return true
}

// ValidateMemberName reports whether name can name a member.
func ValidateMemberName(name string) error {
	if !isMemberName(name) {
		return fmt.Errorf("member name %q: want 1-64 of A-Z a-z 0-9 _ . @ -, starting with a letter or digit", name)
	}
	return nil
}

// ParseMemberRecipient checks that r is a recipient a member can have.
func ParseMemberRecipient(r string) (*age.X25519Recipient, error) {
	if strings.HasPrefix(r, "ssh-") {
		return nil, errors.New("ssh recipients are not supported: llms decrypts with age X25519 identities only (give the member's `llms recipient`)")
	}
	x, err := age.ParseX25519Recipient(r)
	if err != nil {
		if strings.HasPrefix(r, "age1") {
			// age1pq1… (hybrid post-quantum), age1tag1…, age1<plugin>1…
			return nil, errors.New("not an X25519 recipient: post-quantum and plugin recipients are not supported (age refuses to mix post-quantum recipients with X25519 ones, and llms decrypts with X25519 identities only)")
		}
		return nil, fmt.Errorf("not an age X25519 recipient (age1…, as `llms recipient` prints): %w", err)
	}
	return x, nil
}

const membersHeader = "# llms shared store: each member is a \"# NAME\" line, then its age recipient.\n# Read by `age -R recipients.txt`. Change it with `llms member add|remove`.\n"

// ParseMembers reads a shared store's recipients.txt. Every recipient must
// follow a "# NAME" line; names and recipients are unique.
func ParseMembers(data []byte) ([]Member, error) {
	var out []Member
	name := ""
	names, recips := map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			if c := strings.TrimSpace(strings.TrimPrefix(line, "#")); isMemberName(c) {
				name = c
			}
		default:
			if name == "" {
				return nil, fmt.Errorf("recipients.txt line %d: a recipient without a \"# NAME\" line before it", n)
			}
			if _, err := ParseMemberRecipient(line); err != nil {
				return nil, fmt.Errorf("recipients.txt line %d (%s): %w", n, name, err)
			}
			if names[name] {
				return nil, fmt.Errorf("recipients.txt line %d: member %s is named twice", n, name)
			}
			if recips[line] {
				return nil, fmt.Errorf("recipients.txt line %d: the recipient of %s is listed twice", n, name)
			}
			names[name], recips[line] = true, true
			out = append(out, Member{Name: name, Recipient: line})
			name = ""
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("recipients.txt: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("recipients.txt names no member")
	}
	sortMembers(out)
	return out, nil
}

func sortMembers(ms []Member) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
}

// FormatMembers is recipients.txt for ms, sorted by name.
func FormatMembers(ms []Member) []byte {
	ms = append([]Member(nil), ms...)
	sortMembers(ms)
	var b strings.Builder
	b.WriteString(membersHeader)
	for _, m := range ms {
		fmt.Fprintf(&b, "# %s\n%s\n", m.Name, m.Recipient)
	}
	return []byte(b.String())
}

// SameMembers reports whether a and b hold the same names and recipients.
func SameMembers(a, b []Member) bool {
	return bytes.Equal(FormatMembers(a), FormatMembers(b))
}

// MemberDiff describes how to differs from from: added, removed, or given
// another recipient under the same name.
func MemberDiff(from, to []Member) []string {
	old := map[string]string{}
	for _, m := range from {
		old[m.Name] = m.Recipient
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range to {
		seen[m.Name] = true
		switch r, ok := old[m.Name]; {
		case !ok:
			out = append(out, fmt.Sprintf("+ %s %s", m.Name, m.Recipient))
		case r != m.Recipient:
			out = append(out, fmt.Sprintf("~ %s %s (was %s)", m.Name, m.Recipient, r))
		}
	}
	for _, m := range from {
		if !seen[m.Name] {
			out = append(out, fmt.Sprintf("- %s %s", m.Name, m.Recipient))
		}
	}
	return out
}

// UnionMembers is every member of a and b. A name with two recipients, or
// a recipient under two names, keeps both entries under distinct names:
// nobody is silently dropped.
func UnionMembers(a, b []Member) []Member {
	out := append([]Member(nil), a...)
	names, recips := map[string]bool{}, map[string]bool{}
	for _, m := range a {
		names[m.Name], recips[m.Recipient] = true, true
	}
	for _, m := range b {
		if recips[m.Recipient] {
			continue
		}
		name := m.Name
		for i := 2; names[name]; i++ {
			name = fmt.Sprintf("%s-%d", m.Name, i)
		}
		names[name], recips[m.Recipient] = true, true
		out = append(out, Member{Name: name, Recipient: m.Recipient})
	}
	sortMembers(out)
	return out
}

func memberRecipients(ms []Member) ([]age.Recipient, error) {
	out := make([]age.Recipient, 0, len(ms))
	for _, m := range ms {
		r, err := ParseMemberRecipient(m.Recipient)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}
