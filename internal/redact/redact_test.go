package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// maskAll masks input written in the given chunks and closed, and fails the
// test on any error.
func maskAll(t *testing.T, r *Redactor, input string, chunks []int) string {
	t.Helper()
	var dst bytes.Buffer
	w := r.NewWriter(&dst)
	for _, size := range append(chunks, len(input)) {
		size = min(size, len(input))
		if n, err := w.Write([]byte(input[:size])); err != nil || n != size {
			t.Fatalf("Write of %d bytes = %d, %v", size, n, err)
		}
		input = input[size:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return dst.String()
}

// chunkings returns ways to cut n bytes into Writes: whole, byte by byte,
// and at every single cut point and every pair of cut points.
func chunkings(n int) [][]int {
	ones := make([]int, n)
	for i := range ones {
		ones[i] = 1
	}
	all := [][]int{nil, ones}
	for i := 0; i <= n; i++ {
		all = append(all, []int{i})
		for j := i; j <= n; j++ {
			all = append(all, []int{i, j - i})
		}
	}
	return all
}

// checkMasks checks that input masks to want in every chunking. Failures
// name the chunking and the first differing byte, not the bytes.
func checkMasks(t *testing.T, r *Redactor, input, want string) {
	t.Helper()
	for _, chunks := range chunkings(len(input)) {
		if got := maskAll(t, r, input, chunks); got != want {
			t.Fatalf("chunks %v: output differs from expected at byte %d (got %d bytes, want %d)",
				chunks, firstDifference([]byte(got), []byte(want)), len(got), len(want))
		}
	}
}

// exampleValue is chosen so that every encoding differs from the others:
// base64 has a '+' ('-' in the URL alphabet) and padding, and the two URL
// escapes treat the space differently.
const exampleValue = "p@ss w?>>rd"

func TestEachEncodingIsMasked(t *testing.T) {
	v := []byte(exampleValue)
	r := New([]Secret{{Name: "DB_PASSWORD", Value: v}})
	encodings := map[string]string{
		"raw":              exampleValue,
		"base64":           base64.StdEncoding.EncodeToString(v),
		"base64 unpadded":  base64.RawStdEncoding.EncodeToString(v),
		"base64url":        base64.URLEncoding.EncodeToString(v),
		"base64url unpad.": base64.RawURLEncoding.EncodeToString(v),
		"hex":              hex.EncodeToString(v),
		"HEX":              strings.ToUpper(hex.EncodeToString(v)),
		"query escape":     url.QueryEscape(exampleValue),
		"path escape":      url.PathEscape(exampleValue),
		"percent %20":      strings.ReplaceAll(url.QueryEscape(exampleValue), "+", "%20"),
		"spaced hex":       "70 40 73 73 20 77 3f 3e 3e 72 64",
		"JSON":             `p@ss w?\u003e\u003erd`,
		"base64, wrapped":  "cEBzc\r\nyB3Pz\r\n4+cmQ=",
		"hex, wrapped":     "7040737320\n773f3e3e\n7264",
	}
	seen := map[string]string{}
	for name, enc := range encodings {
		if other, dup := seen[enc]; dup {
			t.Fatalf("exampleValue no longer tells %s from %s", name, other)
		}
		seen[enc] = name
	}
	for name, enc := range encodings {
		t.Run(name, func(t *testing.T) {
			checkMasks(t, r, "x="+enc+"\n", "x=[REDACTED:DB_PASSWORD]\n")
		})
	}
}

// TestEmbeddedBase64 puts the value at every offset inside a longer base64
// string, as in HTTP Basic authentication, and checks that every character
// whose bits all come from the value is masked.
func TestEmbeddedBase64(t *testing.T) {
	v := []byte(exampleValue)
	r := New([]Secret{{Name: "PW", Value: v}})
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		for before := range 7 {
			for after := range 4 {
				plain := slices.Concat([]byte("user:admin"[:before]), v, []byte("\n\t!"[:after]))
				encoded := enc.EncodeToString(plain)
				out := maskAll(t, r, "Authorization: Basic "+encoded+"\r\n", nil)
				masked, ok := strings.CutPrefix(out, "Authorization: Basic ")
				left, right, found := strings.Cut(masked, "[REDACTED:PW]")
				right, ok2 := strings.CutSuffix(right, "\r\n")
				if !ok || !found || !ok2 || !strings.HasPrefix(encoded, left) || !strings.HasSuffix(encoded, right) {
					t.Fatalf("before=%d after=%d: output is not a masked form of the input", before, after)
				}
				// Characters from firstInside to endInside encode only bits of v.
				firstInside := (8*before + 5) / 6
				endInside := 8 * (before + len(v)) / 6
				if len(left) > firstInside || len(encoded)-len(right) < endInside {
					t.Errorf("before=%d after=%d: %d characters left before the mask, %d after; at most %d and %d may be",
						before, after, len(left), len(right), firstInside, len(encoded)-endInside)
				}
			}
		}
	}
}

// TestOverlaps: every byte of every match is masked; a run of overlapping
// matches becomes one replacement, named by its first match (the longest,
// when two start together).
func TestOverlaps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		secrets []Secret
		input   string
		want    string
	}{
		{"overlap: both masked, the leftmost names the run",
			[]Secret{{"A", []byte("abcdef")}, {"B", []byte("defghi")}},
			"xabcdefghiy", "x[REDACTED:A]y"},
		{"overlap, other order",
			[]Secret{{"A", []byte("defghi")}, {"B", []byte("abcdef")}},
			"xabcdefghiy", "x[REDACTED:B]y"},
		{"a chain of overlaps is one run",
			[]Secret{{"A", []byte("abab")}},
			"-abababababa-", "-[REDACTED:A]a-"},
		{"a value overlapping another's encoding",
			[]Secret{{"A", []byte("xyz1")}, {"B", []byte("1abc")}},
			"78797a31616263", "[REDACTED:A]"},
		{"containment: the longest wins",
			[]Secret{{"SHORT", []byte("1234")}, {"LONG", []byte("xx1234yy")}},
			"-xx1234yy-", "-[REDACTED:LONG]-"},
		{"containment: the shorter alone",
			[]Secret{{"SHORT", []byte("1234")}, {"LONG", []byte("xx1234yy")}},
			"-xx1234yz-", "-xx[REDACTED:SHORT]yz-"},
		{"same start, longer wins",
			[]Secret{{"A", []byte("abcd")}, {"B", []byte("abcdefgh")}},
			"abcdefgh", "[REDACTED:B]"},
		{"same start, longer fails at its last byte",
			[]Secret{{"A", []byte("abcd")}, {"B", []byte("abcdefgh")}},
			"abcdefgX", "[REDACTED:A]efgX"},
		{"adjacent matches",
			[]Secret{{"A", []byte("abcd")}},
			"abcdabcd", "[REDACTED:A][REDACTED:A]"},
		{"a shared value is named by the first secret",
			[]Secret{{"FIRST", []byte("same-value")}, {"SECOND", []byte("same-value")}},
			"<same-value>", "<[REDACTED:FIRST]>"},
		{"a value that is another's encoding is named by the first secret",
			[]Secret{{"PLAIN", []byte("abcd")}, {"HEXED", []byte("61626364")}},
			"61626364", "[REDACTED:PLAIN]"},
		{"a near miss is left alone",
			[]Secret{{"A", []byte("abcdef")}},
			"abcdeX abcde", "abcdeX abcde"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkMasks(t, New(tc.secrets), tc.input, tc.want)
		})
	}
}

