package agefile

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"filippo.io/age"
)

// The age v1 header (age-encryption.org/v1), with age's own limits.
const (
	intro          = "age-encryption.org/v1\n"
	columnsPerLine = 64
	bytesPerLine   = columnsPerLine / 4 * 3
	macLen         = 32
	maxHeaderBytes = 2 << 20
	maxStanzas     = 1024
	// age stops reading arguments once it holds more than this many (the
	// type counts as one), so a stanza line may carry one more.
	maxStanzaArgs = 128
)

var (
	stanzaPrefix = []byte("->")
	footerPrefix = []byte("---")
	// Unpadded, and refusing non-zero trailing bits: one encoding per body.
	b64 = base64.RawStdEncoding.Strict()
)

// ErrMalformed is wrapped by every error about a file that is not a
// canonical age v1 file. The parser's messages say where, never what the
// bytes were.
var ErrMalformed = errors.New("not a canonical age v1 file")

// Header is a parsed age v1 header: its recipient stanzas in order, and
// the MAC over them.
type Header struct {
	Stanzas []*age.Stanza
	MAC     []byte
}

func malformed(line int, format string, a ...any) error {
	return fmt.Errorf("%w: header line %d: %s", ErrMalformed, line, fmt.Sprintf(format, a...))
}

// ParseHeader parses the header at the start of file and returns it with
// the offset of the payload (the stream nonce). It accepts exactly the
// headers age accepts, and every one it accepts is canonical: writing it
// back gives the same bytes.
func ParseHeader(file []byte) (*Header, int, error) {
	p := headerParser{rest: file}
	h, err := p.parse()
	if err != nil {
		return nil, 0, err
	}
	return h, len(file) - len(p.rest), nil
}

type headerParser struct {
	rest []byte // unread input
	read int    // header bytes consumed, against maxHeaderBytes
	line int    // number of the line last read, from 1
}

// next returns the next line, its newline removed. A line cut short by
// the end of the file, or one that takes the header past 2 MiB, is an
// error, as in age.
func (p *headerParser) next() ([]byte, error) {
	p.line++
	i := bytes.IndexByte(p.rest, '\n')
	if i < 0 || i+1 > maxHeaderBytes-p.read {
		if len(p.rest) > maxHeaderBytes-p.read {
			return nil, malformed(p.line, "the header is longer than 2 MiB")
		}
		if p.line == 1 && len(p.rest) == 0 {
			return nil, fmt.Errorf("%w: the file is empty", ErrMalformed)
		}
		return nil, malformed(p.line, "the file ends inside the header")
	}
	l := p.rest[:i]
	p.rest = p.rest[i+1:]
	p.read += i + 1
	return l, nil
}

func (p *headerParser) parse() (*Header, error) {
	l, err := p.next()
	if err != nil {
		return nil, err
	}
	if string(l)+"\n" != intro {
		return nil, malformed(p.line, "not the age v1 version line")
	}
	h := &Header{}
	for {
		if len(p.rest) < len(footerPrefix) {
			return nil, malformed(p.line+1, "the file ends inside the header")
		}
		if bytes.HasPrefix(p.rest, footerPrefix) {
			l, err := p.next()
			if err != nil {
				return nil, err
			}
			prefix, args := splitArgs(l)
			if prefix != string(footerPrefix) || len(args) != 1 {
				return nil, malformed(p.line, "the MAC line is not \"--- MAC\"")
			}
			mac, err := b64.DecodeString(args[0])
			if err != nil || len(mac) != macLen {
				return nil, malformed(p.line, "the MAC is not 32 bytes in canonical base64")
			}
			h.MAC = mac
			break
		}
		if len(h.Stanzas) == maxStanzas {
			return nil, malformed(p.line+1, "more than %d recipient stanzas", maxStanzas)
		}
		s, err := p.stanza()
		if err != nil {
			return nil, err
		}
		h.Stanzas = append(h.Stanzas, s)
	}
	if len(h.Stanzas) == 0 {
		return nil, malformed(p.line, "no recipient stanzas")
	}
	return h, nil
}

