// Package cfgedit owns layout-preserving edits of the configuration files
// agents keep (JSON documents and Codex's TOML): put or take out one member
// of a JSON object, some strings of a JSON array, one TOML table with its
// sub-tables. Everything else in the file keeps its bytes — indentation,
// key order, comments, a missing final newline — and what is added takes
// the layout of what is around it, so that removing it again gives the
// original bytes back.
//
// Every edit is checked by decoding: the document after the edit must
// decode to the document before it with exactly that change (encoding/json
// for JSON, github.com/BurntSushi/toml for TOML), or the edit is refused.
//
// It refuses: a document that does not decode, a JSON document that is not
// an object or names a key twice, a path through something that is not an
// object, and a TOML table defined in a form it does not edit (an inline
// table or dotted keys): it says so rather than guess. It does not read or
// write files.
package cfgedit
