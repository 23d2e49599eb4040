// Package cli holds the cobra commands of llms, one file per command (each
// subcommand of macaroon, profile, audit, session and revoke has its own).
//
// Every command has the same shape. newXCmd builds an xOptions struct from
// the Factory: IO, and only what the command uses of Now (the clock),
// StoreDir, Environ, Profile/Profiles (profiles.toml), Token (the token a
// macaroon subcommand works on) and access, which is who is asking
// (Caller) and the gate (Broker). Flags and arguments are parsed into the
// same struct, and RunE calls runX(opts), a plain function that reaches the
// process, the clock and the store only through opts, so a test gives it a
// fake terminal, a fixed clock or its own caller. The working directory
// reaches a command through the caller (Factory.Getwd).
//
// Two commands are bigger than a file: `llms agent` hands its options to
// agentmode.Run (the launcher) and `llms setup` to setup.Run; here they
// keep only their flags, help and the Factory's functions they are given.
//
// A command that acts under a token gets f.accessWithToken(cmd, &flags); one
// that takes none gets f.accessWithoutToken(): the caller is whoever runs
// llms, and the broker refuses a detected agent wherever it needs a token.
//
// Human-facing text is written with fprintf (human.Fprintf), which escapes
// terminal controls in every argument: a caller-chosen string cannot
// drive the human's terminal.
//
// The CLI makes no decision about a secret and never holds a value it could
// print: it turns input into requests for the broker. Values enter only
// from a hidden prompt, standard input or a .env file (never argv), and
// leave only into a child's environment, inside the broker.
package cli
