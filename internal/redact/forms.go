package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"unicode/utf8"
)

// A Form names the encoding in which a value was found.
type Form uint8

const (
	FormRaw         Form = iota // the value itself
	FormBase64                  // base64, standard or URL alphabet, padded or not
	FormBase64Inner             // the value's part of a longer base64 string
	FormHex                     // hex digits, lower or upper case, run together
	FormHexSpaced               // hex byte pairs separated by single spaces
	FormURL                     // percent-encoding, as one of the usual encoders writes it
	FormJSON                    // the inside of a JSON string, as one of the usual encoders writes it
	FormDump                    // the bytes of a hex dump (xxd, hexdump -C, od -tx1, xxd -i)
)

var formNames = [...]string{
	FormRaw:         "raw",
	FormBase64:      "base64",
	FormBase64Inner: "base64-inner",
	FormHex:         "hex",
	FormHexSpaced:   "hex-spaced",
	FormURL:         "url",
	FormJSON:        "json",
	FormDump:        "hexdump",
}

// String returns the form's name, as `llms scan` would report it.
func (f Form) String() string {
	if int(f) < len(formNames) {
		return formNames[f]
	}
	return "unknown"
}

type encoding struct {
	text []byte
	form Form
}

// forms returns every encoding of v that is matched in the text view, with
// line breaks removed (the text view has none). It may contain duplicates,
// which New removes, keeping the first: so a value that encodes to itself
// is reported as raw.
func forms(v []byte) []encoding {
	var f []encoding
	add := func(form Form, texts ...[]byte) {
		for _, t := range texts {
			f = append(f, encoding{withoutLineBreaks(t), form})
		}
	}
	add(FormRaw, v)
	add(FormBase64,
		base64.StdEncoding.AppendEncode(nil, v),
		base64.RawStdEncoding.AppendEncode(nil, v),
		base64.URLEncoding.AppendEncode(nil, v),
		base64.RawURLEncoding.AppendEncode(nil, v))
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for offset := range 3 {
			add(FormBase64Inner, embeddedBase64(enc, v, offset))
		}
	}
	lower := hex.AppendEncode(nil, v)
	add(FormHex, lower, bytes.ToUpper(lower))
	spaced := spacedHex(v)
	add(FormHexSpaced, spaced, bytes.ToUpper(spaced))
	for _, p := range percentStyles {
		add(FormURL, percentEncode(v, p))
	}
	add(FormURL, []byte(url.PathEscape(string(v))))
	for _, j := range jsonStyles {
		add(FormJSON, jsonEscape(v, j))
	}
	return f
}

func withoutLineBreaks(t []byte) []byte {
	if bytes.IndexByte(t, '\n') < 0 && bytes.IndexByte(t, '\r') < 0 {
		return t
	}
	out := make([]byte, 0, len(t))
	for _, c := range t {
		if c != '\n' && c != '\r' {
			out = append(out, c)
		}
	}
	return out
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

// spacedHex is "70 40 73": Python's bytes.hex(' '), od -An -tx1 on one line.
func spacedHex(v []byte) []byte {
	out := make([]byte, 0, 3*len(v))
	for i, c := range v {
		if i > 0 {
			out = append(out, ' ')
		}
		out = hex.AppendEncode(out, []byte{c})
	}
	return out
}

// A percentStyle is the set of bytes an encoder leaves as they are, and
// what it writes for a space.
type percentStyle struct {
	keep  string // besides ASCII letters and digits
	space string
}

var percentStyles = []percentStyle{
	{"-._~", "%20"},      // RFC 3986: Python quote(v, safe=''), PHP rawurlencode
	{"-._~/", "%20"},     // Python quote(v), whose default safe is '/'
	{"-_.!~*'()", "%20"}, // JavaScript encodeURIComponent
	{"-._~", "+"},        // Python quote_plus, Go url.QueryEscape
	{"*-._", "+"},        // application/x-www-form-urlencoded: URLSearchParams, HTML forms
}

const (
	upperHex = "0123456789ABCDEF"
	lowerHex = "0123456789abcdef"
)

func percentEncode(v []byte, p percentStyle) []byte {
	out := make([]byte, 0, 3*len(v))
	for _, c := range v {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c != 0 && bytes.IndexByte([]byte(p.keep), c) >= 0:
			out = append(out, c)
		case c == ' ':
			out = append(out, p.space...)
		default:
			out = append(out, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return out
}

// A jsonStyle is how one family of JSON encoders writes a string. All escape
// '"', '\\' and control characters, using \b \f \n \r \t where they can.
type jsonStyle struct {
	html  bool // <, > and & as \u003c \u003e \u0026: Go's encoding/json
	ascii bool // DEL and every non-ASCII character as \uXXXX: Python json.dumps
	slash bool // '/' as \/: PHP json_encode
}

var jsonStyles = []jsonStyle{
	{},                         // JavaScript JSON.stringify, jq, serde_json, Go without HTML escaping
	{html: true},               // Go encoding/json
	{ascii: true},              // Python json.dumps
	{ascii: true, slash: true}, // PHP json_encode
	{slash: true},              // PHP with JSON_UNESCAPED_UNICODE
}

// jsonEscape writes v as the inside of a JSON string in style s. A value that
// is not valid UTF-8 keeps its invalid bytes as they are: no encoder can
// write them faithfully.
func jsonEscape(v []byte, s jsonStyle) []byte {
	out := make([]byte, 0, len(v)+8)
	u := func(r rune) {
		out = append(out, '\\', 'u', lowerHex[r>>12&15], lowerHex[r>>8&15], lowerHex[r>>4&15], lowerHex[r&15])
	}
	for i := 0; i < len(v); {
		c := v[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(v[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				out = append(out, c)
			case !s.ascii:
				out = append(out, v[i:i+size]...)
			case r > 0xFFFF:
				r -= 0x10000
				u(0xD800 + r>>10)
				u(0xDC00 + r&0x3FF)
			default:
				u(r)
			}
			i += size
			continue
		}
		i++
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c == '\b':
			out = append(out, '\\', 'b')
		case c == '\f':
			out = append(out, '\\', 'f')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c == '\t':
			out = append(out, '\\', 't')
		case c < 0x20 || c == 0x7f && s.ascii:
			u(rune(c))
		case s.html && (c == '<' || c == '>' || c == '&'):
			u(rune(c))
		case s.slash && c == '/':
			out = append(out, '\\', '/')
		default:
			out = append(out, c)
		}
	}
	return out
}
