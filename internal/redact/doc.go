// Package redact masks secret values, and the usual encodings of them, in a
// stream of bytes. `llms exec` pipes a child's stdout and stderr through it,
// one Writer per stream. Find runs the same engine over a whole buffer and
// reports each match (secret, form, byte offsets) instead of masking it, for
// callers that look for stored values in files; a Finder does the same over
// a stream, as a Writer would see it, and adds each match's line and column
// (`llms scan`).
//
// It owns the pattern set, the two views of the stream that patterns are
// matched in, and the streaming match. It refuses to:
//   - mask values shorter than MinLen bytes (line breaks not counted), which
//     would mask ordinary words; New skips them and Skipped names them, so
//     that the caller can warn;
//   - let what it writes, and when, depend on what the stream holds: output
//     is released by position, W bytes behind the input, and earlier only
//     when its caller says (Release); it has no timer of its own (see
//     Streaming);
//   - write to a destination that has failed once: the error sticks.
//
// # What is masked
//
// Line breaks do not count. Matching runs over the text view, the stream
// with its line breaks left out, and a value's line breaks are left out of
// its patterns too. A line break is a run of '\n' and '\r' bytes up to 4
// long ("\n", "\r\n", a pseudo-terminal's "\r\r\n", a blank line), or twice
// the longest run in a value plus 2; the later bytes of a longer run stay in
// the view and end any match, so that a tail that begins a value is not held
// back while a program prints empty lines without end. So each form below is masked however a program wrapped
// it into lines, at any column, with "\n" or "\r\n" (base64 -w N, base64's
// 76 columns, openssl base64's 64, xxd -p's 60 or -c N, fold), and a
// multi-line value such as a PEM key is masked whether it arrives with "\n"
// or, from a pseudo-terminal, with "\r\n". For each value, each of these
// becomes "[REDACTED:NAME]":
//
//   - the value itself;
//   - base64 in the standard and URL alphabets, padded and unpadded;
//   - base64 of the value inside a longer encoded string, as in
//     "Authorization: Basic " + base64("user:" + value). How the value
//     encodes there depends on its offset mod 3, so for each of the three
//     offsets, in both alphabets, the pattern is the run of characters whose
//     six bits all come from the value. The characters at the two ends also
//     carry bits of the neighbouring bytes; they stay visible, and with them
//     at most 4 bits of the value on each side;
//   - hex, all lower case or all upper case, run together ("7040…", xxd -p,
//     xxd -u -p) or with one space between bytes ("70 40 …", Python's
//     bytes.hex(' '));
//   - percent-encoding as five families of encoders write it, with upper-case
//     escapes: RFC 3986 (Python quote(v, safe=""), PHP rawurlencode), Python
//     quote(v) (keeps '/'), JavaScript encodeURIComponent (keeps !'()*),
//     quote_plus and Go's url.QueryEscape (space as '+'), and
//     application/x-www-form-urlencoded (URLSearchParams, HTML forms: keeps
//     '*', escapes '~', space as '+'); and Go's url.PathEscape;
//   - the inside of a JSON string, the form a value takes in an agent's JSONL
//     transcript, as five families of encoders write it: '"' and '\' as \"
//     and \\, control characters as \b \f \n \r \t or \u00XX; plus, each in
//     its family, nothing more (JSON.stringify, jq, serde_json), <, > and &
//     as \u003c \u003e \u0026 (Go's encoding/json), DEL and non-ASCII as
//     lower-case \uXXXX with surrogate pairs (Python json.dumps), that and '/'
//     as \/ (PHP json_encode), or '/' as \/ alone.
//
// The dump view decodes hex dumps. A line that is a hex dump line, in one of
// these layouts, stands for the bytes its hex pairs spell:
//
//	00000010: 7040 7373 2077 3f3e  p@ss w?>    xxd, any -c, -g, -u
//	00000010  70 40 73 73  20 77  |p@ss w|     hexdump -C
//	0000020 70 40 73 73 20 77 3f               od -tx1, any -A (z adds >ascii<)
//	 70 40 73 73 20 77 3f                      od -An -tx1
//	  0x70, 0x40, 0x73, 0x73,                  xxd -i
//
// The offset is 6 to 16 hex digits and the pairs are in either case. The
// bytes of consecutive dump lines, without the line breaks they spell (runs
// as the text view leaves out; a longer run ends any match), are matched
// against every pattern as one string; a match there masks from the value's
// first hex pair to the end of the line on which it ends, so that the ASCII
// column, which shows the same bytes, goes with it. Earlier lines' ASCII
// columns lie inside the masked span.
//
// Not masked, among others: the value reversed or reordered (rev, little-
// endian dumps: xxd -e, od -tx2, plain hexdump); hex in mixed case, with
// another separator ("70:40", "\x70", "0x70" outside xxd -i lines) or with
// single-spaced pairs wrapped where no space is left at the break; dump
// lines that hexdump squeezed into '*'; lower-case percent escapes or
// encoders that keep other characters (encodeURI); JSON written otherwise
// (upper-case \u escapes, a value that is not valid UTF-8, which encoders
// replace); the value split by anything other than line breaks (spaces,
// columns, reflowed text, terminal escape sequences); shell quoting, HTML
// entities, base32, quoted-printable, compression, encryption; and an
// encoding of an encoding (base64 of hex, a JSON string inside a JSON
// string). The threat model says so: a child that leaks a value in a form
// redaction does not know is out of scope.
//
// # Matching
//
// At each position of each view, the longest pattern that starts there is a
// match; matches are then mapped back to the stream, where each covers its
// bytes from first to last, line breaks and dump columns included. Every byte
// that some match covers is masked: a maximal run of overlapping matches
// becomes one replacement, named by the run's first match (at one position,
// the longest). So a value that contains another is masked whole, and so are
// two values, or encodings, that overlap. Matches that only touch stay
// separate replacements. Which bytes are masked depends on neither the order
// of the secrets nor how the input is split into Writes. When two secrets
// share a pattern (the same value, or one value equal to another's
// encoding), the first in the slice given to New names it. A masked run's
// line breaks go with it.
//
// The search is Wu–Manber with a hashed 4-byte shift table over a window as
// long as the shortest pattern (at most 32 bytes); only where the table
// cannot rule a position out are patterns compared. Text with no secrets is
// mostly skipped a window at a time, by a constant move the processor can
// predict past the table read; building the text view is one copy of each
// line. The dump view is
// built only from lines that start like a dump line (six hex digits, or a
// space and a hex digit, or two spaces and "0").
//
// # Streaming
//
// What the reader of a Writer's output sees — which bytes, cut into which
// Writes, at what moment — depends on the secrets only in that a complete
// form is replaced. Were a tail that may still become a value held back
// while other output went through, a reader who can put bytes into the
// stream (a terminal's echo of what it types, a program that copies its
// input) would learn whether its probe begins a value, and so the value,
// a byte at a time. So the engine decides each byte as early as it can,
// and the Writer releases its output by position alone:
//
//   - W, the window, is a power of two that depends only on the lengths
//     of the patterns: at least the bytes one match can span in the layouts
//     tools print, a line break of the longest run after every byte or a
//     hex dump of one byte a line included, and at most 1 MiB (16 KiB for
//     50 values of 16 to 64 bytes, 8 KiB for one of 40);
//   - once the stream holds n bytes, the output for its first n-W has been
//     written, in one Write to the destination per Write to the Writer; a
//     replacement belongs to the position where its masked run starts;
//   - by then the engine has decided those bytes, unless a match spans more
//     than W (a dump padded with pairs that spell line breaks, a 64 KiB
//     value's widest forms): they are released as Release would;
//   - Release writes everything held, at once: what is decided, and the
//     undecided tail with every complete form in it masked and the rest as
//     it is. The tail stays the engine's context: a form that later bytes
//     complete is masked from where the release ended, with one
//     replacement, so only what came before the release can show. The
//     runner calls it when the child has gone quiet;
//   - Close decides the tail as the end of the stream and writes it.
//
// The engine leaves undecided only a tail that may still become part of a
// match:
//   - a tail that is, line breaks aside, a proper prefix of some pattern;
//   - an incomplete last line that may still be a dump line, until its end
//     (at most 4096 bytes);
//   - a dump line on which a value's bytes may go on into the next line, and
//     the lines after it.
//
// A match split across any number of Writes is caught. Without Release,
// the output is exactly what masking the whole stream at once gives.
//
// # Replacements can spell a pattern
//
// No pattern occurrence in the output lies wholly in input text that was
// left unmasked: the search would have matched it there. But one can overlap
// a replacement. With a value "ab[RED", the input "abab[RED" becomes
// "ab[REDACTED:X]", whose first six bytes spell the value. Such an
// occurrence is only unmasked input bytes, which were shown anyway, next to
// the fixed replacement text; it reveals nothing more, but a scanner run over
// the output may flag it.
//
// # Memory
//
// The Redactor keeps one copy of each distinct pattern, in one buffer, for
// as long as it is reachable; a Writer holds its undecided tail, up to W
// bytes of output not yet written, and the views of its last Write. New's
// intermediate encodings are left to the garbage collector. Go cannot
// promise to erase any of these, so the package does not pretend to.
package redact
