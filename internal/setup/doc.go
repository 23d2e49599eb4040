// Package setup owns `llms setup`: what an agent's own files must hold to
// use secrets through llms (the MCP server entry, the agent's rules
// against reading .env files and the store, an instructions snippet), the
// plan of changes to those files, edits that keep the layout around them,
// the diff shown to the human, and the record (setup.json) that lets
// --remove give a file its bytes back.
//
// It writes only the agent's files and its own record, and only after
// Options.Confirm (or --yes). It refuses to run for anyone but the human
// (Caller.HumanOnly), never writes a token or a value into a file (the
// entry names the token file), and leaves an entry the user made as it
// is. Parsing flags and talking to the terminal are the CLI's.
package setup
