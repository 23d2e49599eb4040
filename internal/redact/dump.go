package redact

// Hex dumps print a value's bytes as hex pairs in lines that also carry an
// offset column and an ASCII column, so no fixed pattern spans two lines of
// one. The dump view decodes the pairs of consecutive dump lines back into
// bytes, and the patterns are matched there as well.
//
// A dump line, without its line break (and a '\r' before it), is one of:
//
//	OFFSET: GROUP( GROUP)*[  ASCII]         xxd, with any -c, -g or -u
//	OFFSET PAIR(SP PAIR)*[ SP|ASCII]        hexdump -C
//	OFFSET PAIR( PAIR)*[  >ASCII<]          od -tx1, any -A, with or without z
//	 PAIR( PAIR)*[  >ASCII<]                od -An -tx1
//	  0xPAIR(, 0xPAIR)*[,]                  xxd -i
//
// OFFSET is 6 to 16 hex digits; GROUP one or more PAIRs; PAIR two hex digits
// in either case; SP one or two spaces; ASCII anything. Little-endian
// groups (xxd -e, od -tx2, plain hexdump) do not spell the bytes in order
// and are not decoded.

type lineKind uint8

const (
	notDump   lineKind = iota
	isDump             // a dump line: its pairs are in the result
	maybeDump          // an incomplete line that may still become a dump line
)

// maxDumpLine bounds the length of a dump line, and so how long an
// incomplete line that looks like one is held back. xxd's widest line
// (-c 256) is under 1,000 bytes.
const maxDumpLine = 4096

func isHexDigit(c byte) bool { return hexDigits[c] }

