package broker

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/macaroon"
)

// Token identifiers are a root-key id followed by 16 random bytes: every
// token is unique, logged by its id, and individually revocable; the key id
// finds the root key that verifies it.
const (
	keyIDLen   = 8
	nonceLen   = 16
	rootKeyLen = 32
	location   = "llms"
)

// rootKey is one entry of the sealed "rootkeys" file. A key lives as long
// as the session it was made for; tokens minted under it cannot outlive it.
type rootKey struct {
	ID      string    `json:"id"` // hex
	Key     []byte    `json:"key"`
	Expires time.Time `json:"expires"`
}

func (b *Broker) rootKeys() ([]rootKey, error) {
	var keys []rootKey
	_, err := b.readState(rootKeysState, &keys)
	return keys, err
}

// lookupRootKey finds the key a token's id names. A missing key means the
// token was never ours or every key was destroyed by revoke-all.
func (b *Broker) lookupRootKey(tokenID []byte) ([]byte, error) {
	if len(tokenID) != keyIDLen+nonceLen {
		return nil, errors.New("token identifier has the wrong length")
	}
	keys, err := b.rootKeys()
	if err != nil {
		return nil, err
	}
	want := hex.EncodeToString(tokenID[:keyIDLen])
	for _, k := range keys {
		if k.ID == want {
			return k.Key, nil
		}
	}
	return nil, errors.New("its root key no longer exists (revoke-all was run, or the token is not from this store)")
}

// addRootKey creates a key valid until expires, pruning expired keys.
func (b *Broker) addRootKey(expires time.Time) (rootKey, error) {
	k := rootKey{Key: make([]byte, rootKeyLen), Expires: expires}
	id := make([]byte, keyIDLen)
	rand.Read(id)
	rand.Read(k.Key)
	k.ID = hex.EncodeToString(id)
	now := b.now()
	err := updateState(b, rootKeysState, func(keys []rootKey) []rootKey {
		keys = slices.DeleteFunc(keys, func(k rootKey) bool { return !k.Expires.After(now) })
		return append(keys, k)
	})
	return k, err
}

// newToken mints a fresh root macaroon under key with the given caveats.
func newToken(key rootKey, cavs []caveat.Caveat) (*macaroon.Macaroon, error) {
	keyID, err := hex.DecodeString(key.ID)
	if err != nil || len(keyID) != keyIDLen {
		return nil, errors.New("root keys file is corrupt: bad key id")
	}
	id := make([]byte, keyIDLen+nonceLen)
	copy(id, keyID)
	rand.Read(id[keyIDLen:])
	m, err := macaroon.New(key.Key, id, location)
	if err != nil {
		return nil, err
	}
	return addCaveats(m, cavs)
}

func addCaveats(m *macaroon.Macaroon, cavs []caveat.Caveat) (*macaroon.Macaroon, error) {
	raw := make([][]byte, len(cavs))
	for i, c := range cavs {
		raw[i] = c.Bytes()
	}
	return m.AddFirstPartyCaveats(raw...)
}

// TokenInfo is what may be shown about a token: never its signature.
type TokenInfo struct {
	ID       string    `json:"id"`
	Location string    `json:"location"`
	Caveats  []string  `json:"caveats"`
	Expires  time.Time `json:"expires,omitzero"`
}

func tokenID(m *macaroon.Macaroon) string { return hex.EncodeToString(m.ID()) }

func infoOf(m *macaroon.Macaroon) (TokenInfo, caveat.Set, error) {
	info := TokenInfo{ID: tokenID(m), Location: m.Location()}
	raw := m.Caveats()
	for _, c := range raw {
		info.Caveats = append(info.Caveats, string(c))
	}
	set, err := caveat.ParseAll(raw)
	if err != nil {
		return info, nil, err
	}
	if t, ok := set.Expiry(); ok {
		info.Expires = t
	}
	return info, set, nil
}

// parseToken reads the text form, tolerating surrounding whitespace (a
// token file usually ends with a newline) but nothing else.
func parseToken(text string) (*macaroon.Macaroon, error) {
	m, err := macaroon.Parse(string(bytes.TrimSpace([]byte(text))))
	if err != nil {
		return nil, fmt.Errorf("%w: not a valid llms token: %v", ErrDenied, err)
	}
	return m, nil
}

// Inspect decodes a token without any key: its id, caveats and expiry.
// Nothing here is verified.
func Inspect(token string) (TokenInfo, error) {
	m, err := parseToken(token)
	if err != nil {
		return TokenInfo{}, err
	}
	info, _, err := infoOf(m)
	return info, err
}

// Attenuate narrows a token offline: it appends caveats, which can only
// restrict what the token allows. No key is needed.
func Attenuate(token string, r Restrictions, now time.Time) (string, error) {
	m, err := parseToken(token)
	if err != nil {
		return "", err
	}
	cavs, err := r.caveats(now)
	if err != nil {
		return "", err
	}
	if len(cavs) == 0 {
		return "", fmt.Errorf("%w: no restriction given; attenuate adds at least one caveat", ErrBadRequest)
	}
	m, err = addCaveats(m, cavs)
	if err != nil {
		return "", err
	}
	return m.Text(), nil
}
