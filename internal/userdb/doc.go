// Package userdb finds the caller's account — its login name and home
// directory — in the system's user database, never in the environment.
//
// An agent runs as the user and sets its own $HOME and $USER; Go's os/user
// without cgo reads only /etc/passwd and, for a uid that is not there
// (LDAP, SSSD, containers), falls back to exactly those variables. A policy
// found through them could be hidden by the agent. So Lookup reads
// /etc/passwd itself and, when the uid has no entry there, asks the system's
// user database through `getent passwd UID`, run by absolute path, with an
// empty environment (no LD_PRELOAD from the caller reaches it) and a time
// limit, its output parsed strictly: one line, seven fields, the uid asked
// for, a non-empty name without control characters, an absolute home.
//
// When neither answers, Lookup returns an error: the caller must then treat
// the home (and the user policy under it) and the login name as unknown,
// and fail closed. This package reads /etc/passwd and runs getent, nothing
// else; it does not decide what an unknown account may do.
package userdb
