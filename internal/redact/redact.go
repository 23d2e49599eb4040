package redact

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
)

// MinLen is the shortest value that is masked. Shorter values would mask
// ordinary words and numbers in the output; New skips them and Skipped names
// them so that the caller can warn.
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
	owner        []int    // owner[i] indexes replacements for patterns[i]
	replacements [][]byte // "[REDACTED:NAME]" per masked secret
	skipped      []string
	index
}

// New builds the patterns for secrets: each value of at least MinLen bytes
// and its encodings (see the package documentation). When two secrets share
// a pattern, the one that comes first in secrets names it. New copies what it
// keeps; the caller may reuse the values afterwards.
func New(secrets []Secret) *Redactor {
	r := &Redactor{}
	type candidate struct {
		text  []byte
		owner int
	}
	var candidates []candidate
	for _, s := range secrets {
		if len(s.Value) < MinLen {
			r.skipped = append(r.skipped, s.Name)
			continue
		}
		owner := len(r.replacements)
		r.replacements = append(r.replacements, []byte("[REDACTED:"+s.Name+"]"))
		for _, f := range forms(s.Value) {
			candidates = append(candidates, candidate{f, owner})
		}
	}
	// Sorting by owner second and keeping the first of each run gives a
	// shared pattern to the earliest secret.
	slices.SortFunc(candidates, func(a, b candidate) int {
		return cmp.Or(bytes.Compare(a.text, b.text), cmp.Compare(a.owner, b.owner))
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
	}
	r.index = buildIndex(r.patterns)
	return r
}

// Skipped returns the names of the secrets whose values were shorter than
// MinLen and are therefore not masked, in the order given to New.
func (r *Redactor) Skipped() []string {
	return slices.Clone(r.skipped)
}

// forms returns v and every encoding of v that is masked. It may contain
// duplicates (for example the padded and unpadded base64 of a value whose
// length is a multiple of 3); New removes them.
func forms(v []byte) [][]byte {
	lowerHex := hex.AppendEncode(nil, v)
	f := [][]byte{
		v,
		base64.StdEncoding.AppendEncode(nil, v),
		base64.RawStdEncoding.AppendEncode(nil, v),
		base64.URLEncoding.AppendEncode(nil, v),
		base64.RawURLEncoding.AppendEncode(nil, v),
		lowerHex,
		bytes.ToUpper(lowerHex),
		[]byte(url.QueryEscape(string(v))),
		[]byte(url.PathEscape(string(v))),
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for offset := range 3 {
			f = append(f, embeddedBase64(enc, v, offset))
		}
	}
	// On a pseudo-terminal the line discipline turns every \n the child
	// writes into \r\n (ONLCR): a multi-line value, such as a PEM key,
	// reaches llms in that form.
	if bytes.IndexByte(v, '\n') >= 0 {
		f = append(f, bytes.ReplaceAll(v, []byte("\n"), []byte("\r\n")))
	}
	return f
}

// embeddedBase64 returns the part of the base64 encoding of v that is the
// same wherever v sits in a longer encoded string, given that v starts offset
// bytes past a multiple of 3: the characters whose six bits all come from v.
// The characters at either end also carry bits of v's neighbours, so they
// vary and are left out.
func embeddedBase64(enc *base64.Encoding, v []byte, offset int) []byte {
	shifted := make([]byte, offset+len(v))
	copy(shifted[offset:], v)
	e := enc.AppendEncode(nil, shifted)
	first := (8*offset + 5) / 6      // first character that starts at or after bit 8*offset
	end := 8 * (offset + len(v)) / 6 // characters before end finish at or before v's last bit
	return e[first:end]
}
