package redact

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// referenceBefore returns, for each input position p (and len(input)),
// how many bytes of the whole input's reference output stand for the
// input before p: a replacement belongs to the position where its run
// starts.
func referenceBefore(patterns []refPattern, input []byte) []int {
	matches, _ := referenceMatches(patterns, input, true)
	names := make([]string, len(input)) // the replacement that starts at p
	inRun := make([]bool, len(input))
	end := 0
	for _, m := range matches {
		if m.start >= end {
			names[m.start] = patterns[m.pattern].name
		}
		for q := max(m.start, end); q < m.end; q++ {
			inRun[q] = true
		}
		end = max(end, m.end)
	}
	before := make([]int, len(input)+1)
	for p := range input {
		switch {
		case names[p] != "":
			before[p+1] = before[p] + len(names[p])
		case inRun[p]:
			before[p+1] = before[p]
		default:
			before[p+1] = before[p] + 1
		}
	}
	return before
}

// TestReleaseByPosition: after each Write, exactly the output for the input
// before the stream's length minus W has been written, one Write to the
// destination at most per Write to the Writer; Close writes the rest.
func TestReleaseByPosition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	secrets := benchSecrets(rng)
	r := New(secrets)
	patterns := referencePatterns(secrets)
	input := benchOutput(rng, secrets, true)[:5*r.holdBack/2]
	want, _ := referenceMask(patterns, input, true)
	before := referenceBefore(patterns, input)
	if !bytes.Contains(want, []byte("[REDACTED:")) {
		t.Fatal("the input holds no secret")
	}
	dst := &countingWriter{}
	w := r.NewWriter(dst)
	for fed := 0; fed < len(input); {
		n := min(len(input)-fed, 1+rng.IntN(r.holdBack/4))
		calls := dst.calls
		if _, err := w.Write(input[fed : fed+n]); err != nil {
			t.Fatal(err)
		}
		fed += n
		upTo := before[max(0, fed-r.holdBack)]
		if firstDifference(dst.Bytes(), want[:upTo]) >= 0 || dst.calls > calls+1 {
			t.Fatalf("after %d input bytes: %d bytes written in %d calls, want %d of the reference",
				fed, dst.Len(), dst.calls-calls, upTo)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if firstDifference(dst.Bytes(), want) >= 0 {
		t.Fatalf("after Close: %d bytes written, differs from the reference's %d", dst.Len(), len(want))
	}
}

// A write is one call to a Writer's destination: which input call caused
// it and how long it was.
type write struct{ step, n int }

type scheduleWriter struct {
	bytes.Buffer
	step   int
	writes []write
}

func (s *scheduleWriter) Write(p []byte) (int, error) {
	s.writes = append(s.writes, write{s.step, len(p)})
	return s.Buffer.Write(p)
}

// TestScheduleIgnoresContent: a probe that is a proper prefix of a form of
// a secret and one of the same length that begins no pattern give the same
// writes (which call, how many bytes) whether the stream goes on past the
// window or is released; neither is replaced. This is what a Writer hides
// from a reader who puts bytes into the stream.
func TestScheduleIgnoresContent(t *testing.T) {
	r := New([]Secret{{Name: "PW", Value: []byte(exampleValue)}})
	filler := []byte(strings.Repeat("|", 79) + "\n")
	rng := rand.New(rand.NewPCG(7, 8))
	for i, form := range r.patterns {
		for _, k := range []int{1, len(form) / 2, len(form) - 1} {
			prefix := form[:k]
			if len(r.Find(prefix)) > 0 {
				continue // a shorter form, complete: it is replaced
			}
			other := slices.Clone(prefix)
			other[k-1] = '|'
			if r.begins(other) {
				t.Fatalf("form %d: the non-prefix probe begins a pattern", i)
			}
			// Filler around the probe, in chunks cut the same way for
			// both probes: W/3 before, then the probe, then a Release or
			// not, then twice W.
			var steps [][]byte
			for n := 0; n < r.holdBack/3; n += len(filler) {
				steps = append(steps, filler)
			}
			at := len(steps)
			steps = append(steps, nil)
			for n := 0; n < 2*r.holdBack; {
				c := filler[:1+rng.IntN(len(filler))]
				steps = append(steps, c)
				n += len(c)
			}
			for _, release := range []bool{false, true} {
				var got [2]*scheduleWriter
				for j, probe := range [][]byte{prefix, other} {
					steps[at] = probe
					dst := &scheduleWriter{}
					w := r.NewWriter(dst)
					for s, p := range steps {
						dst.step = s
						if _, err := w.Write(p); err != nil {
							t.Fatal(err)
						}
						if s == at && release {
							if err := w.Release(); err != nil {
								t.Fatal(err)
							}
						}
					}
					dst.step = len(steps)
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					if bytes.Contains(dst.Bytes(), []byte("[REDACTED")) {
						t.Fatalf("form %d, %d bytes, probe %d: a probe was replaced", i, k, j)
					}
					got[j] = dst
				}
				if a, b := got[0].writes, got[1].writes; !slices.Equal(a, b) {
					d := 0
					for d < min(len(a), len(b)) && a[d] == b[d] {
						d++
					}
					t.Fatalf("form %d, prefix of %d bytes, release %v: %d writes for the prefix, %d for the other probe, first different: %d",
						i, k, release, len(a), len(b), d)
				}
			}
		}
	}
}

// TestReleaseContinuesMatching: Release writes what is held, masking the
// complete forms in it, and keeps it as context: a form completed by
// later bytes is masked from where the release ended, with one
// replacement, and one that only grows goes on under the replacement
// already written.
func TestReleaseContinuesMatching(t *testing.T) {
	r := New([]Secret{{Name: "PW", Value: []byte(exampleValue)}})
	for i, tc := range []struct {
		writes []string // Release after each but the last
		want   []string // written after each Release, and after Close
	}{
		{[]string{"x p@ss", " w?>>rd y"}, []string{"x p@ss", "x p@ss[REDACTED:PW] y"}},
		// Unpadded base64 is complete; the padding extends the run.
		{[]string{"k=cEBzcyB3Pz4+cmQ", "=\n"}, []string{"k=[REDACTED:PW]", "k=[REDACTED:PW]\n"}},
		{[]string{"p@ss w?>>rd p@", "ss w?>>rd"}, []string{"[REDACTED:PW] p@", "[REDACTED:PW] p@[REDACTED:PW]"}},
		// Released twice, then completed: one replacement.
		{[]string{"p@s", "s w", "?>>rd!"}, []string{"p@s", "p@ss w", "p@ss w[REDACTED:PW]!"}},
		// Nothing after the release continues the form.
		{[]string{"p@ss w?", ">rd"}, []string{"p@ss w?", "p@ss w?>rd"}},
		// A hex dump line, released before its end.
		{[]string{"00000000: 7040 7373 2077", " 3f3e 3e72 64  p@ss w?>>rd\n"},
			[]string{"00000000: 7040 7373 2077", "00000000: 7040 7373 2077[REDACTED:PW]\n"}},
	} {
		dst := &countingWriter{}
		w := r.NewWriter(dst)
		for j, s := range tc.writes {
			if _, err := w.Write([]byte(s)); err != nil {
				t.Fatal(err)
			}
			calls := dst.calls
			var err error
			if j < len(tc.writes)-1 {
				err = w.Release()
			} else {
				err = w.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			if dst.String() != tc.want[j] || dst.calls > calls+1 {
				t.Fatalf("case %d, step %d: wrote %q in %d calls, want %q in one", i, j, dst.String(), dst.calls-calls, tc.want[j])
			}
		}
	}
	dst := &countingWriter{}
	w := r.NewWriter(dst)
	for range 3 {
		if err := w.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if dst.calls != 0 {
		t.Fatal("Release with nothing held wrote")
	}
}

// TestWindowCoversForms: W is long enough that a form of the longest value
// never needs a release before it is complete, however it is laid out:
// a line break of the longest run after every byte, or a hex dump with one
// byte a line and 16-digit offsets, fed a byte at a time.
func TestWindowCoversForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	secrets := benchSecrets(rng)
	r := New(secrets)
	patterns := referencePatterns(secrets)
	var longest []byte
	for _, s := range secrets {
		if len(s.Value) > len(longest) {
			longest = s.Value
		}
	}
	var layouts [][]byte
	for _, p := range r.patterns {
		if len(p) == r.longest {
			var spread []byte
			for _, c := range p {
				spread = append(spread, c)
				spread = append(spread, strings.Repeat("\r\n", r.maxBreak/2)...)
			}
			layouts = append(layouts, spread)
		}
	}
	var dump []byte
	for i, c := range longest {
		dump = fmt.Appendf(dump, "%016x: %02x  .\r\n", i, c)
	}
	layouts = append(layouts, dump)
	for i, layout := range layouts {
		input := slices.Concat([]byte("before\n"), layout, []byte("after\n"))
		want, _ := referenceMask(patterns, input, true)
		var dst bytes.Buffer
		w := r.NewWriter(&dst)
		for _, c := range input {
			if _, err := w.Write([]byte{c}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if d := firstDifference(dst.Bytes(), want); d >= 0 || !bytes.Contains(want, []byte("[REDACTED:")) {
			t.Fatalf("layout %d (%d bytes, W %d): output differs from the reference at byte %d", i, len(layout), r.holdBack, d)
		}
	}
}
