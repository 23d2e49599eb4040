package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

// Transition: the commands not yet converted to access.
func (f *Factory) caller(cmd *cobra.Command, t *tokenFlags) (*broker.Caller, error) {
	if t == nil {
		return f.callerWithoutToken()
	}
	return f.callerWithToken(cmd, t)
}

func (f *Factory) gate(cmd *cobra.Command, t *tokenFlags) (*broker.Broker, *broker.Caller, error) {
	if t == nil {
		return f.accessWithoutToken().open()
	}
	return f.accessWithToken(cmd, t).open()
}
