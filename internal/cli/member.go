package cli

import (
	"github.com/spf13/cobra"
)

func newMemberCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "member",
		Short: "List and change the members of a shared store",
		Long: `A shared store's members are its recipients.txt: one age recipient each,
named by a "# NAME" line. Every secret is encrypted to all of them. Adding or
removing a member re-encrypts every secret in one command, crash-safely.

Your data dir pins the member set you accepted: a change that arrived any other
way (a sync, someone's push, an edit in the working tree) is shown by
"llms member list", and nothing is encrypted to it until "llms member accept".`,
		Args: exactArgs(0, "a subcommand"),
	}
	cmd.AddCommand(newMemberAddCmd(f), newMemberRemoveCmd(f), newMemberListCmd(f), newMemberAcceptCmd(f))
	return cmd
}
