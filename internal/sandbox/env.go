package sandbox

import (
	"slices"
	"strings"
)

// CredentialVars are removed from the agent's environment (unless kept with
// --keep-env or the agent's own key variable): exact names first, then
// name suffixes (CredentialSuffixes). The match is on the name only.
var (
	CredentialVars = []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
		"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "GOOGLE_APPLICATION_CREDENTIALS",
		"GITHUB_TOKEN", "GH_TOKEN", "GH_ENTERPRISE_TOKEN", "GITLAB_TOKEN", "NPM_TOKEN", "NODE_AUTH_TOKEN",
		"TWINE_PASSWORD", "CARGO_REGISTRY_TOKEN", "VAULT_TOKEN", "DOCKER_PASSWORD",
		"PGPASSWORD", "MYSQL_PWD", "DATABASE_URL", "REDIS_URL",
		"SSH_AUTH_SOCK", "GPG_AGENT_INFO",
	}
	CredentialSuffixes = []string{
		"_API_KEY", "_APIKEY", "_TOKEN", "_ACCESS_KEY", "_SECRET", "_SECRET_KEY",
		"_PASSWORD", "_PASSWD", "_CREDENTIALS",
	}
)

// llmsPrefix marks llms's own variables: the agent gets only the ones the
// launcher sets.
const llmsPrefix = "LLM_SECRETS_"

// AgentEnv builds the agent's environment from the human's: every
// LLM_SECRETS_* variable removed, then set (the launcher's own, such as
// the token and the socket) added; credential variables removed unless
// named in keep or among agent's own key variables. Entries without "="
// are dropped; for a name given twice, the first entry wins (as libc's
// getenv) and the rest are dropped.
func AgentEnv(environ []string, agent string, keep []string, set []string) []string {
	own := map[string]bool{}
	if a, ok := LookupAgent(agent); ok {
		for _, v := range a.KeyVars {
			own[v] = true
		}
	}
	for _, v := range keep {
		own[v] = true
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(environ)+len(set))
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" || seen[name] {
			continue
		}
		seen[name] = true
		if strings.HasPrefix(name, llmsPrefix) {
			continue
		}
		if IsCredentialVar(name) && !own[name] {
			continue
		}
		out = append(out, kv)
	}
	for _, kv := range set {
		name, _, _ := strings.Cut(kv, "=")
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		out = append(out, kv)
	}
	return out
}

// IsCredentialVar reports whether a variable of this name is removed from
// the agent's environment by default.
func IsCredentialVar(name string) bool {
	upper := strings.ToUpper(name)
	if slices.Contains(CredentialVars, upper) {
		return true
	}
	for _, s := range CredentialSuffixes {
		if strings.HasSuffix(upper, s) {
			return true
		}
	}
	return false
}
