// Package agentmode owns the launcher of `llms agent`: it finds the
// program and the agent it is, builds the sandbox's rules and the
// supervisor of the agent's mediated calls, makes the launch directory,
// mints the agent's token bound to this launch (and revokes it after),
// serves the broker on the launch's socket, starts the agent under its
// guard below this subreaper, relays signals, and ends what the agent
// left behind. It sets what the agent may reach over the network
// (egress.go: the agent's API hosts, --allow-host, --allow-net) and audits
// the refused connects, bounded. Run returns the agent's status as an exitstatus.Child.
//
// It refuses to launch inside agent mode or under a token, and without
// Landlock unless told --no-sandbox. It parses no flags and reads no
// configuration file: the CLI hands it the flags as Options, with the
// functions that open the store and read profiles. It decides nothing
// about a secret: the broker it serves does.
package agentmode
