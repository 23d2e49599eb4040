package sandbox

import (
	"slices"
	"strings"
	"testing"
)

func TestAgentEnvScrubs(t *testing.T) {
	const canary = "CANARY_env_7f3a9"
	human := []string{
		"PATH=/usr/bin:/bin", "HOME=/home/u", "TERM=xterm",
		"LLM_SECRETS_MACAROON=human-session-token-" + canary,
		"LLM_SECRETS_DIR=/elsewhere",
		"LLM_SECRETS_MACAROON_FILE=/tmp/t",
		"AWS_SECRET_ACCESS_KEY=" + canary, "AWS_REGION=eu-west-1",
		"GITHUB_TOKEN=" + canary, "GH_TOKEN=" + canary, "NPM_TOKEN=" + canary,
		"STRIPE_API_KEY=" + canary, "my_service_password=" + canary,
		"SSH_AUTH_SOCK=/tmp/ssh-x/agent.1",
		"ANTHROPIC_API_KEY=claude-needs-this", "OPENAI_API_KEY=" + canary,
		"KEEPME_TOKEN=kept-by-flag",
		"PATH=/second/path",
		"NOEQUALS",
	}
	got := AgentEnv(human, "claude-code", []string{"KEEPME_TOKEN"},
		[]string{"LLM_SECRETS_MACAROON=agent-token", "LLM_SECRETS_SOCKET=/run/x/sock"})
	for _, kv := range got {
		if strings.Contains(kv, canary) {
			t.Errorf("credential kept: %s", strings.SplitN(kv, "=", 2)[0])
		}
	}
	for _, want := range []string{"PATH=/usr/bin:/bin", "HOME=/home/u", "TERM=xterm", "AWS_REGION=eu-west-1",
		"ANTHROPIC_API_KEY=claude-needs-this", "KEEPME_TOKEN=kept-by-flag",
		"LLM_SECRETS_MACAROON=agent-token", "LLM_SECRETS_SOCKET=/run/x/sock"} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %s in %q", want, got)
		}
	}
	for _, gone := range []string{"LLM_SECRETS_DIR=/elsewhere", "LLM_SECRETS_MACAROON_FILE=/tmp/t", "SSH_AUTH_SOCK=/tmp/ssh-x/agent.1", "PATH=/second/path", "NOEQUALS"} {
		if slices.Contains(got, gone) {
			t.Errorf("%s kept", gone)
		}
	}
	// Another agent does not keep Claude's key.
	if slices.Contains(AgentEnv(human, "codex", nil, nil), "ANTHROPIC_API_KEY=claude-needs-this") {
		t.Errorf("codex kept ANTHROPIC_API_KEY")
	}
}

func TestAgentTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range Agents {
		if seen[a.ID] {
			t.Errorf("agent %s listed twice", a.ID)
		}
		seen[a.ID] = true
		for _, v := range a.KeyVars {
			if !IsCredentialVar(v) {
				t.Errorf("%s: key variable %s is not a credential variable, so keeping it says nothing", a.ID, v)
			}
		}
		for _, p := range a.State {
			for _, c := range CredentialPaths {
				if within(p, c) || within(c, p) {
					t.Errorf("%s: state path %s overlaps credential path %s", a.ID, p, c)
				}
			}
		}
	}
}