func (p *headerParser) stanza() (*age.Stanza, error) {
	l, err := p.next()
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(l, stanzaPrefix) {
		return nil, malformed(p.line, "a stanza does not start with \"->\"")
	}
	prefix, args := splitArgs(l)
	if prefix != string(stanzaPrefix) || len(args) < 1 {
		return nil, malformed(p.line, "a stanza line is not \"-> TYPE ARGS…\" with single spaces and printable ASCII")
	}
	s := &age.Stanza{Type: args[0], Args: args[1:]}
	for {
		l, err := p.next()
		if err != nil {
			return nil, err
		}
		// base64's decoder skips CR and LF; age refuses them.
		if bytes.IndexByte(l, '\r') >= 0 {
			return nil, malformed(p.line, "a carriage return in a stanza body")
		}
		b, err := b64.DecodeString(string(l))
		if err != nil {
			return nil, malformed(p.line, "a stanza body line is not canonical unpadded base64 (or the stanza did not end with a short line)")
		}
		if len(b) > bytesPerLine {
			return nil, malformed(p.line, "a stanza body line is longer than %d columns", columnsPerLine)
		}
		s.Body = append(s.Body, b...)
		// A body always ends with a short line, empty if need be.
		if len(b) < bytesPerLine {
			return s, nil
		}
	}
}

// splitArgs splits a line into its prefix and space-separated arguments,
// as age does: any empty or non-printable argument, or more than
// maxStanzaArgs+1 of them, and the line has no arguments.
func splitArgs(l []byte) (string, []string) {
	prefix, rest, ok := bytes.Cut(l, []byte(" "))
	if !ok {
		return string(l), nil
	}
	var args []string
	for arg := range bytes.SplitSeq(rest, []byte(" ")) {
		if !validString(arg) || len(args) > maxStanzaArgs {
			return string(l), nil
		}
		args = append(args, string(arg))
	}
	return string(prefix), args
}

// validString: non-empty printable ASCII without space.
func validString(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// appendWithoutMAC appends the header up to and including "---", the
// bytes the MAC covers. It refuses what ParseHeader would refuse, so
// every header it writes reads back the same, in age too.
func appendWithoutMAC(b []byte, stanzas []*age.Stanza) ([]byte, error) {
	if len(stanzas) == 0 {
		return nil, errors.New("no recipient stanzas")
	}
	if len(stanzas) > maxStanzas {
		return nil, fmt.Errorf("%d recipient stanzas: age reads at most %d", len(stanzas), maxStanzas)
	}
	b = append(b, intro...)
	for i, s := range stanzas {
		if !validString([]byte(s.Type)) || len(s.Args) > maxStanzaArgs {
			return nil, fmt.Errorf("recipient stanza %d: a type age cannot read", i+1)
		}
		b = append(b, stanzaPrefix...)
		b = append(b, ' ')
		b = append(b, s.Type...)
		for _, a := range s.Args {
			if !validString([]byte(a)) {
				return nil, fmt.Errorf("recipient stanza %d: an argument age cannot read", i+1)
			}
			b = append(b, ' ')
			b = append(b, a...)
		}
		b = append(b, '\n')
		body := b64.EncodeToString(s.Body)
		for len(body) >= columnsPerLine {
			b = append(b, body[:columnsPerLine]...)
			b = append(b, '\n')
			body = body[columnsPerLine:]
		}
		b = append(b, body...)
		b = append(b, '\n')
	}
	b = append(b, footerPrefix...)
	if len(b)+1+b64.EncodedLen(macLen)+1 > maxHeaderBytes {
		return nil, errors.New("the header would be longer than the 2 MiB age reads")
	}
	return b, nil
}

// headerMAC is age's header MAC: HMAC-SHA256, keyed with
// HKDF-SHA256(file key, no salt, "header"), over the header up to "---".
func headerMAC(fileKey, withoutMAC []byte) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, fileKey, nil, "header", sha256.Size)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	m := hmac.New(sha256.New, k)
	m.Write(withoutMAC)
	return m.Sum(nil), nil
}

// marshalHeader writes a whole header: the stanzas and their MAC under
// fileKey.
func marshalHeader(fileKey []byte, stanzas []*age.Stanza) ([]byte, error) {
	b, err := appendWithoutMAC(nil, stanzas)
	if err != nil {
		return nil, err
	}
	mac, err := headerMAC(fileKey, b)
	if err != nil {
		return nil, err
	}
	b = append(b, ' ')
	b = b64.AppendEncode(b, mac)
	return append(b, '\n'), nil
}
