package agefile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"

	"filippo.io/age"
)

var (
	// ErrNoIdentity: none of the identities opens any of the file's
	// stanzas.
	ErrNoIdentity = errors.New("none of the identities can open this file")
	// ErrBadMAC: an identity opened a stanza, but the header's MAC does
	// not match it: the header was changed by someone without the file
	// key, or corrupted.
	ErrBadMAC = errors.New("the header MAC does not match: the header was altered or corrupted")
	// ErrRecipients: the new recipient set is one age would refuse to
	// encrypt to, or one this package refuses.
	ErrRecipients = errors.New("recipients refused")
	// ErrPayload: the header opens, but the payload does not decrypt to
	// its end under its file key: cut short, altered or corrupted.
	ErrPayload = errors.New("the payload does not authenticate")
)

const streamNonceLen = 16

// Rewrap returns file with its file key wrapped to the recipients to, and
// to no one else, and its payload unchanged byte for byte. ids must open
// the file (age's DecryptHeader unwraps the key and checks the MAC). On
// any error it returns nothing.
//
// An X25519 stanza does not say whose it is, so removing a recipient means
// rewrapping to everyone who remains. The file key stays the same: whoever
// held it keeps reading this payload (docs/adr/0034-rewrap-not-reencrypt.md).
func Rewrap(file []byte, ids []age.Identity, to []age.Recipient) ([]byte, error) {
	return NewRewrapper(ids).Rewrap(file, to)
}

// AddRecipients returns file with stanzas for add appended to the ones it
// has, which are kept as they are, and its payload unchanged. It costs one
// wrap per added recipient instead of one per member; the file stays
// readable by everyone it was. It refuses, as age would, a post-quantum
// recipient added to classic ones or the reverse, and a file holding a
// stanza whose kind it cannot place (scrypt, plugins). On any error it
// returns nothing.
//
// Use it only on a file whose stanzas are known to be for the current
// members: it keeps whatever the file has.
func AddRecipients(file []byte, ids []age.Identity, add []age.Recipient) ([]byte, error) {
	return NewRewrapper(ids).AddRecipients(file, add)
}

// A Rewrapper re-wraps many files with the same identities, as a member
// change does over a whole store; it is safe for concurrent use.
//
// Unwrapping is most of a re-wrap's cost: an X25519 identity tries every
// stanza in turn, one scalar multiplication each, until its own. Files
// written to the same recipient list hold a member's stanza at the same
// place, so when its identities are one X25519 or hybrid identity, a
// Rewrapper tries first the stanza that identity opened in the last file,
// and tries them all in order, as age does, only when that one is not
// its. The key so found must still match the header's MAC, checked by
// age. The one difference from age: a stanza before that place which age
// would stop at — another that also opens, or one it finds malformed
// after the multiplication (a low-order share) — is not looked at, so a
// file age refuses for that reason can be re-wrapped into one it reads.
// Such a header can only come from a holder of the file key (its MAC
// matches), and its payload is still authenticated.
type Rewrapper struct {
	ids  []age.Identity
	hint *stanzaHint // nil: no hint, age's order
}

// NewRewrapper returns a Rewrapper that opens files with ids.
func NewRewrapper(ids []age.Identity) *Rewrapper {
	r := &Rewrapper{ids: ids}
	if len(ids) == 1 {
		switch ids[0].(type) {
		case *age.X25519Identity, *age.HybridIdentity:
			// Their Unwrap tries each stanza on its own, in order, and
			// stops at the first that opens or is malformed: trying one
			// stanza alone is that same step.
			r.hint = &stanzaHint{id: ids[0]}
			r.hint.last.Store(-1)
		}
	}
	return r
}

// Rewrap is the package's Rewrap with r's identities.
func (r *Rewrapper) Rewrap(file []byte, to []age.Recipient) ([]byte, error) {
	_, off, fileKey, err := r.open(file)
	if err != nil {
		return nil, err
	}
	defer clear(fileKey)
	stanzas, _, err := wrap(fileKey, to)
	if err != nil {
		return nil, err
	}
	return assemble(fileKey, stanzas, file[off:])
}

// AddRecipients is the package's AddRecipients with r's identities.
func (r *Rewrapper) AddRecipients(file []byte, add []age.Recipient) ([]byte, error) {
	h, off, fileKey, err := r.open(file)
	if err != nil {
		return nil, err
	}
	defer clear(fileKey)
	have, err := stanzaLabels(h.Stanzas)
	if err != nil {
		return nil, err
	}
	stanzas, labels, err := wrap(fileKey, add)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(have, labels) {
		return nil, labelsError(have, labels)
	}
	return assemble(fileKey, append(slices.Clone(h.Stanzas), stanzas...), file[off:])
}

// stanzaHint is an identity that tries first the stanza at the index where
// it last opened one.
type stanzaHint struct {
	id   age.Identity
	last atomic.Int64
}

func (h *stanzaHint) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if k := int(h.last.Load()); k >= 0 && k < len(stanzas) {
		if key, err := h.id.Unwrap(stanzas[k : k+1]); err == nil {
			return key, nil
		}
	}
	// Not there: every stanza in order, which is what age does.
	for j := range stanzas {
		key, err := h.id.Unwrap(stanzas[j : j+1])
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		if err == nil {
			h.last.Store(int64(j))
		}
		return key, err
	}
	return nil, age.ErrIncorrectIdentity
}

