package egress

import (
	"maps"
	"slices"
)

// Presets are named sets of rules for the tools an agent runs, so that a
// package install does not need the whole network (--allow-host @NAME).
// Each lists the hosts the tool fetches from by default, HTTPS only.
var Presets = map[string][]string{
	// npm install: metadata and tarballs both come from the registry.
	"npm": {"registry.npmjs.org:443"},
	// Yarn (classic and berry) and its downloads.
	"yarn": {"registry.yarnpkg.com:443", "repo.yarnpkg.com:443"},
	// pip, uv, poetry: the index, and the files it links to.
	"pypi": {"pypi.org:443", "files.pythonhosted.org:443"},
	// go get and go mod download through the default GOPROXY and GOSUMDB;
	// a module fetched "direct" from its VCS needs that host too
	// (@github, @gitlab).
	"go": {"proxy.golang.org:443", "sum.golang.org:443"},
	// cargo: the sparse index, the API and the crate files.
	"crates": {"index.crates.io:443", "crates.io:443", "static.crates.io:443"},
	// gem and bundler.
	"rubygems": {"rubygems.org:443", "index.rubygems.org:443"},
	// Maven Central (Maven, Gradle, sbt).
	"maven": {"repo.maven.apache.org:443", "repo1.maven.org:443"},
	// git over HTTPS, the API, release and archive downloads, raw files.
	"github": {"github.com:443", "api.github.com:443", "codeload.github.com:443",
		"objects.githubusercontent.com:443", "raw.githubusercontent.com:443",
		"release-assets.githubusercontent.com:443"},
	"gitlab": {"gitlab.com:443"},
}

// PresetNames are the presets' names, sorted.
func PresetNames() []string { return slices.Sorted(maps.Keys(Presets)) }

// agentHosts are each coding agent's own API and sign-in hosts, by the
// agent ids of internal/sandbox's table: what a launch allows without
// being asked, so that the agent can talk to its model. Telemetry and
// error-reporting services shared with other customers (sentry.io,
// datadoghq.com) are not here: they accept data for any account.
var agentHosts = map[string][]string{
	// The Messages API; sign-in and token refresh of a subscription
	// (claude.ai, console.anthropic.com, platform.claude.com); feature
	// flags (statsig.anthropic.com).
	"claude-code": {"api.anthropic.com:443", "console.anthropic.com:443", "platform.claude.com:443",
		"claude.ai:443", "statsig.anthropic.com:443"},
	// The API with a key; a ChatGPT sign-in talks to chatgpt.com and signs
	// in at auth.openai.com.
	"codex": {"api.openai.com:443", "chatgpt.com:443", "auth.openai.com:443"},
	// The Gemini API with a key; a Google sign-in uses Code Assist and
	// Google's OAuth endpoints.
	"gemini": {"generativelanguage.googleapis.com:443", "cloudcode-pa.googleapis.com:443",
		"oauth2.googleapis.com:443"},
	"cursor": {"api2.cursor.sh:443", "api3.cursor.sh:443"},
	// Copilot's API (per plan: api.individual.githubcopilot.com, …) and
	// GitHub's, which issues its token.
	"github-copilot": {"api.githubcopilot.com:443", "*.githubcopilot.com:443", "api.github.com:443"},
	// aider and opencode talk to whichever provider their key is for.
	"aider": {"api.openai.com:443", "api.anthropic.com:443", "generativelanguage.googleapis.com:443",
		"openrouter.ai:443", "api.deepseek.com:443"},
	"opencode": {"opencode.ai:443", "models.dev:443", "api.anthropic.com:443", "api.openai.com:443"},
}

// AgentHosts are the rules a launch of agent id allows by default; none
// for an agent the table does not know.
func AgentHosts(id string) []string { return slices.Clone(agentHosts[id]) }
