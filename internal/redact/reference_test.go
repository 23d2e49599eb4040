package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// The reference redactor: written from the package documentation, without
// the index, the streaming or anything clever, so that it is plainly right.
// It shares one piece with the package, dumpLine, which says whether a line
// is a hex dump line and where its pairs are; that parser is tested on its
// own, against the real tools' output. The Writer must produce exactly the
// reference's output for every input and chunking.

var lineBreakRuns = regexp.MustCompile(`[\r\n]+`)

type refPattern struct {
	text  []byte
	owner int
	name  string
	value []byte // the secret's value
}

// referencePatterns lists the patterns for secrets, first secret first; a
// pattern listed already keeps the secret that listed it.
func referencePatterns(secrets []Secret) []refPattern {
	var list []refPattern
	owner := 0
	for _, s := range secrets {
		v := s.Value
		if len(strings.NewReplacer("\r", "", "\n", "").Replace(string(v))) < MinLen {
			continue
		}
		query := url.QueryEscape(string(v)) // Python quote_plus: space is '+'
		rfc := strings.ReplaceAll(query, "+", "%20")
		texts := []string{
			string(v),
			base64.StdEncoding.EncodeToString(v),
			base64.RawStdEncoding.EncodeToString(v),
			base64.URLEncoding.EncodeToString(v),
			base64.RawURLEncoding.EncodeToString(v),
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			for offset := range 3 {
				texts = append(texts, referenceEmbedded(enc, v, offset))
			}
		}
		var spaced []string
		for _, c := range v {
			spaced = append(spaced, fmt.Sprintf("%02x", c))
		}
		texts = append(texts,
			hex.EncodeToString(v), strings.ToUpper(hex.EncodeToString(v)),
			strings.Join(spaced, " "), strings.ToUpper(strings.Join(spaced, " ")))
		texts = append(texts,
			rfc,                                 // quote(v, safe='')
			strings.ReplaceAll(rfc, "%2F", "/"), // quote(v)
			strings.NewReplacer("%21", "!", "%27", "'", "%28", "(", "%29", ")", "%2A", "*").Replace(rfc), // encodeURIComponent
			query, // quote_plus
			strings.NewReplacer("%2A", "*", "~", "%7E").Replace(query), // URLSearchParams
		)
		texts = append(texts, url.PathEscape(string(v)))
		for _, style := range []string{"", "html", "ascii", "ascii slash", "slash"} {
			texts = append(texts, referenceJSON(v, style))
		}
		for _, t := range texts {
			t = strings.NewReplacer("\r", "", "\n", "").Replace(t)
			if !slices.ContainsFunc(list, func(p refPattern) bool { return string(p.text) == t }) {
				list = append(list, refPattern{[]byte(t), owner, "[REDACTED:" + s.Name + "]", v})
			}
		}
		owner++
	}
	return list
}

// referenceJSON escapes v as JSON encoders do; style names what it escapes
// besides '"', '\\' and control characters: "html" <, > and &; "ascii"
// DEL and everything beyond ASCII (UTF-16 \u escapes); "slash" '/'. Invalid
// UTF-8 stays as it is.
func referenceJSON(v []byte, style string) string {
	short := map[rune]string{'"': `\"`, '\\': `\\`, '\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\t': `\t`}
	var b strings.Builder
	for len(v) > 0 {
		r, size := utf8.DecodeRune(v)
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteByte(v[0])
		case short[r] != "":
			b.WriteString(short[r])
		case r < 0x20,
			strings.Contains(style, "html") && strings.ContainsRune("<>&", r),
			strings.Contains(style, "ascii") && r >= 0x7f:
			for _, unit := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(&b, "\\u%04x", unit)
			}
		case strings.Contains(style, "slash") && r == '/':
			b.WriteString(`\/`)
		default:
			b.Write(v[:size])
		}
		v = v[size:]
	}
	return b.String()
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

type refMatch struct {
	start, end int // in the input
	pattern    int
}