// hexDigits is a table: one load per byte instead of three ranges, for
// mayBeDump, which looks at the start of every line.
var hexDigits = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// hexValue returns the value of a hex digit.
func hexValue(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// mayBeDump is a quick test that rules out most lines that are not dump
// lines, or the start of one: it looks at the first six bytes at most.
func mayBeDump(line []byte) bool {
	if len(line) == 0 {
		return false
	}
	if line[0] == ' ' {
		if len(line) < 3 {
			return true
		}
		return isHexDigit(line[1]) || line[1] == ' ' && line[2] == '0'
	}
	// An offset: at least six hex digits.
	for _, c := range line[:min(len(line), 6)] {
		if !isHexDigit(c) {
			return false
		}
	}
	return true
}

// dumpLine classifies line, which holds no '\n'. If complete, the line is
// whole; otherwise more of it may follow. For a dump line it appends to pairs
// the offset in line of each byte's first hex digit, and returns the result.
// It does not allocate beyond what append needs.
func dumpLine(line []byte, complete bool, pairs []int) (lineKind, []int) {
	if len(line) > maxDumpLine {
		return notDump, pairs
	}
	if complete && len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	p := dumpParser{line: line, complete: complete, pairs: pairs}
	kind := p.parse()
	if kind != isDump {
		return kind, pairs
	}
	return isDump, p.pairs
}

type dumpParser struct {
	line     []byte
	i        int
	complete bool
	pairs    []int
}

// end reports whether the parser is at the end of what it has; short is the
// result for an end that more input could extend.
func (p *dumpParser) atEnd() bool { return p.i >= len(p.line) }

func (p *dumpParser) short() lineKind {
	if p.complete {
		return notDump
	}
	return maybeDump
}

// done is the result when the pairs are over and the rest of the line, if
// any, is an ASCII column: the line is a dump line, but only once its end
// is known, since a match that ends on it masks it to the end.
func (p *dumpParser) done() lineKind {
	if !p.complete {
		return maybeDump
	}
	return isDump
}

func (p *dumpParser) parse() lineKind {
	line := p.line
	if len(line) == 0 {
		return p.short()
	}
	if line[0] == ' ' {
		return p.indented()
	}
	// OFFSET
	for p.i < len(line) && isHexDigit(line[p.i]) {
		p.i++
	}
	if p.atEnd() {
		if p.i <= 16 {
			return p.short()
		}
		return notDump
	}
	if p.i < 6 || p.i > 16 {
		return notDump
	}
	switch line[p.i] {
	case ':':
		p.i++
		return p.xxd()
	case ' ':
		return p.spacedPairs(2)
	}
	return notDump
}

// indented is od -An -tx1 (" 70 40") or xxd -i ("  0x70, 0x40,").
func (p *dumpParser) indented() lineKind {
	line := p.line
	n := 0
	for n < len(line) && line[n] == ' ' {
		n++
	}
	switch {
	case n == len(line):
		if n <= 2 {
			return p.short()
		}
		return notDump
	case n == 1:
		return p.spacedPairs(1)
	case n == 2 && line[n] == '0':
		p.i = n
		return p.cArray()
	}
	return notDump
}

// pair reads two hex digits at p.i.
func (p *dumpParser) pair() (ok, short bool) {
	for k := range 2 {
		if p.i+k >= len(p.line) {
			return false, true
		}
		if !isHexDigit(p.line[p.i+k]) {
			return false, false
		}
	}
	p.pairs = append(p.pairs, p.i)
	p.i += 2
	return true, false
}

// nextPair reads a pair at p.i. It reports the line's kind, and true, once
// that is settled: no pair here, too little of the line to tell, or the
// line ends after the pair.
func (p *dumpParser) nextPair() (lineKind, bool) {
	ok, short := p.pair()
	switch {
	case short:
		return p.short(), true
	case !ok:
		return notDump, true
	case p.atEnd():
		return p.done(), true
	}
	return notDump, false
}

// xxd reads " GROUP( GROUP)*" and an optional ASCII column after two
// spaces, from just after the offset's colon.
func (p *dumpParser) xxd() lineKind {
	line := p.line
	if p.atEnd() {
		return p.short()
	}
	if line[p.i] != ' ' {
		return notDump
	}
	p.i++
	for {
		if p.atEnd() {
			return p.short()
		}
		if !isHexDigit(line[p.i]) {
			return notDump
		}
		for {
			if kind, settled := p.nextPair(); settled {
				return kind
			}
			if line[p.i] == ' ' {
				break
			}
		}
		p.i++ // one space
		if p.atEnd() {
			return p.short()
		}
		if line[p.i] == ' ' {
			return p.done() // two spaces: the ASCII column
		}
	}
}

// spacedPairs reads "SP PAIR(SP PAIR)*" with gap spaces between pairs
// (hexdump -C has two in the middle of a line), then an optional ASCII
// column that starts with '|' or '>' after spaces. A line from an offset
// may end after its offset alone only if incomplete.
func (p *dumpParser) spacedPairs(gap int) lineKind {
	line := p.line
	for {
		// spaces
		n := 0
		for p.i < len(line) && line[p.i] == ' ' {
			p.i++
			n++
		}
		if p.atEnd() {
			if len(p.pairs) > 0 && p.complete {
				return isDump // trailing spaces
			}
			return p.short()
		}
		c := line[p.i]
		if (c == '|' || c == '>') && len(p.pairs) > 0 && n >= 1 {
			return p.done()
		}
		if n < 1 || n > gap || !isHexDigit(c) {
			return notDump
		}
		if kind, settled := p.nextPair(); settled {
			return kind
		}
		if line[p.i] != ' ' {
			return notDump
		}
	}
}

// cArray reads "0xPAIR(, 0xPAIR)*[,]" from the first '0'.
func (p *dumpParser) cArray() lineKind {
	line := p.line
	for {
		for _, want := range "0x" {
			if p.atEnd() {
				return p.short()
			}
			if rune(line[p.i]) != want {
				return notDump
			}
			p.i++
		}
		if kind, settled := p.nextPair(); settled {
			return kind
		}
		if line[p.i] != ',' {
			return notDump
		}
		p.i++
		if p.atEnd() {
			return p.done()
		}
		if line[p.i] != ' ' {
			return notDump
		}
		p.i++
	}
}
