package agentid

import (
	"fmt"
	"slices"
	"strings"
)

// Unknown is the agent reported when an agent is found but cannot be
// named: a declared name that is no known id, or a process tree too deep to
// walk. It is not a known id, so no token or policy rule can name it.
const Unknown = "unknown"

// known are the canonical agent ids: llm-secrets v3's (claude-code,
// cursor, github-copilot, aider, continue, windsurf) and those added since.
var known = []string{
	"aider",
	"amp",
	"augment",
	"claude-code",
	"cline",
	"codex",
	"continue",
	"cursor",
	"gemini",
	"github-copilot",
	"opencode",
	"windsurf",
}

// aliases are other names people use for an agent, each for one id.
var aliases = map[string]string{
	"claude":       "claude-code",
	"copilot":      "github-copilot",
	"cursor-agent": "cursor",
	"gemini-cli":   "gemini",
	"auggie":       "augment",
}

// Known returns the canonical agent ids, sorted.
func Known() []string { return slices.Clone(known) }

// Canonical returns the canonical id for an agent id or alias, ignoring
// ASCII case: "claude" and "Claude-Code" are both "claude-code". Any other
// name is an error that lists the known ids and aliases. Every place that
// takes an agent name from a person (mint and lease flags, profiles,
// policy files, policy check) goes through it.
func Canonical(name string) (string, error) {
	// Only ASCII folds: no Unicode case rule may turn another character
	// (a Kelvin sign) into a known id.
	n := name
	if strings.IndexFunc(n, func(r rune) bool { return r >= 0x80 }) < 0 {
		n = strings.ToLower(n)
	}
	if slices.Contains(known, n) {
		return n, nil
	}
	if id, ok := aliases[n]; ok {
		return id, nil
	}
	shown := name
	if len(shown) > 64 {
		shown = shown[:64] + "…"
	}
	return "", fmt.Errorf("unknown agent %q; known agents: %s", shown, KnownList())
}

// KnownList is the known ids and aliases as one line, for error messages
// and help: "aider, amp, …, windsurf (aliases: auggie=augment, …)".
func KnownList() string {
	names := make([]string, 0, len(aliases))
	for a := range aliases {
		names = append(names, a)
	}
	slices.Sort(names)
	pairs := make([]string, len(names))
	for i, a := range names {
		pairs[i] = a + "=" + aliases[a]
	}
	return strings.Join(known, ", ") + " (aliases: " + strings.Join(pairs, ", ") + ")"
}

// canonicalOrUnknown names a declared or stamped agent: a known id or
// alias gives its id, anything else — "human" included — Unknown. A
// declaration always counts as a finding, whatever it says.
func canonicalOrUnknown(name string) string {
	if id, err := Canonical(name); err == nil {
		return id
	}
	return Unknown
}