// CheckRecipients reports whether age would encrypt to this set, and this
// package re-wrap to it, without touching any file: a caller can refuse a
// bad recipient list before it changes anything.
func CheckRecipients(to []age.Recipient) error {
	key := make([]byte, 16) // a throwaway key: only the stanzas' kinds matter
	_, _, err := wrap(key, to)
	return err
}

// open parses the header, unwraps the file key with age (which checks the
// MAC) and authenticates the payload.
func (r *Rewrapper) open(file []byte) (*Header, int, []byte, error) {
	h, off, err := ParseHeader(file)
	if err != nil {
		return nil, 0, nil, err
	}
	// age's test vectors count a missing nonce as a header failure.
	if len(file)-off < streamNonceLen {
		return nil, 0, nil, fmt.Errorf("%w: the file ends before the payload's nonce", ErrMalformed)
	}
	ids := r.ids
	if len(ids) == 0 {
		return nil, 0, nil, ErrNoIdentity
	}
	if r.hint != nil {
		ids = []age.Identity{r.hint}
	}
	fileKey, err := age.DecryptHeader(file[:off], ids...)
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch):
		return nil, 0, nil, ErrNoIdentity
	// age's MAC error is not exported; its text is pinned by the
	// test vectors (hmac_* must give ErrBadMAC).
	case err != nil && strings.HasSuffix(err.Error(), "bad header MAC"):
		return nil, 0, nil, ErrBadMAC
	case err != nil:
		// An identity found a stanza of its kind it cannot read: age
		// calls this a header failure.
		return nil, 0, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := authenticate(file, fileKey); err != nil {
		clear(fileKey)
		return nil, 0, nil, err
	}
	return h, off, fileKey, nil
}

// authenticate decrypts the payload with age, under the unwrapped file
// key, to a buffer that is wiped (age's chunk buffer is not ours to wipe): a file cut short, or a payload changed
// or corrupted, is refused instead of getting a fresh header.
func authenticate(file, fileKey []byte) error {
	r, err := age.Decrypt(bytes.NewReader(file), age.NewInjectedFileKeyIdentity(fileKey))
	if err == nil {
		buf := make([]byte, 64<<10)
		defer clear(buf)
		for err == nil {
			_, err = r.Read(buf)
		}
		if err == io.EOF {
			return nil
		}
	}
	return fmt.Errorf("%w: %v", ErrPayload, err)
}

// wrap wraps fileKey to every recipient and returns the stanzas with the
// recipients' common labels, refusing a mix age refuses and scrypt.
func wrap(fileKey []byte, to []age.Recipient) ([]*age.Stanza, []string, error) {
	if len(to) == 0 {
		return nil, nil, fmt.Errorf("%w: no recipients", ErrRecipients)
	}
	var stanzas []*age.Stanza
	var labels []string
	for i, r := range to {
		if _, ok := r.(*age.ScryptRecipient); ok {
			return nil, nil, fmt.Errorf("%w: a passphrase (scrypt) recipient", ErrRecipients)
		}
		var s []*age.Stanza
		var l []string
		var err error
		if rl, ok := r.(age.RecipientWithLabels); ok {
			s, l, err = rl.WrapWithLabels(fileKey)
		} else {
			s, err = r.Wrap(fileKey)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: recipient %d: %v", ErrRecipients, i+1, err)
		}
		slices.Sort(l)
		if i == 0 {
			labels = l
		} else if !slices.Equal(labels, l) {
			return nil, nil, labelsError(labels, l)
		}
		for _, st := range s {
			if st.Type == "scrypt" {
				return nil, nil, fmt.Errorf("%w: a passphrase (scrypt) recipient", ErrRecipients)
			}
		}
		stanzas = append(stanzas, s...)
	}
	return stanzas, labels, nil
}

// labelsError words a refused mix as age does.
func labelsError(a, b []string) error {
	if slices.Contains(a, "postquantum") != slices.Contains(b, "postquantum") {
		return fmt.Errorf("%w: post-quantum and classic recipients cannot be mixed, or the file would be open to quantum computers", ErrRecipients)
	}
	return fmt.Errorf("%w: recipients with labels %q and %q cannot be mixed", ErrRecipients, a, b)
}

// stanzaLabels gives the labels age's recipients attach to the stanza
// kinds a file already holds, for the kinds whose labels are fixed.
func stanzaLabels(stanzas []*age.Stanza) ([]string, error) {
	var labels []string
	for i, s := range stanzas {
		var l []string
		switch s.Type {
		case "X25519", "ssh-ed25519", "ssh-rsa", "p256tag":
		case "mlkem768x25519", "mlkem768p256tag":
			l = []string{"postquantum"}
		default:
			return nil, fmt.Errorf("%w: the file holds a stanza of a kind whose mixing rules are unknown (stanza %d); rewrap it to the whole set instead", ErrRecipients, i+1)
		}
		if i == 0 {
			labels = l
		} else if !slices.Equal(labels, l) {
			return nil, labelsError(labels, l)
		}
	}
	return labels, nil
}

// assemble writes the new header for fileKey and appends payload.
func assemble(fileKey []byte, stanzas []*age.Stanza, payload []byte) ([]byte, error) {
	hdr, err := marshalHeader(fileKey, stanzas)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRecipients, err)
	}
	out := make([]byte, 0, len(hdr)+len(payload))
	return append(append(out, hdr...), payload...), nil
}
