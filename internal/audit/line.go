package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// timeLayout is RFC 3339 with a fixed-width fraction, so that each instant
	// has exactly one spelling and lines sort as text.
	timeLayout = "2006-01-02T15:04:05.000000000Z"
	// maxLineBytes bounds a line, '\n' included, so that a reader never holds
	// more than this per line however the file was damaged.
	maxLineBytes = 1 << 20
	macHexLen    = 2 * sha256.Size
)

// genesis stands in for the MAC before the first line. Hashing a versioned
// label (rather than using zeros) ties every chain to this format.
var genesis = sha256.Sum256([]byte("llm-secrets audit log v1"))

var closeBrace = []byte("}")

// chainMAC returns HMAC(key, prev ‖ body ‖ "}"), where body is a line's
// canonical bytes up to its mac member; h is an HMAC-SHA256 keyed by the
// audit key.
func chainMAC(h hash.Hash, prev *[sha256.Size]byte, body []byte) (sum [sha256.Size]byte) {
	h.Reset()
	h.Write(prev[:])
	h.Write(body)
	h.Write(closeBrace)
	h.Sum(sum[:0])
	return sum
}

// appendLine appends e as a complete canonical line, '\n' included, chained
// onto *prev, and sets *prev to the new line's MAC. e.MAC is ignored.
func appendLine(dst []byte, h hash.Hash, prev *[sha256.Size]byte, e *Entry) []byte {
	start := len(dst)
	dst = appendBody(dst, e)
	*prev = chainMAC(h, prev, dst[start:])
	dst = append(dst, `,"mac":"`...)
	dst = hex.AppendEncode(dst, prev[:])
	return append(dst, "\"}\n"...)
}

// appendBody appends the canonical bytes of e from '{' through the pid value:
// the line without its mac member and closing brace.
func appendBody(dst []byte, e *Entry) []byte {
	dst = append(dst, `{"time":"`...)
	dst = e.Time.UTC().AppendFormat(dst, timeLayout)
	dst = append(dst, `","seq":`...)
	dst = strconv.AppendUint(dst, e.Seq, 10)
	dst = append(dst, `,"event":`...)
	dst = appendString(dst, e.Event)
	dst = append(dst, `,"decision":`...)
	dst = appendString(dst, e.Decision)
	dst = append(dst, `,"reason":`...)
	dst = appendString(dst, e.Reason)
	dst = append(dst, `,"secrets":[`...)
	for i, name := range e.Secrets {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, name)
	}
	dst = append(dst, `],"token":`...)
	dst = appendString(dst, e.TokenID)
	dst = append(dst, `,"op":`...)
	dst = appendString(dst, e.Op)
	dst = append(dst, `,"program":`...)
	dst = appendString(dst, e.Program)
	dst = append(dst, `,"agent":`...)
	dst = appendString(dst, e.Agent)
	// user came later: absent when empty, so that lines written before it
	// keep their one canonical form.
	if e.User != "" {
		dst = append(dst, `,"user":`...)
		dst = appendString(dst, e.User)
	}
	dst = append(dst, `,"repo":`...)
	dst = appendString(dst, e.Repo)
	dst = append(dst, `,"branch":`...)
	dst = appendString(dst, e.Branch)
	// store came later too, and is absent for the member's own store.
	if e.Store != "" {
		dst = append(dst, `,"store":`...)
		dst = appendString(dst, e.Store)
	}
	dst = append(dst, `,"cwd":`...)
	dst = appendString(dst, e.Cwd)
	dst = append(dst, `,"pid":`...)
	return strconv.AppendInt(dst, int64(e.PID), 10)
}

// mustEscape reports whether r is written as \uXXXX: controls, and characters
// that are invisible or reorder text, so that a terminal shows what a line
// holds. The list is fixed here, not taken from Unicode tables, so that the
// canonical form never changes with the Go version.
func mustEscape(r rune) bool {
	return r < 0x20 ||
		0x7f <= r && r <= 0x9f ||
		r == 0x061c ||
		0x200b <= r && r <= 0x200f ||
		0x2028 <= r && r <= 0x202e ||
		0x2060 <= r && r <= 0x2069 ||
		r == 0xfeff
}

const hexDigits = "0123456789abcdef"

func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			// An invalid byte decodes as utf8.RuneError with size 1 and is
			// written as U+FFFD, so every line is valid UTF-8.
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case mustEscape(r):
			dst = append(dst, '\\', 'u',
				hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return append(dst, '"')
}

// parsedLine is a line as parseLine found it.
type parsedLine struct {
	Entry
	mac [sha256.Size]byte
	// bodyLen is the length of the line's prefix that, followed by '}', is
	// the MAC input after the previous MAC.
	bodyLen int
}

