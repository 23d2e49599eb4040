// Package cli holds the cobra commands of llms, one file per command. A
// command parses flags into an options struct and calls a plain run
// function with injected IO, so commands are testable without a terminal.
// Human-facing text is written with fprintf, which escapes terminal
// controls in every argument (termSafe): a caller-chosen string cannot
// drive the human's terminal.
//
// The CLI makes no decision about a secret and never holds a value it could
// print: it turns input into requests for the broker. Values enter only
// from a hidden prompt, standard input or a .env file (never argv), and
// leave only into a child's environment, inside the broker.
package cli
