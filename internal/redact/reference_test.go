package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// The reference redactor: written from the package documentation, without
// the index, the streaming or anything clever, so that it is plainly right.
// The Writer must produce exactly its output for every input and chunking.

type refPattern struct {
	text        []byte
	replacement string
}

// referencePatterns lists the patterns for secrets, first secret first; a
// pattern listed already keeps the secret that listed it.
func referencePatterns(secrets []Secret) []refPattern {
	var list []refPattern
	for _, s := range secrets {
		if len(s.Value) < MinLen {
			continue
		}
		v := s.Value
		texts := []string{
			string(v),
			base64.StdEncoding.EncodeToString(v),
			base64.RawStdEncoding.EncodeToString(v),
			base64.URLEncoding.EncodeToString(v),
			base64.RawURLEncoding.EncodeToString(v),
			hex.EncodeToString(v),
			strings.ToUpper(hex.EncodeToString(v)),
			url.QueryEscape(string(v)),
			url.PathEscape(string(v)),
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			for offset := range 3 {
				texts = append(texts, referenceEmbedded(enc, v, offset))
			}
		}
		if strings.Contains(string(v), "\n") {
			texts = append(texts, strings.ReplaceAll(string(v), "\n", "\r\n"))
		}
		for _, t := range texts {
			if !slices.ContainsFunc(list, func(p refPattern) bool { return string(p.text) == t }) {
				list = append(list, refPattern{[]byte(t), "[REDACTED:" + s.Name + "]"})
			}
		}
	}
	return list
}

// referenceEmbedded encodes v after offset other bytes and keeps character j
// exactly when the bits it encodes, 6j to 6j+5, all belong to v.
func referenceEmbedded(enc *base64.Encoding, v []byte, offset int) string {
	e := enc.EncodeToString(append(make([]byte, offset), v...))
	var kept []byte
	for j := range len(e) {
		if 6*j >= 8*offset && 6*j+6 <= 8*(offset+len(v)) {
			kept = append(kept, e[j])
		}
	}
	return string(kept)
}

// referenceMask masks input: at each position it replaces the longest
// pattern that starts there, or else copies one byte. Unless final, input
// may continue, so it stops at the first position where the rest of the input
// is a proper prefix of a pattern. It also returns where the replacements are
// in the output.
func referenceMask(patterns []refPattern, input []byte, final bool) (out []byte, spans [][2]int) {
	for i := 0; i < len(input); {
		rest := input[i:]
		if !final && slices.ContainsFunc(patterns, func(p refPattern) bool {
			return len(p.text) > len(rest) && bytes.HasPrefix(p.text, rest)
		}) {
			break
		}
		best := -1
		for k, p := range patterns {
			if bytes.HasPrefix(rest, p.text) && (best < 0 || len(p.text) > len(patterns[best].text)) {
				best = k
			}
		}
		if best < 0 {
			out = append(out, input[i])
			i++
			continue
		}
		spans = append(spans, [2]int{len(out), len(out) + len(patterns[best].replacement)})
		out = append(out, patterns[best].replacement...)
		i += len(patterns[best].text)
	}
	return out, spans
}

