package redact

import (
	"bytes"
	"cmp"
	"slices"
)

// MinLen is the shortest value that is masked. Shorter values would mask
// ordinary words and numbers in the output; New skips them and Skipped names
// them so that the caller can warn. Line breaks in a value do not count:
// the text view matches without them.
const MinLen = 4

// Every pattern must be at least gram bytes long. The shortest is the
// embedded base64 of a MinLen-byte value at offset 1: 4 characters when
// MinLen is 4. This fails to compile if MinLen drops below gram.
const _ = uint(MinLen - gram)

// A Secret is a value to mask and the name that replaces it.
type Secret struct {
	Name  string
	Value []byte
}

// A Redactor is an immutable set of patterns, safe for concurrent use by any
// number of Writers.
type Redactor struct {
	patterns     [][]byte // every distinct pattern, sorted; slices of one buffer
	owner        []int    // owner[i] indexes names and replacements for patterns[i]
	form         []Form   // form[i] is the encoding patterns[i] is
	names        []string // the masked secrets' names
	replacements [][]byte // "[REDACTED:NAME]" per masked secret
	skipped      []string
	maxBreak     int // the longest run of line-break bytes the text view leaves out
	holdBack     int // W, the input a Writer keeps ahead of its output (holdBackFor)
	index
}

// New builds the patterns for secrets: each value of at least MinLen bytes
// and its encodings (see the package documentation). When two secrets share
// a pattern, the one that comes first in secrets names it. New copies what it
// keeps; the caller may reuse the values afterwards.
func New(secrets []Secret) *Redactor {
	r := &Redactor{}
	type candidate struct {
		encoding
		owner int
		order int
	}
	var candidates []candidate
	var values [][]byte
	for _, s := range secrets {
		if len(withoutLineBreaks(s.Value)) < MinLen {
			r.skipped = append(r.skipped, s.Name)
			continue
		}
		values = append(values, s.Value)
		owner := len(r.replacements)
		r.names = append(r.names, s.Name)
		r.replacements = append(r.replacements, []byte("[REDACTED:"+s.Name+"]"))
		for _, f := range forms(s.Value) {
			candidates = append(candidates, candidate{f, owner, len(candidates)})
		}
	}
	// Sorting by owner and then by the order forms listed them, and keeping
	// the first of each run, gives a shared pattern to the earliest secret
	// and to its first form.
	slices.SortFunc(candidates, func(a, b candidate) int {
		return cmp.Or(bytes.Compare(a.text, b.text), cmp.Compare(a.owner, b.owner), cmp.Compare(a.order, b.order))
	})
	candidates = slices.CompactFunc(candidates, func(a, b candidate) bool {
		return bytes.Equal(a.text, b.text)
	})

	// One buffer holds the single copy of every pattern the Redactor keeps.
	size := 0
	for _, c := range candidates {
		size += len(c.text)
	}
	buf := make([]byte, 0, size)
	for _, c := range candidates {
		start := len(buf)
		buf = append(buf, c.text...)
		r.patterns = append(r.patterns, buf[start:len(buf):len(buf)])
		r.owner = append(r.owner, c.owner)
		r.form = append(r.form, c.form)
	}
	r.index = buildIndex(r.patterns)
	r.maxBreak = breakRun(values)
	r.holdBack = holdBackFor(r.longest, r.maxBreak)
	return r
}

// The window W is the least power of two, up to maxHoldBack, that covers
// the input any one match can span: a pattern of n bytes spans at most
// n*(maxBreak+1) bytes of text with a line break after every byte, and at
// most n*dumpBytesPerByte bytes of a hex dump, one byte a line (xxd -c1
// with a 16-digit offset and "\r\n" prints 25), after the start of the
// line the match begins on (at most maxDumpLine). It depends on nothing but
// the lengths of the patterns. A span beyond it (a dump padded with
// pairs of line breaks, a window capped for a 64 KiB value) is released
// as Release would: the part before the window shows, the rest is masked.
const (
	dumpBytesPerByte = 32
	maxHoldBack      = 1 << 20
)

func holdBackFor(longest, maxBreak int) int {
	if longest == 0 {
		return 0
	}
	span := max(longest*(maxBreak+1), longest*dumpBytesPerByte+maxDumpLine)
	w := 1
	for w < span && w < maxHoldBack {
		w <<= 1
	}
	return w
}

// Skipped returns the names of the secrets whose values were shorter than
// MinLen and are therefore not masked, in the order given to New.
func (r *Redactor) Skipped() []string {
	return slices.Clone(r.skipped)
}

// A Match is one place where a secret was found.
type Match struct {
	Secret     string // the secret's name
	Form       Form   // the encoding found
	Start, End int    // the bytes masked: data[Start:End]
}

// Find returns every match in data, taken as a whole stream, in order of
// Start: at each position where a pattern begins, the longest. Matches may
// overlap; a Writer masks their union. It is the engine a Writer uses, for
// callers that report where secrets are rather than mask them.
func (r *Redactor) Find(data []byte) []Match {
	var s scanner
	r.scan(&s, data, true, true)
	matches := make([]Match, len(s.found))
	for i, f := range s.found {
		matches[i] = r.match(f, 0)
	}
	return matches
}

// match describes f, found offset bytes into the stream.
func (r *Redactor) match(f found, offset int) Match {
	form := r.form[f.pattern]
	if f.dump {
		form = FormDump
	}
	return Match{r.names[r.owner[f.pattern]], form, offset + f.start, offset + f.end}
}
