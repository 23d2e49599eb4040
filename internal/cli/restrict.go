package cli

import (
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/caveat"
)

// restrictFlags are the caveat flags shared by mint, attenuate and lease:
// --ttl, --here and one flag per list caveat people set (caveat.ListKinds
// but the launcher's own). Each repeatable flag also takes a comma list.
type restrictFlags struct {
	ttl   time.Duration
	lists map[string]*[]string
	here  bool
	// flags is where they are registered, to tell a flag given an empty
	// value (--cmd "$UNSET") from one not given.
	flags *pflag.FlagSet
}

func (rf *restrictFlags) register(cmd *cobra.Command, withSecret bool) {
	fl := cmd.Flags()
	rf.flags = fl
	rf.lists = map[string]*[]string{}
	for _, k := range caveat.ListKinds() {
		if k.Name == caveat.NameSecret && !withSecret || k.LauncherOnly {
			continue
		}
		items := new([]string)
		rf.lists[k.Name] = items
		fl.StringSliceVar(items, k.Flag(), nil, k.Help+" (repeat or comma-separate)")
	}
	fl.DurationVar(&rf.ttl, "ttl", 0, "lifetime, e.g. 5m, 1h")
	fl.BoolVar(&rf.here, "here", false, "limit to the repository and branch of the current directory")
}

// restrictions resolves --here against the caller's repository. A caveat
// flag given with an empty value is passed on empty, for the broker to
// refuse: it must not mint a token without the restriction asked for.
func (rf *restrictFlags) restrictions(c *broker.Caller) (broker.Restrictions, error) {
	r := broker.Restrictions{TTL: rf.ttl, Lists: map[string][]string{}}
	for _, k := range caveat.ListKinds() {
		items, ok := rf.lists[k.Name]
		if !ok {
			continue
		}
		if len(*items) > 0 || rf.flags != nil && rf.flags.Changed(k.Flag()) {
			r.Lists[k.Name] = *items
		}
	}
	if rf.here {
		repo, branch, err := broker.Here(c)
		if err != nil {
			return r, err
		}
		r.Lists[caveat.NameRepo] = append(r.Lists[caveat.NameRepo], repo)
		r.Lists[caveat.NameBranch] = append(r.Lists[caveat.NameBranch], branch)
	}
	return r, nil
}

// caveatNames lists the list caveats for help text: "secret, repo, …",
// without secret unless withSecret.
func caveatNames(withSecret bool) string {
	var names []string
	for _, k := range caveat.ListKinds() {
		if (k.Name != caveat.NameSecret || withSecret) && !k.LauncherOnly {
			names = append(names, k.Name)
		}
	}
	return strings.Join(names, ", ")
}