// checkStream writes input to a Writer in chunks of the given sizes (the
// remainder, if any, last) and checks after every Write that exactly the
// reference's decided output has been written, and after Close that the
// whole reference output has. Failures report offsets and lengths, never
// bytes, since the bytes may be secret.
func checkStream(t *testing.T, r *Redactor, patterns []refPattern, input []byte, chunks []int) {
	t.Helper()
	var dst bytes.Buffer
	w := r.NewWriter(&dst)
	fed := 0
	for _, size := range append(chunks, len(input)) {
		size = min(size, len(input)-fed)
		n, err := w.Write(input[fed : fed+size])
		if err != nil || n != size {
			t.Fatalf("Write of %d bytes at offset %d = %d, %v", size, fed, n, err)
		}
		fed += size
		want, _ := referenceMask(patterns, input[:fed], false)
		if d := firstDifference(dst.Bytes(), want); d >= 0 {
			t.Fatalf("after %d input bytes: output differs from the reference at byte %d (got %d bytes, want %d)",
				fed, d, dst.Len(), len(want))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want, spans := referenceMask(patterns, input, true)
	if d := firstDifference(dst.Bytes(), want); d >= 0 {
		t.Fatalf("after Close: output differs from the reference at byte %d (got %d bytes, want %d)", d, dst.Len(), len(want))
	}
	checkNoSurvivors(t, patterns, dst.Bytes(), spans)
}

// checkNoSurvivors checks that every pattern occurrence in out overlaps a
// replacement. One that does not would be a value, or an encoding of one,
// that reached the output.
func checkNoSurvivors(t *testing.T, patterns []refPattern, out []byte, spans [][2]int) {
	t.Helper()
	for k, p := range patterns {
		for at := 0; ; at++ {
			i := bytes.Index(out[at:], p.text)
			if i < 0 {
				break
			}
			at += i
			end := at + len(p.text)
			if !slices.ContainsFunc(spans, func(s [2]int) bool { return s[0] < end && at < s[1] }) {
				t.Fatalf("pattern %d (%d bytes) survives at output byte %d", k, len(p.text), at)
			}
		}
	}
}

// firstDifference returns the first index at which a and b differ, or -1 if
// they are equal.
func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// FuzzWriterMatchesReference checks the Writer against the reference for
// arbitrary secrets, input and chunking.
//
//   - values: up to six secret values separated by 0x00, named S0..S5.
//   - input: the raw input.
//   - splices: triples (where, which, cut) that insert pattern which at
//     where, whole if cut < 128 and otherwise cut short, so that the input
//     holds matches, near misses and overlaps that random bytes would not.
//   - cuts: the sizes of successive Writes (mod 40; 0 is an empty Write).
func FuzzWriterMatchesReference(f *testing.F) {
	f.Fuzz(func(t *testing.T, values, input, splices, cuts []byte) {
		var secrets []Secret
		for i, v := range bytes.SplitN(values, []byte{0}, 6) {
			secrets = append(secrets, Secret{Name: "S" + string(rune('0'+i)), Value: v})
		}
		patterns := referencePatterns(secrets)
		input = slices.Clone(input)
		for i := 0; i+3 <= len(splices) && len(patterns) > 0; i += 3 {
			text := patterns[int(splices[i+1])%len(patterns)].text
			if cut := int(splices[i+2]); cut >= 128 {
				text = text[:cut%len(text)]
			}
			at := int(splices[i]) % (len(input) + 1)
			input = slices.Insert(input, at, text...)
		}
		if len(input) > 1024 || len(cuts) > 64 {
			t.Skip("too large to check against the quadratic reference")
		}
		chunks := make([]int, len(cuts))
		for i, c := range cuts {
			chunks[i] = int(c) % 40
		}
		checkStream(t, New(secrets), patterns, input, chunks)
	})
}

// TestWriterMatchesReferenceRandom is the fuzzer's check on generated cases
// that are dense in overlaps: values drawn from a small alphabet share
// prefixes, suffixes and encodings, and inputs are made of their patterns,
// pieces of them and noise.
func TestWriterMatchesReferenceRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab/+=%:?AB01"
	for range 400 {
		// Long values now and then, so that the search window reaches its
		// cap.
		shortest, spread := 2, 9
		if rng.IntN(4) == 0 {
			shortest, spread = 30, 31
		}
		var secrets []Secret
		for i := range 1 + rng.IntN(4) {
			v := make([]byte, shortest+rng.IntN(spread))
			for j := range v {
				v[j] = alphabet[rng.IntN(len(alphabet))]
			}
			secrets = append(secrets, Secret{Name: "S" + string(rune('0'+i)), Value: v})
		}
		patterns := referencePatterns(secrets)
		var input []byte
		for range rng.IntN(30) {
			switch {
			case len(patterns) > 0 && rng.IntN(3) > 0:
				p := patterns[rng.IntN(len(patterns))].text
				input = append(input, p[rng.IntN(len(p)/2+1):len(p)-rng.IntN(2)]...)
			default:
				input = append(input, alphabet[rng.IntN(len(alphabet))])
			}
		}
		// At most 40 Writes, each of up to about two shortest values.
		chunks := make([]int, rng.IntN(min(len(input), 40)+1))
		for i := range chunks {
			chunks[i] = rng.IntN(2*shortest + 4)
		}
		checkStream(t, New(secrets), patterns, input, chunks)
	}
}
