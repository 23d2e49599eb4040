package redact

import (
	"bytes"
	"cmp"
	"slices"
)

// Matching runs over two views of the bytes, each mapped back to them:
//
//   - the text view is the bytes without their line breaks ('\r' and '\n',
//     up to a few in a row, see breakRun), so that a line break, whether a program
//     wrapped its output or a terminal turned "\n" into "\r\n", never
//     splits a pattern;
//   - the dump view is the bytes that the pairs of each run of consecutive
//     hex dump lines spell (dump.go), without their line breaks, which
//     are left out as in the text view.
//
// Both are searched for every pattern. Each match is a span of the input:
// from its first byte to its last, with any line breaks and dump columns in
// between; a match in the dump view also takes the rest of the line it ends
// on, where the dump's ASCII column shows the same bytes again.

// found is a match, in the coordinates of the buffer scanned.
type found struct {
	start, end int
	pattern    int
	dump       bool
}

// A scanner holds the buffers of scan, so that a Writer reuses them.
type scanner struct {
	text       []byte         // the text view
	gone       []int          // positions of the bytes the text view leaves out, in order
	dump       []byte         // the dump view of the current run of dump lines
	dumpAt     []int          // dumpAt[i]: position of dump[i]'s first hex digit
	dumpBreaks int            // line breaks the dump view's current run ends with
	lines      []dumpLineSpan // the current run's lines
	dumpLines  []dumpLineSpan // every line that is or may be a dump line
	pairs      []int
	found      []found
}

// dumpLineSpan is one line of a run of dump lines: the index in the dump
// view of its first byte, and where it starts and ends (before its '\n').
type dumpLineSpan struct{ first, start, end int }

// scan finds the matches in buf and returns cut, the position from which
// buf is undecided: from there on, more bytes could still make or extend a
// match. s.found gets the matches that start before cut, in order of start,
// the longer first. buf[0] starts a line if lineStart. If final, buf is the
// rest of the stream and cut is len(buf).
func (r *Redactor) scan(s *scanner, buf []byte, lineStart, final bool) int {
	s.found = s.found[:0]
	if r.window == 0 {
		return len(buf)
	}
	text := s.textView(buf, r.maxBreak)
	cut := r.scanDumps(s, buf, lineStart, final)
	for from := 0; ; {
		h := r.find(text, from, final)
		if h.kind == noHit {
			break
		}
		if h.kind == pending {
			cut = min(cut, s.textPos(h.start))
			break
		}
		last := h.start + len(r.patterns[h.pattern]) - 1
		s.found = append(s.found, found{s.textPos(h.start), s.textPos(last) + 1, h.pattern, false})
		from = h.start + 1
	}
	// A dump line is decided as a whole: the held tail must start at a
	// line start, or in a line that is no dump line. At the end of the
	// stream everything is decided, an unfinished last line included.
	if i, ok := slices.BinarySearchFunc(s.dumpLines, cut, func(l dumpLineSpan, cut int) int {
		return cmp.Compare(l.start, cut)
	}); !final && !ok && i > 0 && cut <= s.dumpLines[i-1].end {
		cut = s.dumpLines[i-1].start
	}
	s.found = slices.DeleteFunc(s.found, func(f found) bool { return f.start >= cut })
	slices.SortFunc(s.found, func(a, b found) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end), cmp.Compare(r.owner[a.pattern], r.owner[b.pattern]))
	})
	return cut
}

