// Package store owns the on-disk secret store: a directory holding an age
// X25519 identity, its recipients, and one standard age file per secret.
//
// Layout:
//
//	<dir>/               0700
//	  identity.txt       0600  age identity (AGE-SECRET-KEY-1…)
//	  recipients.txt     0600  public keys every write encrypts to
//	  secrets/<name>.age 0600  one age file per secret
//	  <sealed>.age       0600  llms's own state, encrypted the same way:
//	                           rootkeys, session, auditkey, revoked, leases,
//	                           requests
//	  audit.jsonl        0600  the audit log (internal/audit's, not this package's)
//	  .lock                    flock(2) that serialises writers
//	  .batch.new/, .batch/     a batch write being staged / committed (batch.go)
//
// Every file under secrets/ is a plain age file, so
// `age -d -i identity.txt secrets/NAME.age` recovers a value with the
// reference tool. Writes re-read the recipients under the writer lock, go to
// a temporary file in the same directory, are fsynced, renamed into place and
// the directory is fsynced: a crash at any instant leaves the old or the new
// value. WriteBatch stores many values as one change (import): after a crash
// the store holds all of them or none, and costs one flush of the file
// system instead of two fsyncs a value. Rotate replaces the identity without
// a window in which any file is unreadable.
//
// Adopt turns a directory that holds only an age identity (what llm-secrets
// v3 leaves, see internal/v3store) into a store that keeps that identity.
//
// The store refuses names outside [A-Za-z0-9_.-]{1,128} or starting with '.' or '-',
// values larger than MaxValueLen or containing NUL (they could not be placed in
// an environment variable), and a directory not owned by the current user.
// Modes wider than the ones above are narrowed on Open and reported as
// warnings.
//
// Only the broker may call Read: it is the single gate through which a value
// leaves the store (an architecture test enforces the import graph).
package store