// parseLine parses one line, without its '\n', accepting only the exact bytes
// appendLine would write for the entry it describes. Errors give a byte
// offset and what was wrong, never the line's contents.
func parseLine(line []byte) (parsedLine, error) {
	var pl parsedLine
	if len(line) >= maxLineBytes {
		return pl, fmt.Errorf("line is longer than %d bytes", maxLineBytes-1)
	}
	// One copy of the line backs every field without escapes, instead of
	// one allocation per field.
	p := lineParser{s: string(line)}
	e := &pl.Entry
	p.literal(`{"time":"`)
	e.Time = p.time()
	p.literal(`","seq":`)
	e.Seq = p.decimal(math.MaxUint64)
	p.literal(`,"event":`)
	e.Event = p.str()
	p.literal(`,"decision":`)
	e.Decision = p.str()
	p.literal(`,"reason":`)
	e.Reason = p.str()
	p.literal(`,"secrets":[`)
	e.Secrets = p.strList()
	p.literal(`],"token":`)
	e.TokenID = p.str()
	p.literal(`,"op":`)
	e.Op = p.str()
	p.literal(`,"program":`)
	e.Program = p.str()
	p.literal(`,"agent":`)
	e.Agent = p.str()
	if p.optional(`,"user":`) {
		if e.User = p.str(); e.User == "" {
			p.fail("an empty user is written by leaving the member out")
		}
	}
	p.literal(`,"repo":`)
	e.Repo = p.str()
	p.literal(`,"branch":`)
	e.Branch = p.str()
	if p.optional(`,"store":`) {
		if e.Store = p.str(); e.Store == "" {
			p.fail("an empty store is written by leaving the member out")
		}
	}
	p.literal(`,"cwd":`)
	e.Cwd = p.str()
	p.literal(`,"pid":`)
	e.PID = int(p.decimal(math.MaxInt32))
	pl.bodyLen = p.i
	p.literal(`,"mac":"`)
	e.MAC, pl.mac = p.mac()
	p.literal(`"}`)
	if p.err == nil && p.i != len(p.s) {
		p.fail("unexpected bytes after the closing brace")
	}
	if p.err != nil {
		return parsedLine{}, p.err
	}
	if e.Seq == 0 {
		return parsedLine{}, errors.New("seq must start at 1")
	}
	if err := e.validate(); err != nil {
		return parsedLine{}, err
	}
	return pl, nil
}

// lineParser reads a line left to right. The first failure sticks: later
// calls return zero values, so parseLine reads as the grammar it checks.
type lineParser struct {
	s   string
	i   int
	err error
}

func (p *lineParser) fail(reason string) {
	if p.err == nil {
		p.err = fmt.Errorf("at byte %d: %s", p.i, reason)
	}
}

// optional consumes want if the line continues with it.
func (p *lineParser) optional(want string) bool {
	if p.err != nil || !strings.HasPrefix(p.s[p.i:], want) {
		return false
	}
	p.i += len(want)
	return true
}

func (p *lineParser) literal(want string) {
	if p.err != nil {
		return
	}
	if len(p.s)-p.i < len(want) || p.s[p.i:p.i+len(want)] != want {
		p.fail("want `" + want + "`")
		return
	}
	p.i += len(want)
}

func (p *lineParser) time() time.Time {
	if p.err != nil {
		return time.Time{}
	}
	if len(p.s)-p.i < len(timeLayout) {
		p.fail("want a time like " + timeLayout)
		return time.Time{}
	}
	t, ok := parseTime(p.s[p.i : p.i+len(timeLayout)])
	if !ok {
		p.fail("want a valid UTC time like " + timeLayout)
		return time.Time{}
	}
	p.i += len(timeLayout)
	return t
}

// parseTime accepts exactly the bytes timeLayout formats: fixed width, 'Z'
// only, and no field out of range (time.Date would quietly normalise 02-30).
func parseTime(s string) (time.Time, bool) {
	if len(s) != len(timeLayout) ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
		s[16] != ':' || s[19] != '.' || s[29] != 'Z' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	nsec, ok7 := digits(s[20:29])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	if y != year || int(m) != month || d != day || hh != hour || mm != minute || ss != sec {
		return time.Time{}, false
	}
	return t, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// decimal reads an unsigned decimal no greater than max, without leading zeros.
func (p *lineParser) decimal(max uint64) uint64 {
	if p.err != nil {
		return 0
	}
	start := p.i
	var n uint64
	for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
		d := uint64(p.s[p.i] - '0')
		if n > (max-d)/10 {
			p.fail("number out of range")
			return 0
		}
		n = n*10 + d
		p.i++
	}
	switch {
	case p.i == start:
		p.fail("want a number")
	case p.s[start] == '0' && p.i-start > 1:
		p.i = start
		p.fail("number has a leading zero")
	}
	return n
}

