package redact

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// The search is Wu–Manber: slide a window of w bytes, where w is at most the
// shortest pattern's length, and look up the hash of the window's last gram
// bytes in a shift table. The table says how far the window can move without
// passing the start of any pattern; only where it says 0 are patterns
// compared. In text that holds no secrets most windows move by nearly w.
const (
	gram      = 4  // bytes hashed per lookup; every pattern is at least this long
	hashBits  = 16 // shift table of 64 KiB
	maxWindow = 32 // longer windows fill the table and stop paying off
)

type index struct {
	window   int                   // w; 0 when there are no patterns
	longest  int                   // length of the longest pattern
	shift    *[1 << hashBits]uint8 // safe window move for each gram hash
	byPrefix map[uint32]span       // patterns sharing their first gram bytes
	heads    *bitset               // headHash of every pattern's first 1, 2, 3 and gram bytes
}

// A bitset is a filter over hashes: it keeps most positions away from the
// byPrefix map and the binary search.
type bitset [1 << hashBits / 64]uint64

func (b *bitset) add(x uint32)      { b[x/64%uint32(len(b))] |= 1 << (x % 64) }
func (b *bitset) has(x uint32) bool { return b[x/64%uint32(len(b))]&(1<<(x%64)) != 0 }

// A span is a run patterns[lo:hi] of the sorted patterns.
type span struct{ lo, hi int }

func gramHash(b []byte) uint32 {
	return binary.LittleEndian.Uint32(b) * 0x9E3779B1 >> (32 - hashBits)
}

// headHash hashes the first gram bytes of b, or all of b and its length if
// it is shorter.
func headHash(b []byte) uint32 {
	if len(b) >= gram {
		return gramHash(b)
	}
	v := uint32(len(b)) << 24
	for i, c := range b {
		v |= uint32(c) << (8 * i)
	}
	return v * 0x9E3779B1 >> (32 - hashBits)
}

// buildIndex indexes patterns, which must be sorted, distinct and at least
// gram bytes long.
func buildIndex(patterns [][]byte) index {
	if len(patterns) == 0 {
		return index{}
	}
	x := index{
		window:   maxWindow,
		shift:    new([1 << hashBits]uint8),
		byPrefix: make(map[uint32]span),
		heads:    new(bitset),
	}
	for _, p := range patterns {
		x.window = min(x.window, len(p))
		x.longest = max(x.longest, len(p))
	}
	// A gram ending at byte j of a pattern's first w bytes lets the window
	// move by w-1-j; a gram found in no pattern lets it move past itself.
	for i := range x.shift {
		x.shift[i] = uint8(x.window - gram + 1)
	}
	for _, p := range patterns {
		for j := gram - 1; j < x.window; j++ {
			h := gramHash(p[j+1-gram:])
			x.shift[h] = min(x.shift[h], uint8(x.window-1-j))
		}
	}
	for i, p := range patterns {
		for n := 1; n <= gram; n++ {
			x.heads.add(headHash(p[:n]))
		}
		key := binary.LittleEndian.Uint32(p)
		s, ok := x.byPrefix[key]
		if !ok {
			s.lo = i
		}
		s.hi = i + 1
		x.byPrefix[key] = s
	}
	return x
}

// What find found.
type hitKind uint8

const (
	noHit   hitKind = iota // no match starts in the data searched
	match                  // a complete, final match
	pending                // the data from start on may still become a match
)

type hit struct {
	kind    hitKind
	start   int // where the match or the pending tail starts
	pattern int // the pattern matched, for kind == match
}

// find returns the leftmost-longest match in data that starts at or after
// from. Unless final is set, data may continue: if an earlier position could
// still start a match, or a longer one, once more bytes arrive, find reports
// that position as pending instead.
func (r *Redactor) find(data []byte, from int, final bool) hit {
	if r.window == 0 {
		return hit{}
	}
	w := r.window
	i := from
	// Most windows of ordinary text move by the most the table allows,
	// far. That move is a constant, not the value read from the table: the
	// processor, predicting the branch, reads the next windows' grams
	// before the table has answered for this one.
	far := w - gram + 1
	for i+w <= len(data) {
		s := r.shift[gramHash(data[i+w-gram:])]
		if int(s) == far {
			i += far
			continue
		}
		if s != 0 {
			i += int(s)
			continue
		}
		if h := r.matchAt(data[i:], final); h.kind != noHit {
			h.start = i
			return h
		}
		i++
	}
	// Fewer than w bytes are left at i and beyond, too few for a whole
	// pattern, but they may begin one. Positions the last shift jumped over
	// are ruled out too: a pattern beginning there would hold the gram that
	// allowed the jump at a place the table accounts for.
	if !final {
		for ; i < len(data); i++ {
			if r.begins(data[i:]) {
				return hit{kind: pending, start: i}
			}
		}
	}
	return hit{}
}

// matchAt returns the longest pattern that s starts with, or pending if s is
// a proper prefix of a pattern and s may still grow. s is at least gram bytes.
func (r *Redactor) matchAt(s []byte, final bool) hit {
	if !r.heads.has(headHash(s)) {
		return hit{}
	}
	candidates, ok := r.byPrefix[binary.LittleEndian.Uint32(s)]
	if !ok {
		return hit{}
	}
	best := hit{}
	for i := candidates.lo; i < candidates.hi; i++ {
		p := r.patterns[i]
		if len(p) > len(s) {
			// p is longer than any match here, so if it may still
			// match, nothing can be decided yet.
			if !final && bytes.HasPrefix(p, s) {
				return hit{kind: pending}
			}
			continue
		}
		if bytes.HasPrefix(s, p) && (best.kind == noHit || len(p) > len(r.patterns[best.pattern])) {
			best = hit{kind: match, pattern: i}
		}
	}
	return best
}

// begins reports whether s is the beginning of some pattern.
func (r *Redactor) begins(s []byte) bool {
	if !r.heads.has(headHash(s)) {
		return false
	}
	if len(s) >= gram {
		candidates := r.byPrefix[binary.LittleEndian.Uint32(s)]
		for _, p := range r.patterns[candidates.lo:candidates.hi] {
			if bytes.HasPrefix(p, s) {
				return true
			}
		}
		return false
	}
	i, _ := slices.BinarySearchFunc(r.patterns, s, bytes.Compare)
	return i < len(r.patterns) && bytes.HasPrefix(r.patterns[i], s)
}
