package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

func newPolicyCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Allow-list policy: .llm-secrets-policy.yaml and ~/.config/llm-secrets/policy.yaml",
		Long: `A policy lists, per secret, allow and deny rules on repo (owner/name on any
host, or host/owner/name), branch, user (your login name, or with '@' the git
email), agent and cmd, with an optional max_ttl. No policy file: everything is
allowed. With one: an unlisted secret is denied, a matching deny wins, and every
file found must allow (the user file is found through the system's user
database, so the environment cannot hide it). See docs/POLICY.md.`,
	}
	cmd.AddCommand(newPolicyCheckCmd(f))
	return cmd
}

type policyCheckOptions struct {
	IO *IOStreams
	access

	Keys    []string
	AsAgent string
	Program string
}

func newPolicyCheckCmd(f *Factory) *cobra.Command {
	opts := &policyCheckOptions{IO: f.IO, access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "check [--key K] [--as-agent A] [--cmd PROG]",
		Short: "Explain the policy's decision for the current directory",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return runPolicyCheck(opts) },
	}
	cmd.Flags().StringSliceVar(&opts.Keys, "key", nil, "secret(s) to check (default: every stored secret)")
	cmd.Flags().Var(nonEmpty{&opts.AsAgent}, "as-agent", "decide as if this agent (an id or alias, or human) were calling")
	cmd.Flags().Var(nonEmpty{&opts.Program}, "cmd", "absolute path of the program exec would start")
	return cmd
}

func runPolicyCheck(opts *policyCheckOptions) error {
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	out := opts.IO.Out
	res, err := b.PolicyCheck(c, broker.PolicyCheckRequest{Names: opts.Keys, AsAgent: opts.AsAgent, Program: opts.Program})
	ds := res.Decisions
	for _, p := range res.Paths {
		fprintf(out, "policy file: %s\n", p)
	}
	if u := c.User(); u != "" {
		fprintf(out, "user: %s\n", u)
	} else {
		fprintf(out, "user: unknown (rules naming a user or an email do not match)\n")
	}
	if err != nil {
		return err
	}
	denied := 0
	for _, d := range ds {
		verdict := "ALLOW"
		if !d.Allowed {
			verdict, denied = "DENY ", denied+1
		}
		fprintf(out, "%s %s: %s", verdict, d.Secret, d.Reason)
		if d.Source != "" {
			fprintf(out, " (%s)", d.Source)
		}
		if d.MaxTTL > 0 {
			fprintf(out, " max_ttl %s", d.MaxTTL)
		}
		fprintf(out, "\n")
	}
	if denied > 0 && len(opts.Keys) > 0 {
		return childExit{Code: exitDenied}
	}
	return nil
}