func TestSkipped(t *testing.T) {
	r := New([]Secret{
		{"EMPTY", nil},
		{"THREE", []byte("abc")},
		{"FOUR", []byte("wxyz")},
		{"TWO", []byte("ab")},
	})
	if got := r.Skipped(); !slices.Equal(got, []string{"EMPTY", "THREE", "TWO"}) {
		t.Fatalf("Skipped() = %q", got)
	}
	r.Skipped()[0] = "changed"
	if r.Skipped()[0] != "EMPTY" {
		t.Fatal("Skipped returned the Redactor's own slice")
	}
	checkMasks(t, r, "abc ab wxyz", "abc ab [REDACTED:FOUR]")
}

func TestNoSecretsPassesThrough(t *testing.T) {
	checkMasks(t, New(nil), "any text at all\n", "any text at all\n")
}

func TestNewCopiesValues(t *testing.T) {
	v := []byte("hunter22")
	r := New([]Secret{{"PW", v}})
	copy(v, "XXXXXXXX")
	checkMasks(t, r, "hunter22 XXXXXXXX", "[REDACTED:PW] XXXXXXXX")
}

// TestDecidedAtOnce: the engine decides each byte as soon as it can no
// longer be part of a match, so that its undecided tail stays short; what
// the Writer writes, and when, is TestReleaseByPosition's.
func TestDecidedAtOnce(t *testing.T) {
	r := New([]Secret{{"TOKEN", []byte("ghp_abcdefgh")}})
	var dst bytes.Buffer
	w := r.NewWriter(&dst)
	for i, step := range []struct{ write, shown string }{
		{"Password: ", "Password: "},
		{"\n$ echo gh", "Password: \n$ echo "},               // "gh" may begin the token
		{"x", "Password: \n$ echo ghx"},                      // now it cannot
		{" ghp_abc", "Password: \n$ echo ghx "},              // may still be the token
		{"defgh", "Password: \n$ echo ghx [REDACTED:TOKEN]"}, // is the token
		{"!", "Password: \n$ echo ghx [REDACTED:TOKEN]!"},
	} {
		if _, err := w.Write([]byte(step.write)); err != nil {
			t.Fatal(err)
		}
		if got := decided(w, &dst); string(got) != step.shown {
			t.Fatalf("step %d: %d bytes decided, want %d (first difference at byte %d)",
				i, len(got), len(step.shown), firstDifference(got, []byte(step.shown)))
		}
	}
}

