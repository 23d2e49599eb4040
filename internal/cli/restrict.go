package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

// restrictFlags are the caveat flags shared by mint, attenuate and lease.
// Each repeatable flag also takes a comma list.
type restrictFlags struct {
	r    broker.Restrictions
	here bool
}

func (rf *restrictFlags) register(cmd *cobra.Command, withSecret bool) {
	fl := cmd.Flags()
	if withSecret {
		fl.StringSliceVar(&rf.r.Secrets, "secret", nil, "secret the token may use (repeat or comma-separate)")
	}
	fl.DurationVar(&rf.r.TTL, "ttl", 0, "lifetime, e.g. 5m, 1h")
	fl.StringSliceVar(&rf.r.Repos, "repo", nil, "repository (remote URL or host/org/repo, '*' globs)")
	fl.StringSliceVar(&rf.r.Branches, "branch", nil, "branch ('*' globs)")
	fl.StringSliceVar(&rf.r.Agents, "agent", nil, "agent name (claude, cursor, codex, …)")
	fl.StringSliceVar(&rf.r.Who, "who", nil, "git user email ('*' globs)")
	fl.StringSliceVar(&rf.r.Cmds, "cmd", nil, "program exec may start (absolute path or base name)")
	fl.StringSliceVar(&rf.r.Ops, "op", nil, "operation: exec, peek, list, lease, mcp")
	fl.BoolVar(&rf.here, "here", false, "limit to the repository and branch of the current directory")
}

// restrictions resolves --here against the caller's repository.
func (rf *restrictFlags) restrictions(c *broker.Caller) (broker.Restrictions, error) {
	r := rf.r
	if rf.here {
		repo, branch, err := broker.Here(c)
		if err != nil {
			return r, err
		}
		r.Repos = append(r.Repos, repo)
		r.Branches = append(r.Branches, branch)
	}
	return r, nil
}