func (p *lineParser) strList() []string {
	if p.err != nil || p.i < len(p.s) && p.s[p.i] == ']' {
		return nil
	}
	list := make([]string, 0, 4)
	for {
		list = append(list, p.str())
		if p.err != nil || p.i >= len(p.s) || p.s[p.i] != ',' {
			return list
		}
		p.i++
	}
}

// plainASCII marks the bytes a string holds as themselves: printable ASCII
// other than '"' and '\'.
var plainASCII = func() (plain [256]bool) {
	for c := ' '; c < 0x7f; c++ {
		plain[c] = c != '"' && c != '\\'
	}
	return plain
}()

// str reads a string in canonical form: valid UTF-8, and escapes exactly
// where appendString writes them.
func (p *lineParser) str() string {
	if p.err != nil {
		return ""
	}
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		p.fail(`want '"'`)
		return ""
	}
	p.i++
	start := p.i
	// Most strings are plain ASCII: skip that in a tight loop on locals.
	i := p.i
	for i < len(p.s) && plainASCII[p.s[i]] {
		i++
	}
	p.i = i
	if i < len(p.s) && p.s[i] == '"' {
		p.i++
		return p.s[start:i]
	}
	// unescaped stays nil until the first escape; until then the result is
	// a substring of the line.
	var unescaped []byte
	for p.i < len(p.s) {
		c := p.s[p.i]
		if plainASCII[c] {
			if unescaped != nil {
				unescaped = append(unescaped, c)
			}
			p.i++
			continue
		}
		switch {
		case c == '"':
			s := p.s[start:p.i]
			p.i++
			if unescaped != nil {
				return string(unescaped)
			}
			return s
		case c == '\\':
			if unescaped == nil {
				unescaped = append([]byte{}, p.s[start:p.i]...)
			}
			r, ok := p.escape()
			if !ok {
				return ""
			}
			unescaped = utf8.AppendRune(unescaped, r)
		case c < utf8.RuneSelf:
			p.fail("control character not escaped")
			return ""
		default:
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && size == 1 {
				p.fail("invalid UTF-8")
				return ""
			}
			if mustEscape(r) {
				p.fail(fmt.Sprintf("U+%04X not escaped", r))
				return ""
			}
			if unescaped != nil {
				unescaped = append(unescaped, p.s[p.i:p.i+size]...)
			}
			p.i += size
		}
	}
	p.fail("unterminated string")
	return ""
}

// escape reads one escape sequence at p.i and returns the character it stands for.
func (p *lineParser) escape() (rune, bool) {
	rest := p.s[p.i:]
	if len(rest) >= 2 && (rest[1] == '"' || rest[1] == '\\') {
		p.i += 2
		return rune(rest[1]), true
	}
	if len(rest) < 6 || rest[1] != 'u' {
		p.fail(`escape other than \" \\ or \uXXXX`)
		return 0, false
	}
	var r rune
	for i := 2; i < 6; i++ {
		v := hexValue[rest[i]]
		if v < 0 {
			p.fail(`\u escape without four lowercase hex digits`)
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	if !mustEscape(r) {
		p.fail(fmt.Sprintf("U+%04X escaped but should be written as itself", r))
		return 0, false
	}
	p.i += 6
	return r, true
}

// hexValue maps each lowercase hex digit to its value and every other byte
// to -1; a table because Verify decodes 64 digits a line.
var hexValue = func() (v [256]int8) {
	for c := range v {
		v[c] = int8(strings.IndexByte(hexDigits, byte(c)))
	}
	return v
}()

// mac reads 64 lowercase hex digits, returning them and the bytes they encode.
func (p *lineParser) mac() (string, [sha256.Size]byte) {
	var mac [sha256.Size]byte
	if p.err != nil {
		return "", mac
	}
	if len(p.s)-p.i < macHexLen {
		p.fail("mac is not 64 lowercase hex digits")
		return "", mac
	}
	for i := range mac {
		hi, lo := hexValue[p.s[p.i+2*i]], hexValue[p.s[p.i+2*i+1]]
		if hi < 0 || lo < 0 {
			p.fail("mac is not 64 lowercase hex digits")
			return "", mac
		}
		mac[i] = byte(hi)<<4 | byte(lo)
	}
	p.i += macHexLen
	return p.s[p.i-macHexLen : p.i], mac
}
