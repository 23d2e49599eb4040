package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type auditVerifyOptions struct {
	IO *IOStreams
	access
}

func newAuditVerifyCmd(f *Factory) *cobra.Command {
	opts := &auditVerifyOptions{IO: f.IO, access: f.accessWithoutToken()}
	return &cobra.Command{
		Use:   "verify",
		Short: "Check the whole HMAC chain; name the first bad line",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return runAuditVerify(opts) },
	}
}

func runAuditVerify(opts *auditVerifyOptions) error {
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	n, err := b.AuditVerify(c)
	if errors.Is(err, broker.ErrDenied) {
		// Refused before the log was read: nothing is known about it.
		return err
	}
	if err != nil {
		return fmt.Errorf("audit log does NOT verify after %d good lines: %w", n, err)
	}
	fprintf(opts.IO.Out, "ok: %d lines, chain intact\n", n)
	return nil
}
