package macaroon

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
)

// CaveatError reports the caveat a checker refused. Verify returns it only
// after every signature has matched.
type CaveatError struct {
	// Index is the caveat's position in the order the checker saw them:
	// depth first, a discharge's caveats in place of the third-party
	// caveat it discharges.
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
// It first recomputes the signature chain of m and of every discharge,
// comparing each in constant time; only when all match does it hand the
// first-party caveats, one at a time, to check. The first caveat check
// refuses is returned as a *CaveatError. Every third-party caveat needs a
// discharge bound to m with [Macaroon.Bind], and every discharge must be used
// exactly once.
func (m *Macaroon) Verify(rootKey []byte, check func(caveat []byte) error, discharges ...*Macaroon) error {
	switch {
	case m == nil:
		return errors.New("macaroon: no macaroon to verify")
	case len(rootKey) == 0:
		return errors.New("macaroon: empty root key")
	case check == nil:
		return errors.New("macaroon: no caveat checker")
	case len(discharges) > maxDischarges:
		return fmt.Errorf("macaroon: more than %d discharges", maxDischarges)
	}
	for i, d := range discharges {
		if d == nil {
			return fmt.Errorf("macaroon: discharge %d is missing", i)
		}
	}
	v := verifier{
		hmac:       newHMACer(),
		root:       m,
		discharges: discharges,
		used:       make([]bool, len(discharges)),
		conditions: make([][]byte, 0, len(m.caveats)),
	}
	key := v.hmac.deriveKey(rootKey)
	if err := v.verifyChain(m, &key, false); err != nil {
		return err
	}
	for i, used := range v.used {
		if !used {
			return fmt.Errorf("macaroon: discharge %d does not discharge any caveat", i)
		}
	}
	// The checker gets copies, carved from one buffer, so that one that
	// keeps or edits its argument cannot touch the macaroon.
	size := 0
	for _, c := range v.conditions {
		size += len(c)
	}
	copies := make([]byte, 0, size)
	for i, c := range v.conditions {
		copies = append(copies, c...)
		arg := copies[len(copies)-len(c) : len(copies) : len(copies)]
		if err := check(arg); err != nil {
			return &CaveatError{Index: i, Caveat: bytes.Clone(c), Err: err}
		}
	}
	return nil
}

type verifier struct {
	hmac       *hmacer
	root       *Macaroon
	discharges []*Macaroon
	used       []bool
	// conditions collects first-party caveats while the chains are
	// checked; none is evaluated until all signatures have matched.
	conditions [][]byte
}

// verifyChain recomputes the signature of m from key, as libmacaroons'
// macaroon_verify_inner does, descending into the discharge of each
// third-party caveat; a discharge's signature must also be bound to the
// root's. Marking a discharge used before descending into it bounds the
// recursion by the number of discharges.
func (v *verifier) verifyChain(m *Macaroon, key *[sha256.Size]byte, isDischarge bool) error {
	sig := v.hmac.mac(key, m.id)
	for i, c := range m.caveats {
		if c.VerificationID == nil {
			v.conditions = append(v.conditions, c.ID)
			sig = v.hmac.mac(&sig, c.ID)
			continue
		}
		caveatKey, err := openVerificationID(&sig, c.VerificationID)
		if err != nil {
			return fmt.Errorf("macaroon: caveat %d: %w", i, err)
		}
		d, err := v.takeDischarge(c.ID)
		if err != nil {
			return fmt.Errorf("macaroon: caveat %d: %w", i, err)
		}
		if err := v.verifyChain(d, caveatKey, true); err != nil {
			return err
		}
		sig = v.hmac.hash2(&sig, c.VerificationID, c.ID)
	}
	if isDischarge {
		sig = v.hmac.bind(&v.root.sig, &sig)
	}
	if !hmac.Equal(sig[:], m.sig[:]) {
		if isDischarge {
			return errors.New("macaroon: discharge signature mismatch")
		}
		return errors.New("macaroon: signature mismatch")
	}
	return nil
}

func (v *verifier) takeDischarge(id []byte) (*Macaroon, error) {
	for i, d := range v.discharges {
		if !v.used[i] && bytes.Equal(d.id, id) {
			v.used[i] = true
			return d, nil
		}
	}
	return nil, errors.New("no unused discharge for this third-party caveat")
}

func openVerificationID(sig *[sha256.Size]byte, vid []byte) (*[sha256.Size]byte, error) {
	if len(vid) != vidLen {
		return nil, errors.New("verification id has the wrong length")
	}
	var nonce [nonceLen]byte
	copy(nonce[:], vid)
	var key [sha256.Size]byte
	if _, ok := secretbox.Open(key[:0], vid[nonceLen:], &nonce, sig); !ok {
		return nil, errors.New("cannot decrypt verification id")
	}
	return &key, nil
}