// breakRun returns the longest run of line-break bytes ('\r' and '\n')
// that the text view leaves out for values: at least 4, enough for "\n",
// "\r\n", a pseudo-terminal's "\r\r\n" and a blank line; more if a value
// holds a longer run, which a pseudo-terminal may double ("\n" becomes
// "\r\n") and a wrap may lengthen by 2. A longer run keeps its later bytes,
// which end any match: otherwise a tail that begins a value, followed by
// line breaks without end, would be held back without end.
func breakRun(values [][]byte) int {
	longest := 0
	for _, v := range values {
		run := 0
		for _, c := range v {
			if c == '\n' || c == '\r' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return max(4, 2*longest+2)
}

// textView returns buf without its line breaks, runs of at most maxBreak
// '\r' and '\n' (see breakRun), and records where they were.
func (s *scanner) textView(buf []byte, maxBreak int) []byte {
	s.gone = s.gone[:0]
	nextN, nextR := indexFrom(buf, 0, '\n'), indexFrom(buf, 0, '\r')
	if nextN == len(buf) && nextR == len(buf) {
		return buf
	}
	if cap(s.text) < len(buf) {
		s.text = make([]byte, len(buf))
	}
	text := s.text[:len(buf)]
	n := 0
	for i := 0; i < len(buf); {
		if nextN < i {
			nextN = indexFrom(buf, i, '\n')
		}
		if nextR < i {
			nextR = indexFrom(buf, i, '\r')
		}
		j := min(nextN, nextR)
		n += copy(text[n:], buf[i:j])
		// Leave out the first maxBreak bytes of the run of line breaks at j
		// and keep the rest, which no pattern holds.
		for k := 0; j < len(buf) && (buf[j] == '\n' || buf[j] == '\r'); j, k = j+1, k+1 {
			if k < maxBreak {
				s.gone = append(s.gone, j)
			} else {
				text[n] = buf[j]
				n++
			}
		}
		i = j
	}
	return text[:n]
}

// indexFrom returns the index of the first c in buf at or after from, or
// len(buf).
func indexFrom(buf []byte, from int, c byte) int {
	if i := bytes.IndexByte(buf[from:], c); i >= 0 {
		return from + i
	}
	return len(buf)
}

// textPos returns the position in the buffer of byte v of the text view.
func (s *scanner) textPos(v int) int {
	// gone[k]-k is the index in the view of the first byte after the k-th
	// byte left out; count those at or before v.
	lo, hi := 0, len(s.gone)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.gone[m]-m <= v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return v + lo
}

// scanDumps finds the matches in the dump view of buf's dump lines and
// returns the position from which the dump lines are undecided: the start
// of an incomplete line that may still be a dump line, or of the line on
// which a match may still begin in an unfinished run.
func (r *Redactor) scanDumps(s *scanner, buf []byte, lineStart, final bool) int {
	s.dump, s.dumpAt, s.lines, s.dumpLines = s.dump[:0], s.dumpAt[:0], s.lines[:0], s.dumpLines[:0]
	s.dumpBreaks = 0
	k := 0 // the next '\n' is at s.gone[k] or later
	nextLine := func() (end int, complete bool) {
		for ; k < len(s.gone); k++ {
			if buf[s.gone[k]] == '\n' {
				k++
				return s.gone[k-1], true
			}
		}
		return len(buf), final
	}
	start := 0
	if !lineStart {
		// The first line began before buf and was not a dump line.
		end, complete := nextLine()
		if !complete || end == len(buf) {
			return len(buf)
		}
		start = end + 1
	}
	for start < len(buf) {
		end, complete := nextLine()
		kind := notDump
		if mayBeDump(buf[start:end]) {
			kind, s.pairs = dumpLine(buf[start:end], complete, s.pairs[:0])
		}
		switch kind {
		case maybeDump:
			s.dumpLines = append(s.dumpLines, dumpLineSpan{0, start, end})
			return min(start, r.scanDumpRun(s, buf, false))
		case notDump:
			if len(s.lines) > 0 {
				r.scanDumpRun(s, buf, true)
			}
		case isDump:
			s.lines = append(s.lines, dumpLineSpan{len(s.dump), start, end})
			s.dumpLines = append(s.dumpLines, s.lines[len(s.lines)-1])
			for _, q := range s.pairs {
				q += start
				// Line breaks are left out as in the text view: a run
				// of up to maxBreak, the rest kept to end any match.
				b := hexValue(buf[q])<<4 | hexValue(buf[q+1])
				if b != '\n' && b != '\r' {
					s.dumpBreaks = 0
				} else if s.dumpBreaks++; s.dumpBreaks <= r.maxBreak {
					continue
				}
				s.dump = append(s.dump, b)
				s.dumpAt = append(s.dumpAt, q)
			}
		}
		start = end + 1
	}
	// The run, if any, may go on in the next line unless the stream ended.
	return r.scanDumpRun(s, buf, final)
}

// scanDumpRun searches the current run of dump lines, empties it, and
// returns the start of the line from which it is undecided, or len(buf).
func (r *Redactor) scanDumpRun(s *scanner, buf []byte, final bool) int {
	cut := len(buf)
	for from := 0; from < len(s.dump); {
		h := r.find(s.dump, from, final)
		if h.kind == noHit {
			break
		}
		if h.kind == pending {
			cut = s.lines[s.lineOf(h.start)].start
			break
		}
		last := h.start + len(r.patterns[h.pattern]) - 1
		s.found = append(s.found, found{s.dumpAt[h.start], s.lines[s.lineOf(last)].end, h.pattern, true})
		from = h.start + 1
	}
	s.dump, s.dumpAt, s.lines, s.dumpBreaks = s.dump[:0], s.dumpAt[:0], s.lines[:0], 0
	return cut
}

// lineOf returns the index in s.lines of the line that holds byte i of the
// dump view.
func (s *scanner) lineOf(i int) int {
	lo, hi := 0, len(s.lines)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.lines[m].first <= i {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}
