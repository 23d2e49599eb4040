package broker

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/llm-secrets/llms/internal/caveat"
)

// Peek is what a human may see of a value: a bounded prefix, its length
// and a fingerprint. It never holds the value.
type Peek struct {
	Name        string
	Prefix      string // at most 4 characters; empty for values under 12 bytes
	Length      int    // in bytes
	Fingerprint string // 8 hex digits of HMAC-SHA256(store key, value)
}

// prefixLen decides how much of a value a human may see: nothing of a
// short value (a password), two characters of a medium one, four of a long
// one (enough to tell "sk_live" from "sk_test").
func prefixLen(n int) int {
	switch {
	case n < 12:
		return 0
	case n < 24:
		return 2
	default:
		return 4
	}
}

// PeekRequest names the secret to peek at.
type PeekRequest struct {
	Name string
}

// Peek authorizes and describes one secret; its result is the mask, Peek.
func (b *Broker) Peek(c *Caller, req PeekRequest) (Peek, error) {
	name := req.Name
	_, values, err := b.grantValues(access{op: caveat.OpPeek, secrets: []string{name}, caller: c})
	if err != nil {
		return Peek{}, err
	}
	v := values[0]
	b.mu.Lock()
	key, err := b.st.DeriveKey("llm-secrets peek fingerprint v1")
	b.mu.Unlock()
	if err != nil {
		return Peek{}, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(v)
	p := Peek{Name: name, Length: len(v), Fingerprint: hex.EncodeToString(mac.Sum(nil)[:4])}
	if n := prefixLen(len(v)); n > 0 && printableASCII(v[:n]) {
		p.Prefix = string(v[:n])
	}
	return p, nil
}

// printableASCII: a prefix with control bytes or part of a multi-byte
// character would be unreadable or could drive the terminal; show nothing
// instead.
func printableASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}