// refSearch finds, at each position of view in turn, the longest pattern
// that starts there. Unless final, it stops at the first position where the
// rest of view is a proper prefix of a pattern, and returns that position,
// or len(view). at maps a view position to the input.
func refSearch(patterns []refPattern, view []byte, final bool, match func(i, n, pattern int)) int {
	longest := 0
	for _, p := range patterns {
		longest = max(longest, len(p.text))
	}
	for i := range view {
		rest := view[i:]
		if !final && len(rest) < longest && slices.ContainsFunc(patterns, func(p refPattern) bool {
			return len(p.text) > len(rest) && bytes.HasPrefix(p.text, rest)
		}) {
			return i
		}
		best := -1
		for k, p := range patterns {
			if bytes.HasPrefix(rest, p.text) && (best < 0 || len(p.text) > len(patterns[best].text)) {
				best = k
			}
		}
		if best >= 0 {
			match(i, len(patterns[best].text), best)
		}
	}
	return len(view)
}

// referenceMask masks input: every run of bytes covered by overlapping
// matches becomes the replacement of its first match. Unless final, input
// may continue, and the output stops where the reference's search became
// undecided. It also returns where the replacements are in the output.
func referenceMask(patterns []refPattern, input []byte, final bool) (out []byte, spans [][2]int) {
	matches, cut := referenceMatches(patterns, input, final)
	end := 0
	for _, m := range matches {
		if m.start < end {
			end = max(end, m.end)
			continue
		}
		out = append(out, input[end:m.start]...)
		r := patterns[m.pattern].name
		spans = append(spans, [2]int{len(out), len(out) + len(r)})
		out = append(out, r...)
		end = m.end
	}
	if end < cut {
		out = append(out, input[end:cut]...)
	}
	return out, spans
}

// referenceMatches returns the matches in input that start before cut, in
// the order masking takes them, and cut: len(input), or unless final the
// position from which the reference is undecided.
func referenceMatches(patterns []refPattern, input []byte, final bool) ([]refMatch, int) {
	if len(patterns) == 0 {
		return nil, len(input)
	}
	var matches []refMatch
	cut := len(input)

	// The text view: input without the first bytes of each run of '\r' and
	// '\n': 4, or twice the longest such run in a value, plus 2.
	maxBreak := 4
	for _, p := range patterns {
		for _, run := range lineBreakRuns.FindAll(p.value, -1) {
			maxBreak = max(maxBreak, 2*len(run)+2)
		}
	}
	var view []byte
	var at []int
	run := 0
	for i, c := range input {
		if c == '\r' || c == '\n' {
			run++
		} else {
			run = 0
		}
		if run == 0 || run > maxBreak {
			view = append(view, c)
			at = append(at, i)
		}
	}
	if v := refSearch(patterns, view, final, func(i, n, p int) {
		matches = append(matches, refMatch{at[i], at[i+n-1] + 1, p})
	}); v < len(view) {
		cut = at[v]
	}

	// The dump view: runs of dump lines, decoded, without line breaks as
	// the text view.
	lines := bytes.SplitAfter(input, []byte("\n"))
	var dview []byte
	var dat, dlineStart, dlineEnd []int
	drun := 0 // line breaks dview ends with
	search := func(final bool) {
		if v := refSearch(patterns, dview, final, func(i, n, p int) {
			matches = append(matches, refMatch{dat[i], dlineEnd[i+n-1], p})
		}); v < len(dview) {
			cut = min(cut, dlineStart[v])
		}
		dview, dat, dlineStart, dlineEnd, drun = nil, nil, nil, nil, 0
	}
	pos := 0
	var dumpLines [][2]int
	for _, line := range lines {
		start := pos
		pos += len(line)
		body, complete := bytes.CutSuffix(line, []byte("\n"))
		if len(body) == 0 && !complete {
			break
		}
		kind, pairs := dumpLine(body, complete || final, nil)
		if kind != notDump {
			dumpLines = append(dumpLines, [2]int{start, start + len(body)})
		}
		if kind == maybeDump {
			search(false)
			cut = min(cut, start)
			break
		}
		if kind == notDump {
			search(true)
			continue
		}
		for _, q := range pairs {
			b, err := hex.DecodeString(string(body[q : q+2]))
			if err != nil {
				panic(err)
			}
			if b[0] == '\r' || b[0] == '\n' {
				drun++
			} else {
				drun = 0
			}
			if drun == 0 || drun > maxBreak {
				dview = append(dview, b[0])
				dat = append(dat, start+q)
				dlineStart = append(dlineStart, start)
				dlineEnd = append(dlineEnd, start+len(body))
			}
		}
	}
	search(final)
	// A dump line is decided as a whole, until the input ends.
	for _, l := range dumpLines {
		if !final && l[0] < cut && cut <= l[1] {
			cut = l[0]
		}
	}

	matches = slices.DeleteFunc(matches, func(m refMatch) bool { return m.start >= cut })
	slices.SortStableFunc(matches, func(a, b refMatch) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if a.end != b.end {
			return b.end - a.end
		}
		return patterns[a.pattern].owner - patterns[b.pattern].owner
	})
	return matches, cut
}