func TestCloseReleasesHeldTail(t *testing.T) {
	r := New([]Secret{{"A", []byte("abcd")}, {"B", []byte("abcdefgh")}})
	for i, tc := range []struct{ write, beforeClose, afterClose string }{
		{"xyzab", "xyz", "xyzab"},                          // a partial match is not a match
		{"--abcdef", "--", "--[REDACTED:A]ef"},             // the longer match never completed
		{"--abcdefgh", "--[REDACTED:B]", "--[REDACTED:B]"}, // nothing held
	} {
		var dst bytes.Buffer
		w := r.NewWriter(&dst)
		if _, err := w.Write([]byte(tc.write)); err != nil {
			t.Fatal(err)
		}
		if got := decided(w, &dst); string(got) != tc.beforeClose {
			t.Errorf("case %d before Close: %d bytes decided, want %d", i, len(got), len(tc.beforeClose))
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if dst.String() != tc.afterClose {
			t.Errorf("case %d after Close: %d bytes shown, want %d", i, dst.Len(), len(tc.afterClose))
		}
	}
}

func TestEmptyWrite(t *testing.T) {
	r := New([]Secret{{"A", []byte("abcd")}})
	dst := &countingWriter{}
	w := r.NewWriter(dst)
	for _, p := range [][]byte{nil, {}, []byte("ab"), nil, {}, []byte("cd"), nil} {
		if n, err := w.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", len(p), n, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if dst.String() != "[REDACTED:A]" || dst.calls != 1 {
		t.Fatalf("got %d bytes in %d calls, want the replacement in 1", dst.Len(), dst.calls)
	}
}

type countingWriter struct {
	bytes.Buffer
	calls int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.calls++
	return c.Buffer.Write(p)
}

// failingWriter accepts ok bytes, then fails.
type failingWriter struct {
	ok    int
	short bool // fail by writing less without an error
	calls int
}

var errTarget = errors.New("target failed")

func (f *failingWriter) Write(p []byte) (int, error) {
	f.calls++
	if len(p) <= f.ok {
		f.ok -= len(p)
		return len(p), nil
	}
	n := f.ok
	f.ok = 0
	if f.short {
		return n, nil
	}
	return n, errTarget
}

func TestWriteErrorIsSticky(t *testing.T) {
	r := New([]Secret{{"A", []byte("abcd")}})
	for _, short := range []bool{false, true} {
		want := errTarget
		if short {
			want = io.ErrShortWrite
		}
		// The destination fails in a Release, or in a Write that passes
		// the window.
		for _, fail := range []func(w *Writer) error{
			func(w *Writer) error { return w.Release() },
			func(w *Writer) error {
				_, err := w.Write(make([]byte, r.holdBack))
				return err
			},
		} {
			dst := &failingWriter{ok: 3, short: short}
			w := r.NewWriter(dst)
			if n, err := w.Write([]byte("xyz")); n != 3 || err != nil {
				t.Fatalf("first Write = %d, %v", n, err)
			}
			if err := w.Release(); err != nil {
				t.Fatalf("first Release: %v", err)
			}
			if n, err := w.Write([]byte("more abc")); n != 8 || err != nil {
				t.Fatalf("second Write = %d, %v", n, err)
			}
			if err := fail(w); err != want {
				t.Fatalf("failing call = %v; want %v", err, want)
			}
			calls := dst.calls
			if n, err := w.Write([]byte("d and more")); n != 0 || err != want {
				t.Fatalf("Write after failure = %d, %v; want 0, %v", n, err, want)
			}
			if err := w.Release(); err != want {
				t.Fatalf("Release after failure = %v, want %v", err, want)
			}
			if err := w.Close(); err != want {
				t.Fatalf("Close after failure = %v, want %v", err, want)
			}
			if dst.calls != calls {
				t.Fatal("the Writer wrote to a failed target again")
			}
		}
	}
}

func TestCloseWriteError(t *testing.T) {
	dst := &failingWriter{ok: 0}
	w := New([]Secret{{"A", []byte("abcd")}}).NewWriter(dst)
	if _, err := w.Write([]byte("abc")); err != nil { // all held: nothing written yet
		t.Fatal(err)
	}
	if err := w.Close(); err != errTarget {
		t.Fatalf("Close = %v, want %v", err, errTarget)
	}
}

func TestWriteAfterClose(t *testing.T) {
	var dst bytes.Buffer
	w := New([]Secret{{"A", []byte("abcd")}}).NewWriter(&dst)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write([]byte("x")); n != 0 || err == nil {
		t.Fatalf("Write after Close = %d, %v", n, err)
	}
	if err := w.Release(); err == nil {
		t.Fatal("Release after Close succeeded")
	}
	if err := w.Close(); err == nil {
		t.Fatal("second Close succeeded")
	}
	if dst.Len() != 0 {
		t.Fatal("bytes written after Close")
	}
}

// TestReplacementCanRecreateAPattern pins the case the package documentation
// describes: input bytes that were not part of any match, followed by
// replacement text, can spell out a pattern. Nothing is hidden that the
// output did not already show: "ab" was never part of a match.
func TestReplacementCanRecreateAPattern(t *testing.T) {
	r := New([]Secret{{"X", []byte("ab[RED")}})
	checkMasks(t, r, "abab[RED", "ab[REDACTED:X]")
}

// TestNoPatternSurvives checks, with the reference, that in generated
// output no pattern occurrence lies wholly outside the replacements, for
// secrets built to overlap and contain one another, in every chunking.
func TestNoPatternSurvives(t *testing.T) {
	secrets := []Secret{
		{"A", []byte("abcabc")},
		{"B", []byte("cabca")},
		{"C", []byte("bcab")},
		{"D", []byte("YWJjYWJj")}, // base64 of A's value
	}
	patterns := referencePatterns(secrets)
	input := []byte("abcabcabcabYWJjYWJjYWJjYWJjca-cabca-bcabcab-616263616263")
	for i, chunks := range chunkings(len(input)) {
		if raceEnabled && i%8 != 0 {
			continue // see TestWriterMatchesReferenceRandom
		}
		checkStream(t, New(secrets), patterns, input, chunks)
	}
}

func TestWriteDoesNotAllocate(t *testing.T) {
	r := New([]Secret{{"A", []byte("abcdefgh")}, {"B", []byte(exampleValue)}})
	w := r.NewWriter(io.Discard)
	chunks := [][]byte{
		[]byte("plain text with no secret in it\n"),
		[]byte("a secret abcdefgh and a held tail abcd"),
		[]byte("efgh, base64 " + base64.StdEncoding.EncodeToString([]byte(exampleValue))),
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, c := range chunks {
			if _, err := w.Write(c); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("Write allocates %v times per run", allocs)
	}
}

// TestMultiLineValueOnAPTY: a PTY's line discipline turns \n into \r\n; a
// multi-line value (a PEM key) printed by a child on a PTY is still masked.
func TestMultiLineValueOnAPTY(t *testing.T) {
	r := New([]Secret{{Name: "PEM", Value: []byte("-----BEGIN KEY-----\nc2VjcmV0\n-----END KEY-----")}})
	var out bytes.Buffer
	w := r.NewWriter(&out)
	w.Write([]byte("key:\r\n-----BEGIN KEY-----\r\nc2VjcmV0\r\n-----END KEY-----\r\n"))
	w.Close()
	if got := out.String(); got != "key:\r\n[REDACTED:PEM]\r\n" {
		t.Fatalf("got %q", got)
	}
}

// TestLineBreaksDoNotHoldForever: line breaks do not count inside a match,
// but a long run of them ends it, so a tail that begins a value is not held
// back while a program prints empty lines. The longest run left out is 4,
// or more for a value that holds a run itself.
func TestLineBreaksDoNotHoldForever(t *testing.T) {
	r := New([]Secret{{"A", []byte("abcdefgh")}})
	checkMasks(t, r, "abcd\r\r\nefgh abcd\r\n\r\nefgh abcd\n\n\n\n\nefgh", "[REDACTED:A] [REDACTED:A] abcd\n\n\n\n\nefgh")
	var dst bytes.Buffer
	w := r.NewWriter(&dst)
	if _, err := w.Write([]byte("abcd\n\n\n\n")); err != nil {
		t.Fatal(err)
	}
	if len(decided(w, &dst)) != 0 {
		t.Fatal("a value's beginning and four line breaks were decided")
	}
	if _, err := w.Write([]byte("\n")); err != nil {
		t.Fatal(err)
	}
	if got := decided(w, &dst); string(got) != "abcd\n\n\n\n\n" {
		t.Fatalf("after a fifth line break, %d bytes decided, want 9", len(got))
	}
	// A value with a blank line, printed on a pseudo-terminal.
	r = New([]Secret{{"B", []byte("first line\n\nsecond")}})
	checkMasks(t, r, "first line\r\n\r\nsecond\r\n", "[REDACTED:B]\r\n")
}
