// Package audit owns the llms audit log: an append-only file of JSON lines in
// which every line carries an HMAC-SHA256 over the previous line's MAC and its
// own canonical bytes. Without the audit key nobody can change, remove,
// reorder or add a line without [Log.Verify] naming the first line that no
// longer fits, except by cutting lines off the end (see below). Append
// creates the file with mode 0600; its directory is the caller's.
//
// The package refuses to:
//   - accept a line that is not in canonical form (extra spaces, reordered,
//     unknown or duplicate fields, alternative escapes, non-UTC times);
//   - chain a new line onto a tail it cannot verify, such as a torn last line
//     left by a crash: [Log.Append] fails closed and the caller denies access;
//   - repair a damaged log, which is a human decision (see Recovery);
//   - follow a symbolic link to the log, or write to anything but a regular file;
//   - read the key from anywhere: the caller passes it in.
//
// Records carry names, never secret values, and errors never echo field
// contents.
//
// # Line format
//
// Each line is one JSON object followed by a single '\n'. Every field is
// always present, in this order, with no whitespace anywhere, except user,
// which is present exactly when it is not empty (lines written before it
// existed keep their form):
//
//	{"time":"2006-01-02T15:04:05.000000000Z","seq":1,"event":"exec",
//	 "decision":"allow","reason":"","secrets":["A","B"],"token":"…","op":"…",
//	 "program":"…","agent":"…","user":"…","repo":"…","branch":"…","cwd":"…",
//	 "pid":42,"mac":"<64 lowercase hex digits>"}
//
// (wrapped here for reading; a real line has no line breaks or spaces).
//
//   - time is RFC 3339 in UTC with exactly nine fractional digits, so lines
//     sort as text.
//   - seq is 1 on the first line and grows by one per line, decimal without
//     leading zeros.
//   - event is 1–64 characters of a-z, 0-9 and '-', starting with a letter.
//   - decision is "allow", "deny", or "" for events that decide nothing.
//   - secrets is an array of non-empty names, "[]" when there are none.
//   - pid is a decimal in [0, 2147483647] without leading zeros.
//   - Strings are valid UTF-8. The only escapes are \" and \\ for '"' and
//     '\', and \uXXXX with lowercase hex digits for exactly these
//     characters, which are always escaped so that reading the log in a
//     terminal shows what it holds: C0 and C1 controls and DEL
//     (U+0000–U+001F, U+007F–U+009F), and the invisible or text-reordering
//     U+061C, U+200B–U+200F, U+2028–U+202E, U+2060–U+2069 and U+FEFF.
//     Everything else is written as itself. When a Record holds bytes that are
//     not UTF-8, each bad byte is written as U+FFFD.
//   - A line, with its '\n', is at most 1 MiB.
//
// # Chain
//
//	mac_n = HMAC-SHA256(key, mac_{n-1} ‖ body_n)
//
// where mac_{n-1} is the previous line's MAC as 32 raw bytes and body_n is line
// n without its mac member: the canonical bytes up to and including the pid
// value, followed by '}'. For the first line mac_0 is the genesis value
// SHA-256("llm-secrets audit log v1"), which is
//
//	e236ddbfb69596ffeff9d45fe14b2ccbaa1470ea7ecbf3661a14ffad0c8c108e
//
// (pinned by TestGenesis). The key must be at least 32 bytes.
//
// # Concurrency and crashes
//
// Append takes an exclusive flock(2) on the log itself, reads only the last
// two lines, checks the last line's MAC, writes the new line with one
// write(2) under O_APPEND, fsyncs and unlocks, so any number of processes can
// append at once. Readers take a shared lock only long enough to learn the
// file's size, then read up to that size without blocking writers.
//
// Only the tail is checked on Append; [Log.Verify] checks every line. A chain
// cannot show that lines were cut from its end, or that the file was deleted
// and a new one begun: that needs an anchor (the last seq and MAC) kept
// elsewhere. [ReadTail] and [Scan] check form and sequence but not MACs,
// which need the key.
//
// # Recovery
//
// When Append fails because the tail is damaged (for example a line torn by a
// crash or a full disk), every access the log guards is denied until a person
// acts. `llms audit verify` names the first bad line and why. If the damage is
// a torn last line, truncating the file just before it leaves a prefix that
// still verifies; otherwise move the file aside, keep it as evidence, and let
// a new log start at seq 1.
package audit
