package broker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/llm-secrets/llms/internal/agentid"
	"github.com/llm-secrets/llms/internal/gitctx"
	"github.com/llm-secrets/llms/internal/policy"
	"github.com/llm-secrets/llms/internal/userdb"
)

// Caller describes who is asking, as the front end (CLI, MCP server) sees
// it. The broker derives everything else — the agent, the repository —
// itself, so a front end cannot vouch for a caller.
type Caller struct {
	// Token is the text form of the caller's macaroon. TokenGiven is true
	// when a token flag or variable was present at all: an empty one is
	// still "no token", never a bypass.
	Token      string
	TokenGiven bool
	// Cwd is the caller's working directory (repo, branch, user).
	Cwd string
	// LookupEnv reads the caller's environment for agent markers.
	LookupEnv func(string) (string, bool)
	// ProcRoot and PID locate the caller in the process tree ("/proc",
	// os.Getpid()); tests point ProcRoot at a fake tree.
	ProcRoot string
	PID      int
	// StampedAgent is the agent a launcher vouches for: a front end that
	// started the agent itself and serves its requests (agent mode) sets
	// it. When it is not empty, detection is not run at all: the
	// environment markers, AI_AGENT, LLM_SECRETS_AGENT and the process
	// tree change nothing, and the caller is this agent. A name that is
	// not a valid agent name is the agent "unknown", which no token or
	// policy allows. The human cannot be stamped.
	StampedAgent string
	// LaunchToken, when not nil, is the id of the token the launcher
	// minted for the stamped agent ("" when it minted none): a request
	// under any other token — one the agent found in a file, was handed
	// earlier or minted in a store of its own — is refused, so the agent
	// acts with exactly the authority of its launch. Tokens made from
	// that one by attenuation keep its id.
	LaunchToken *string
	// Launch is the id of the agent-mode launch whose broker serves this
	// request; only that broker, in the live launcher, sets it. A token
	// with a launch caveat (the one the launcher minted for its agent,
	// and its attenuations) holds only where it names this id, so it is
	// refused outside agent mode, by another launch, and once its
	// launcher is gone.
	Launch string
	// ConfigDirs hold more user policies, <dir>/llm-secrets/policy.yaml
	// (the front end passes $XDG_CONFIG_HOME's), and every one found must
	// allow. The broker adds the account's own ~/.config itself, from the
	// system's user database (UserDB), never from $HOME: the environment
	// can add a policy file but never remove one.
	ConfigDirs []string
	// Via names a front end other than the human's CLI ("mcp"). Such a
	// front end acts only under a delegated token: without one, or with a
	// token that names no secret (the session token), every request is
	// refused, whoever is detected. Its decisions are recorded as events
	// named Via, with the operation in the line's op field.
	Via string
	// NoToken, for such a front end started without a token, says why
	// and what writes it (a token file that could not be read); its
	// refusals quote it.
	NoToken string
	// UserDB is where the caller's account — login name and home — is
	// looked up; nil means the system's (/etc/passwd, then getent). Tests
	// point it at a fake passwd file.
	UserDB *userdb.DB
	// Policy, when set, is the policy read at launch (LoadPolicy); no
	// policy file is read for the request, and ConfigDirs are unused.
	Policy *Policy
	// ReadConfined, when set, confines the OS thread that reads the
	// caller's repository (git files at Cwd, and wherever a .git file or
	// commondir there points) for good, as the caller is confined: agent
	// mode passes the agent's sandbox, so that a .git file naming a hidden
	// directory cannot make the broker, outside the sandbox, read or probe
	// it for the agent. nil reads with the broker's own rights.
	ReadConfined func() error

	agentOnce sync.Once
	agent     agentid.Result
	isAgent   bool

	gitOnce sync.Once
	git     gitctx.Info
	gitErr  error

	accountOnce sync.Once
	account     userdb.Account
	accountErr  error

	policyOnce sync.Once
	policySet  *policy.Set
	policyErr  error
}

// detected says who was found, for refusals: "claude-code was detected
// (env:CLAUDECODE)", or "the agents claude-code (env:CLAUDECODE), codex
// (env:CODEX_SANDBOX) were detected" when the signals named several.
func detected(r agentid.Result) string {
	if len(r.Findings) == 1 {
		return r.Findings[0].Agent + " was detected (" + r.Findings[0].Source + ")"
	}
	return "the agents " + r.String() + " were detected"
}

// lookupAccount finds the caller's account once: the uid this process runs
// as, in the system's user database.
func (c *Caller) lookupAccount() (userdb.Account, error) {
	c.accountOnce.Do(func() {
		c.account, c.accountErr = c.UserDB.Current()
	})
	return c.account, c.accountErr
}

// Warnings are what the human should know about this caller: today, an
// account the user database does not know, which hides the user policy
// and so refuses every agent.
func (c *Caller) Warnings() []string {
	if _, err := c.lookupAccount(); err != nil {
		return []string{fmt.Sprintf("your home cannot be established (%v): your user policy "+
			"(~/.config/llm-secrets/policy.yaml) cannot be found, so every detected agent is refused, "+
			"token or not; fix the account in the user database (getent passwd %d)", err, os.Getuid())}
	}
	return nil
}

