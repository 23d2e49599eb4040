// Package redact masks secret values, and the usual encodings of them, in a
// stream of bytes. `llms exec` pipes a child's stdout and stderr through it,
// one Writer per stream.
//
// It owns the pattern set and the streaming match. It refuses to:
//   - mask values shorter than MinLen, which would mask ordinary words; New
//     skips them and Skipped names them, so that the caller can warn;
//   - wait: no timers, and nothing is held back that could not still be the
//     start of a match (see Streaming);
//   - write to a destination that has failed once: the error sticks.
//
// # What is masked
//
// For each value, each of these forms, wherever it occurs, becomes
// "[REDACTED:NAME]":
//
//   - the value itself;
//   - base64 in the standard and URL alphabets, padded and unpadded;
//   - hex, all lower case and all upper case;
//   - url.QueryEscape and url.PathEscape of the value;
//   - base64 of the value inside a longer encoded string, as in
//     "Authorization: Basic " + base64("user:" + value). How the value
//     encodes there depends on its offset mod 3, so for each of the three
//     offsets, in both alphabets, the pattern is the run of characters whose
//     six bits all come from the value. The characters at the two ends also
//     carry bits of the neighbouring bytes; they stay visible, and with them
//     at most 4 bits of the value on each side;
//   - for a value with line breaks, the value with every "\n" written as
//     "\r\n", as a pseudo-terminal's line discipline (ONLCR) delivers it
//     when exec runs the child on a PTY.
//
// Hex and URL escapes encode byte by byte, so their plain patterns already
// match wherever the value sits inside a longer encoded string.
//
// Not masked, among others: mixed-case hex or percent escapes, base64 broken
// across lines, JSON or shell escaping, compression, an encoding of an
// encoding, and any
// value the program splits up or transforms. The threat model says so: a
// child that leaks a value in a form redaction does not know is out of
// scope.
//
// # Matching
//
// Matching is leftmost-longest over all patterns of all secrets: the match
// that starts first wins, among those the longest, and the search resumes
// after it. So a value that contains another is masked whole, and of two
// overlapping values the one that starts first is masked whole; the rest of
// the other, no longer a whole match, stays visible. Which bytes are masked
// depends on neither the order of the secrets nor how the input is split
// into Writes. When two secrets share a pattern (the same value, or one
// value equal to another's encoding), the first in the slice given to New
// names it.
//
// The search is Wu–Manber with a hashed 4-byte shift table over a window as
// long as the shortest pattern (at most 32 bytes); only where the table
// cannot rule a position out are patterns compared. Text with no secrets is
// mostly skipped a window at a time; the worst case, input made of near
// copies of a pattern, costs at most a comparison against each pattern
// that begins with the same 4 bytes at every position.
//
// # Streaming
//
// A Writer writes everything it can decide before Write returns, and holds
// back only a tail of the stream so far that is a proper prefix of some
// pattern: a match, or a longer match, could still start there. A prompt,
// or any output that cannot begin a secret, appears at once; a match split
// across any number of Writes is caught. Close decides and writes the held
// tail. The output is exactly what masking the whole stream at once gives.
//
// # Replacements can spell a pattern
//
// No pattern occurrence in the output lies wholly in input text that was
// left unmasked: the leftmost-longest search would have matched it there.
// But one can overlap a replacement. With a value "ab[RED", the input
// "abab[RED" becomes "ab[REDACTED:X]", whose first six bytes spell the value.
// Such an occurrence is only unmasked input bytes, which were shown anyway,
// next to the fixed replacement text; it reveals nothing more, but a scanner
// run over the output may flag it.
//
// # Memory
//
// The Redactor keeps one copy of each distinct pattern, in one buffer, for
// as long as it is reachable; a Writer may hold up to one pattern's length
// of the stream. New's intermediate encodings are left to the garbage
// collector. Go cannot promise to erase any of these, so the package does
// not pretend to.
package redact
