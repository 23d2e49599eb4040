// Package v3store reads the store of llm-secrets v3, the earlier Rust tool,
// so that `llms migrate` can move its secrets into ours, and retires what
// that tool leaves behind once they are moved.
//
// The layout it reads is the one that tool writes in its store directory
// ($LLM_SECRETS_DIR, else $XDG_DATA_HOME/llm-secrets, else the legacy
// ~/.llm-secrets):
//
//	identity.txt   one age X25519 identity (AGE-SECRET-KEY-1…), often with
//	               no trailing newline
//	store.age      an age file for that identity's recipient whose plaintext
//	               is compact JSON with sorted keys: {"secrets":{"NAME":"VALUE",…}}
//	root.key       the HMAC root key of its macaroons: 32 bytes, in plaintext
//	session.json   its root macaroon (a bearer token), in plaintext
//	leases.json    its lease records (names and times)
//	audit.jsonl    its audit log, unchained (names, no values)
//
// and the temporary files its atomic writes use (.NAME.tmp).
//
// What it refuses: a store.age that is not exactly one age file for an
// X25519 identity, a plaintext that is not UTF-8 JSON of exactly that shape
// (unknown or duplicate fields, duplicate names, non-string values, escaped
// surrogates that Go would silently turn into U+FFFD), and a store larger
// than MaxStoreLen; and, when retiring, a file to remove that is a
// symbolic link, not a regular file, or one of several hard links
// (removing that name would leave the plaintext where it is). Its errors
// never echo the plaintext: they name a byte offset, or a secret's name.
// It never writes a value anywhere; only the broker imports it
// (internal/archtest), as only the broker may hold values.
package v3store