// User is the user as policy rules match it, and as the audit log,
// session-info and policy check show it: the login name from the user
// database, then the git email in angle brackets when git has one
// ("cptfinch <cpt@adjoint.uk>"). It is empty when neither is known.
func (c *Caller) User() string {
	var parts []string
	if a, err := c.lookupAccount(); err == nil {
		parts = append(parts, a.Name)
	}
	if gi, err := c.gitInfo(); err == nil && gi.User != "" {
		parts = append(parts, "<"+gi.User+">")
	}
	return strings.Join(parts, " ")
}

// detectAgent runs once per request; a stamped agent replaces detection.
func (c *Caller) detectAgent() (agentid.Result, bool) {
	c.agentOnce.Do(func() {
		if c.StampedAgent != "" {
			c.agent, c.isAgent = agentid.Stamped(c.StampedAgent), true
			return
		}
		pid := c.PID
		if pid == 0 {
			pid = os.Getpid()
		}
		c.agent, c.isAgent = agentid.Detect(c.LookupEnv, c.ProcRoot, pid)
	})
	return c.agent, c.isAgent
}

// gitInfo reads the caller's repository once; outside a repository the
// fields are empty (and caveats about them do not hold).
func (c *Caller) gitInfo() (gitctx.Info, error) {
	c.gitOnce.Do(func() {
		dir := c.Cwd
		if dir == "" {
			dir, _ = os.Getwd()
		}
		c.git, c.gitErr = c.lookupRepo(dir)
		if errors.Is(c.gitErr, gitctx.ErrNotRepo) {
			c.git, c.gitErr = gitctx.Info{}, nil
		}
	})
	return c.git, c.gitErr
}

// LookupRepoAhead starts reading the caller's repository, which the gate
// reads for caveats, policy and the audit line, on a goroutine of its own,
// so that the read (a confined thread of its own under ReadConfined)
// overlaps the caller's other work; the gate waits for it, and reads the
// repository once either way. The Caller must not change afterwards.
func (c *Caller) LookupRepoAhead() {
	go c.gitInfo()
}

// lookupRepo is gitctx.Lookup, on a thread of its own confined by
// ReadConfined when that is set. The thread is never unlocked, so it ends
// with its goroutine, and the confinement with it.
func (c *Caller) lookupRepo(dir string) (gitctx.Info, error) {
	if c.ReadConfined == nil {
		return gitctx.Lookup(dir)
	}
	type result struct {
		info gitctx.Info
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := c.ReadConfined(); err != nil {
			done <- result{err: fmt.Errorf("gitctx: confining the reader: %w", err)}
			return
		}
		info, err := gitctx.Lookup(dir)
		done <- result{info, err}
	}()
	r := <-done
	return r.info, r.err
}

// confineDir resolves dir (relative to the caller's directory) and
// refuses it unless it lies inside the caller's repository, or inside the
// caller's directory outside a repository. Symbolic links are resolved
// first, so a link cannot lead out.
func (c *Caller) confineDir(dir string) (string, error) {
	base := c.Cwd
	if base == "" {
		base, _ = os.Getwd()
	}
	gi, err := c.gitInfo()
	if err != nil {
		return "", fmt.Errorf("%w: cannot read the git repository: %v", ErrDenied, err)
	}
	root := base
	if gi.TopLevel != "" {
		root = gi.TopLevel
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(base, dir)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("%w: working directory: %v", ErrBadRequest, err)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("%w: working directory: %v", ErrBadRequest, err)
	}
	if rel, err := filepath.Rel(realRoot, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%w: working directory %s is outside %s", ErrDenied, dir, root)
	}
	return real, nil
}

// Fresh returns a caller with the same description and nothing derived
// yet: a long-lived front end (the MCP server) asks with one per request,
// so the agent, the repository and the policy are read again each time.
func (c *Caller) Fresh() *Caller {
	return &Caller{Token: c.Token, TokenGiven: c.TokenGiven, Cwd: c.Cwd, LookupEnv: c.LookupEnv,
		ProcRoot: c.ProcRoot, PID: c.PID, StampedAgent: c.StampedAgent, LaunchToken: c.LaunchToken, Launch: c.Launch,
		ConfigDirs: c.ConfigDirs, Via: c.Via, NoToken: c.NoToken, UserDB: c.UserDB, Policy: c.Policy, ReadConfined: c.ReadConfined}
}

// hasToken: a token was given and is not empty.
func (c *Caller) hasToken() bool { return c.TokenGiven && strings.TrimSpace(c.Token) != "" }

// noDelegatedToken is the refusal of a front end (Via) that was given no
// token: it says what the human runs.
func (c *Caller) noDelegatedToken() error {
	if c.NoToken != "" {
		return fmt.Errorf("%w: %s acts only under a delegated token, and it was started without one: %s. "+
			"Or ask the human to start the agent with `llms agent -- AGENT`; `llms profile mint NAME` and "+
			"`llms macaroon mint` delegate too", ErrDenied, c.Via, c.NoToken)
	}
	return fmt.Errorf("%w: %s acts only under a delegated token, and it was started without one. "+
		"Ask the human to delegate one: `llms profile mint NAME` or `llms macaroon mint --secret KEY --ttl 1h`, "+
		"saved to the file LLM_SECRETS_MACAROON_FILE names in the client's configuration (`llms mcp config CLIENT` prints it), "+
		"or to start the agent with `llms agent -- AGENT`", ErrDenied, c.Via)
}
