package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type auditOptions struct {
	IO  *IOStreams
	Now func() time.Time
	access

	N      int
	Since  time.Duration
	Key    string
	Token  string
	Denied bool
	JSON   bool
}

func newAuditCmd(f *Factory) *cobra.Command {
	opts := &auditOptions{IO: f.IO, Now: f.now, access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "audit [-n 20] [--since 1h] [--key K] [--token ID] [--denied] [--json]",
		Short: "Show the audit log: every access, allowed or denied, and every change",
		Long: `Show the tail of the audit log (<store>/audit.jsonl). Each line is chained to
the one before by an HMAC keyed inside the encrypted store; "llms audit verify"
checks the whole chain. See docs/AUDIT.md.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error { return runAudit(opts) },
	}
	cmd.Flags().IntVarP(&opts.N, "lines", "n", 20, "how many entries (0: all)")
	cmd.Flags().DurationVar(&opts.Since, "since", 0, "only entries newer than this (e.g. 1h)")
	cmd.Flags().StringVar(&opts.Key, "key", "", "only entries about this secret")
	cmd.Flags().StringVar(&opts.Token, "token", "", "only entries about this token id")
	cmd.Flags().BoolVar(&opts.Denied, "denied", false, "only denials")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object per entry, with the log's field names")
	cmd.AddCommand(newAuditVerifyCmd(f))
	return cmd
}

func runAudit(opts *auditOptions) error {
	if opts.N < 0 {
		return usagef("-n must not be negative")
	}
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	q := broker.AuditQuery{Limit: opts.N, Secret: opts.Key, TokenID: opts.Token, Denied: opts.Denied}
	if opts.Since > 0 {
		q.Since = opts.Now().Add(-opts.Since)
	}
	entries, err := b.Audit(c, q)
	if err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	for _, e := range entries {
		line := fmt.Sprintf("%s  #%d  %-13s %-5s", e.Time.Local().Format("2006-01-02 15:04:05"), e.Seq, e.Event, e.Decision)
		if len(e.Secrets) > 0 {
			line += "  " + strings.Join(e.Secrets, ",")
		}
		if e.Program != "" {
			line += "  prog=" + e.Program
		}
		if e.Agent != "" {
			line += "  agent=" + e.Agent
		}
		if e.TokenID != "" {
			line += "  token=" + e.TokenID
		}
		if e.Reason != "" {
			line += "  (" + e.Reason + ")"
		}
		fprintf(opts.IO.Out, "%s\n", line)
	}
	return nil
}