// checkStream writes input to a Writer in chunks of the given sizes (the
// remainder, if any, last), with a window too long to release anything
// before Close, and checks after every Write that the engine has decided
// exactly what the reference decides, and after Close that the whole
// reference output has been written. Failures report offsets and lengths,
// never bytes, since the bytes may be secret.
func checkStream(t *testing.T, r *Redactor, patterns []refPattern, input []byte, chunks []int) {
	t.Helper()
	var dst bytes.Buffer
	w := r.NewWriter(&dst)
	w.window = math.MaxInt / 2
	// Few bytes joined to a held tail, so that most Writes are scanned in
	// two parts, the second in place.
	w.join = 1 + len(input)%16
	fed := 0
	for _, size := range append(chunks, len(input)) {
		size = min(size, len(input)-fed)
		n, err := w.Write(input[fed : fed+size])
		if err != nil || n != size {
			t.Fatalf("Write of %d bytes at offset %d = %d, %v", size, fed, n, err)
		}
		fed += size
		want, _ := referenceMask(patterns, input[:fed], false)
		if got := decided(w, &dst); firstDifference(got, want) >= 0 {
			if os.Getenv("DBG") != "" {
				t.Logf("secrets %q\ninput %q\nchunks %v\ngot  %q\nwant %q", r.names, input[:fed], chunks, got, want)
			}
			t.Fatalf("after %d input bytes: decided output differs from the reference at byte %d (got %d bytes, want %d)",
				fed, firstDifference(got, want), len(got), len(want))
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

// decided is what w has written to dst followed by what it has decided and
// holds: the output of the engine so far.
func decided(w *Writer, dst *bytes.Buffer) []byte {
	return append(slices.Clone(dst.Bytes()), w.out[w.head:]...)
}

// tracer is a Writer's destination that maps every byte written back to
// the input, from the Writer's state at the moment it writes: the bytes
// from w.base on, with w.reps's replacements among them.
type tracer struct {
	w        *Writer
	input    []byte
	out      bytes.Buffer
	next     int    // the input position the next byte written stands for
	masked   []bool // masked[p]: input byte p went out inside a replacement
	ends     []int  // the input position after each Write
	skips    []int  // where the input passed over without a Write ends
	problems []string
}

func (tr *tracer) Write(p []byte) (int, error) {
	tr.skipMasked()
	if tr.w.base != tr.next {
		tr.problems = append(tr.problems, fmt.Sprintf("a Write starts at input %d, after input %d", tr.w.base, tr.next))
	}
	pos, k := tr.next, 0
	plain := func(to int) {
		n := to - pos
		if n < 0 || k+n > len(p) || pos+n > len(tr.input) || !bytes.Equal(p[k:k+n], tr.input[pos:pos+n]) {
			tr.problems = append(tr.problems, fmt.Sprintf("output byte %d is not input %d..%d as it is", tr.out.Len()+k, pos, to))
			n = max(0, min(n, len(p)-k, len(tr.input)-pos))
		}
		k, pos = k+n, pos+n
	}
	for _, rp := range tr.w.reps[tr.w.first:] {
		next := rp.next - tr.w.head
		if next > len(p) {
			break
		}
		plain(rp.in)
		if !bytes.HasPrefix(p[k:next], []byte("[REDACTED:")) {
			tr.problems = append(tr.problems, fmt.Sprintf("output byte %d should start a replacement", tr.out.Len()+k))
		}
		for q := rp.in; q < rp.end && q < len(tr.masked); q++ {
			tr.masked[q] = true
		}
		k, pos = next, rp.end
	}
	plain(pos + len(p) - k)
	tr.next = pos
	tr.ends = append(tr.ends, pos)
	tr.out.Write(p)
	return len(p), nil
}

// skipMasked accounts for input that the Writer passed over without
// writing: the rest of a masked run whose replacement went out before.
func (tr *tracer) skipMasked() {
	from := tr.next
	for ; tr.next < tr.w.base && tr.next < len(tr.masked); tr.next++ {
		tr.masked[tr.next] = true
	}
	if tr.next > from {
		tr.skips = append(tr.skips, tr.next)
	}
}

// checkReleases writes input in chunks, with window W and a Release after
// every chunk that release says, and checks, from the trace of what was
// written:
//
//   - every input byte goes out once, in order, as it is or inside a
//     replacement, and all of it by Close, each Release writing all there is;
//   - a match of the whole input's reference that no Write ends inside is
//     masked whole: releasing never shows a form that is complete after the
//     release point, nor the rest of one that began before it;
//   - only bytes that some complete form covered when they went out are
//     masked: the reference of the whole input, or of the input up to
//     where some Write ends;
//   - no pattern survives in the output outside the replacements.
func checkReleases(t *testing.T, r *Redactor, patterns []refPattern, input []byte, chunks []int, release []bool, window int) {
	t.Helper()
	tr := &tracer{input: input, masked: make([]bool, len(input))}
	w := r.NewWriter(tr)
	tr.w = w
	w.window = window
	fed := 0
	for i, size := range append(chunks, len(input)) {
		size = min(size, len(input)-fed)
		if n, err := w.Write(input[fed : fed+size]); err != nil || n != size {
			t.Fatalf("Write of %d bytes at offset %d = %d, %v", size, fed, n, err)
		}
		fed += size
		if w.base < fed-window {
			t.Fatalf("after %d input bytes, input %d on is held: more than the window of %d", fed, w.base, window)
		}
		if i < len(release) && release[i] {
			if err := w.Release(); err != nil {
				t.Fatalf("Release: %v", err)
			}
			tr.skipMasked()
			if tr.next != fed {
				t.Fatalf("Release after %d input bytes wrote up to input %d", fed, tr.next)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	tr.skipMasked()
	if tr.next != len(input) {
		t.Fatalf("after Close, %d of %d input bytes written", tr.next, len(input))
	}
	if len(tr.problems) > 0 {
		t.Fatalf("window %d: %s", window, strings.Join(tr.problems, "; "))
	}

	full, _ := referenceMatches(patterns, input, true)
	may := slices.Clone(tr.masked)
	mark := func(matches []refMatch) {
		for _, m := range matches {
			for q := m.start; q < m.end; q++ {
				may[q] = false
			}
		}
	}
	mark(full)
	for _, m := range full {
		if slices.ContainsFunc(tr.ends, func(e int) bool { return m.start < e && e < m.end }) {
			continue
		}
		if i := slices.Index(tr.masked[m.start:m.end], false); i >= 0 {
			t.Fatalf("window %d, released after %v: input byte %d, in a form at %d..%d that no release cuts, is shown",
				window, tr.ends, m.start+i, m.start, m.end)
		}
	}
	// A masked run that a release ended inside goes on, without a Write,
	// as far as the form found at a later Write or release reaches: the
	// input up to where it ends was decided as the end of the stream then.
	for _, e := range slices.Concat(tr.ends, tr.skips) {
		at, _ := referenceMatches(patterns, input[:e], true)
		mark(at)
	}
	if i := slices.Index(may, true); i >= 0 {
		t.Fatalf("window %d: input byte %d is masked, but no complete form covered it", window, i)
	}
	var spans [][2]int
	for at := 0; ; {
		i := bytes.Index(tr.out.Bytes()[at:], []byte("[REDACTED:"))
		if i < 0 {
			break
		}
		at += i
		end := at + bytes.IndexByte(tr.out.Bytes()[at:], ']') + 1
		spans = append(spans, [2]int{at, end})
		at = end
	}
	checkNoSurvivors(t, patterns, tr.out.Bytes(), spans)
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
// arbitrary secrets, input and chunking, and what Release and a short
// window may and may not show.
//
//   - values: up to six secret values separated by 0x00, named S0..S5.
//   - input: the raw input.
//   - splices: triples (where, which, cut) that insert pattern which at
//     where, whole if cut < 128 and otherwise cut short, so that the input
//     holds matches, near misses and overlaps that random bytes would not.
//   - cuts: the sizes of successive Writes (mod 40; 0 is an empty Write);
//     a Release follows each Write whose byte is 128 or more.
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
		release := make([]bool, len(cuts))
		for i, c := range cuts {
			chunks[i] = int(c) % 40
			release[i] = c >= 128
		}
		r := New(secrets)
		checkStream(t, r, patterns, input, chunks)
		checkReleases(t, r, patterns, input, chunks, release, r.holdBack)
		checkReleases(t, r, patterns, input, chunks, release, len(input)%24)
	})
}

// TestWriterMatchesReferenceRandom is the fuzzer's check on generated cases
// that are dense in overlaps: values drawn from a small alphabet share
// prefixes, suffixes and encodings, and inputs are made of their patterns,
// pieces of them and noise.
func TestWriterMatchesReferenceRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab/+=%:?AB01 \n\"\\\xe9"
	// The race detector slows the quadratic reference tenfold and finds
	// nothing in this single goroutine: fewer cases under it.
	cases := 600
	if raceEnabled {
		cases = 100
	}
	for range cases {
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
			switch n := rng.IntN(12); {
			case len(patterns) > 0 && n < 6:
				p := patterns[rng.IntN(len(patterns))].text
				input = append(input, p[rng.IntN(len(p)/2+1):len(p)-rng.IntN(2)]...)
			case n < 7:
				// A value, or most of one, wrapped at a random column.
				v := secrets[rng.IntN(len(secrets))].Value
				input = append(input, wrap(v[rng.IntN(2):], 1+rng.IntN(8), rng.IntN(2) == 0)...)
			case n < 9:
				// A hex dump of a value between other bytes, now and
				// then with a run of line breaks inside it, shorter or
				// longer than the views leave out.
				v := secrets[rng.IntN(len(secrets))].Value
				v = v[:len(v)-rng.IntN(2)]
				if rng.IntN(2) == 0 {
					k := rng.IntN(len(v) + 1)
					v = slices.Concat(v[:k], bytes.Repeat([]byte{"\n\r"[rng.IntN(2)]}, 1+rng.IntN(8)), v[k:])
				}
				data := slices.Concat([]byte(alphabet[:rng.IntN(5)]), v, []byte(alphabet[:rng.IntN(5)]))
				input = append(input, fakeDump(rng, data)...)
			default:
				input = append(input, alphabet[rng.IntN(len(alphabet))])
			}
		}
		// At most 40 Writes, each of up to about two shortest values.
		chunks := make([]int, rng.IntN(min(len(input), 40)+1))
		for i := range chunks {
			chunks[i] = rng.IntN(2*shortest + 4)
		}
		r := New(secrets)
		checkStream(t, r, patterns, input, chunks)
		release := make([]bool, len(chunks))
		for i := range release {
			release[i] = rng.IntN(4) == 0
		}
		checkReleases(t, r, patterns, input, chunks, release, r.holdBack)
		checkReleases(t, r, patterns, input, chunks, nil, 1+rng.IntN(2*shortest+8))
	}
}

// wrap breaks b into lines of width bytes, with "\n" or "\r\n".
func wrap(b []byte, width int, crlf bool) []byte {
	var out []byte
	for len(b) > width {
		out = append(out, b[:width]...)
		if crlf {
			out = append(out, '\r')
		}
		out = append(out, '\n')
		b = b[width:]
	}
	return append(out, b...)
}

// fakeDump writes data as one of the dump formats, width bytes a line, the
// way the tools lay them out.
func fakeDump(rng *rand.Rand, data []byte) []byte {
	width := 1 + rng.IntN(16)
	format := rng.IntN(5)
	var out []byte
	for off := 0; off < len(data); off += width {
		line := data[off:min(off+width, len(data))]
		ascii := bytes.Map(func(r rune) rune {
			if r < ' ' || r > '~' {
				return '.'
			}
			return r
		}, line)
		var hexes []string
		for _, c := range line {
			hexes = append(hexes, fmt.Sprintf("%02x", c))
		}
		switch format {
		case 0: // xxd -g2 -c width
			var groups []string
			for i := 0; i < len(hexes); i += 2 {
				groups = append(groups, strings.Join(hexes[i:min(i+2, len(hexes))], ""))
			}
			out = fmt.Appendf(out, "%08x: %-*s  %s\n", off, (width*5+1)/2, strings.Join(groups, " "), ascii)
		case 1: // hexdump -C
			out = fmt.Appendf(out, "%08x  %-*s |%s|\n", off, 3*width, strings.ToUpper(strings.Join(hexes, " ")), ascii)
		case 2: // od -An -tx1
			out = fmt.Appendf(out, " %s\n", strings.Join(hexes, " "))
		case 3: // od -tx1z
			out = fmt.Appendf(out, "%07o %s  >%s<\n", off, strings.Join(hexes, " "), ascii)
		case 4: // xxd -i
			out = fmt.Appendf(out, "  0x%s,\n", strings.Join(hexes, ", 0x"))
		}
	}
	return out
}
