package macaroon

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The libmacaroons vectors also come in the V1 text packets and the V2 JSON
// form. The package itself accepts neither; these test-only decoders exist to
// run those vectors, and build Macaroon values that must pass the same
// validate as everything else.

// anyBase64 decodes base64 in either alphabet, padded or not, as libmacaroons
// and the test files use it.
func anyBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}

// decodeV1 decodes libmacaroons' V1 serialization: base64 of packets, each
// "hhhh" (hex length of the whole packet) "key value\n".
func decodeV1(text []byte) (*Macaroon, error) {
	raw, err := anyBase64(string(text))
	if err != nil {
		return nil, err
	}
	var packets [][2][]byte
	for len(raw) > 0 {
		if len(raw) < 4 {
			return nil, errors.New("v1: truncated packet header")
		}
		var size [2]byte
		if _, err := hex.Decode(size[:], raw[:4]); err != nil {
			return nil, errors.New("v1: bad packet length")
		}
		n := int(size[0])<<8 | int(size[1])
		if n < 6 || n > len(raw) || raw[n-1] != '\n' {
			return nil, errors.New("v1: bad packet")
		}
		key, value, ok := bytes.Cut(raw[4:n-1], []byte(" "))
		if !ok {
			return nil, errors.New("v1: packet without a key")
		}
		packets = append(packets, [2][]byte{key, value})
		raw = raw[n:]
	}
	want := func(key string) ([]byte, error) {
		if len(packets) == 0 || string(packets[0][0]) != key {
			return nil, fmt.Errorf("v1: expected %s", key)
		}
		v := packets[0][1]
		packets = packets[1:]
		return bytes.Clone(v), nil
	}
	loc, err := want("location")
	if err != nil {
		return nil, err
	}
	id, err := want("identifier")
	if err != nil {
		return nil, err
	}
	m := &Macaroon{location: string(loc), id: id}
	for len(packets) > 1 {
		cid, err := want("cid")
		if err != nil {
			return nil, err
		}
		if string(packets[0][0]) == "vid" {
			return nil, errThirdParty
		}
		m.caveats = append(m.caveats, cid)
	}
	sig, err := want("signature")
	if err != nil {
		return nil, err
	}
	if len(sig) != len(m.sig) {
		return nil, errors.New("v1: bad signature length")
	}
	copy(m.sig[:], sig)
	return m, m.validate()
}

type jsonMacaroon struct {
	Version     json.Number  `json:"v"`
	Location    *string      `json:"l"`
	ID          *string      `json:"i"`
	ID64        *string      `json:"i64"`
	Caveats     []jsonCaveat `json:"c"`
	Signature   *string      `json:"s"`
	Signature64 *string      `json:"s64"`
}

type jsonCaveat struct {
	Location *string `json:"l"`
	ID       *string `json:"i"`
	ID64     *string `json:"i64"`
	VID      *string `json:"v"`
	VID64    *string `json:"v64"`
}

// jsonData decodes a V2 JSON data field, given as exactly one of its text
// and base64 forms.
func jsonData(text, b64 *string) ([]byte, error) {
	switch {
	case text != nil && b64 != nil:
		return nil, errors.New("v2j: field given twice")
	case text != nil:
		return []byte(*text), nil
	case b64 != nil:
		return anyBase64(*b64)
	}
	return nil, nil
}

// decodeV2JSON decodes the V2 JSON form ("2j" in the vectors).
func decodeV2JSON(data []byte) (*Macaroon, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var j jsonMacaroon
	if err := dec.Decode(&j); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("v2j: trailing data")
	}
	if j.Version != "2" {
		return nil, errors.New("v2j: not version 2")
	}
	m := new(Macaroon)
	if j.Location != nil {
		m.location = *j.Location
	}
	var err error
	if m.id, err = jsonData(j.ID, j.ID64); err != nil {
		return nil, err
	}
	for _, jc := range j.Caveats {
		if jc.Location != nil || jc.VID != nil || jc.VID64 != nil {
			return nil, errThirdParty
		}
		c, err := jsonData(jc.ID, jc.ID64)
		if err != nil {
			return nil, err
		}
		m.caveats = append(m.caveats, c)
	}
	sig, err := jsonData(j.Signature, j.Signature64)
	if err != nil {
		return nil, err
	}
	if len(sig) != len(m.sig) {
		return nil, errors.New("v2j: bad signature length")
	}
	copy(m.sig[:], sig)
	return m, m.validate()
}

// decodeVectorMacaroon decodes one macaroon line of a libmacaroons test file:
// base64 of a serialization, told apart by its first byte as libmacaroons'
// macaroon_deserialize does.
func decodeVectorMacaroon(line string) (*Macaroon, error) {
	raw, err := anyBase64(line)
	if err != nil {
		return nil, err
	}
	switch {
	case len(raw) == 0:
		return nil, errors.New("empty vector")
	case raw[0] == version2:
		return UnmarshalBinary(raw)
	case raw[0] == '{':
		return decodeV2JSON(raw)
	default:
		return decodeV1(raw)
	}
}
