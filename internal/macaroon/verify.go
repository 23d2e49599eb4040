package macaroon

import (
	"bytes"
	"crypto/hmac"
	"errors"
	"fmt"
)

// CaveatError reports the caveat a checker refused. Verify returns it only
// after the signature has matched.
type CaveatError struct {
	// Index is the caveat's position in the macaroon.
	Index int
	// Caveat is a copy of the refused caveat.
	Caveat []byte
	// Err is the checker's reason.
	Err error
}

func (e *CaveatError) Error() string {
	return fmt.Sprintf("macaroon: caveat %d not satisfied: %v", e.Index, e.Err)
}

func (e *CaveatError) Unwrap() error { return e.Err }

// Verify reports whether m was made with rootKey and all its caveats hold.
//
// It first recomputes the signature chain of m, as libmacaroons'
// macaroon_verify does, and compares it in constant time; only when it
// matches does it hand the caveats, one at a time, to check. The first
// caveat check refuses is returned as a *CaveatError.
func (m *Macaroon) Verify(rootKey []byte, check func(caveat []byte) error) error {
	switch {
	case m == nil:
		return errors.New("macaroon: no macaroon to verify")
	case len(rootKey) == 0:
		return errors.New("macaroon: empty root key")
	case check == nil:
		return errors.New("macaroon: no caveat checker")
	}
	x := newHMACer()
	key := x.deriveKey(rootKey)
	sig := x.mac(&key, m.id)
	size := 0
	for _, c := range m.caveats {
		sig = x.mac(&sig, c)
		size += len(c)
	}
	if !hmac.Equal(sig[:], m.sig[:]) {
		return errors.New("macaroon: signature mismatch")
	}
	// The checker gets copies, carved from one buffer, so that one that
	// keeps or edits its argument cannot touch the macaroon.
	copies := make([]byte, 0, size)
	for i, c := range m.caveats {
		copies = append(copies, c...)
		arg := copies[len(copies)-len(c) : len(copies) : len(copies)]
		if err := check(arg); err != nil {
			return &CaveatError{Index: i, Caveat: bytes.Clone(c), Err: err}
		}
	}
	return nil
}
