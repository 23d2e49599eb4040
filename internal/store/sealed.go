package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"filippo.io/age"
	"golang.org/x/sys/unix"
)

// Sealed files hold llms's own state that must stay confidential — root
// keys, the session token, the audit key — encrypted like secrets but kept
// out of the secrets namespace, so no `exec --inject` can name them.
// Each is one age file at <dir>/<name>.age.
var sealedNames = map[string]bool{
	"rootkeys": true, // every root key, in one file: revoke-all is one unlink
	"session":  true, // the human's session token
	"auditkey": true, // the audit log's MAC key
	"leases":   true, // every token minted, until it expires
	"revoked":  true, // ids of revoked tokens, until they expire
	"requests": true, // secrets agents asked the human for, until answered
}

func (s *Store) sealedPath(name string) (string, error) {
	if !sealedNames[name] {
		return "", fmt.Errorf("store: unknown sealed file %q", name)
	}
	return filepath.Join(s.dir, name+secretExt), nil
}

// sealedEntry is a sealed file as last decrypted.
type sealedEntry struct {
	ciphertext, plaintext []byte
	idGen                 uint64
}

// ReadSealed decrypts a sealed file; ErrNotFound when it does not exist.
// The file is read every time, and decrypted only when its bytes differ
// from the last ones decrypted with the current identities: age encrypts
// to a fresh key every time, so any rewrite changes them.
func (s *Store) ReadSealed(name string) ([]byte, error) {
	path, err := s.sealedPath(name)
	if err != nil {
		return nil, err
	}
	if err := s.loadIdentity(); err != nil {
		return nil, err
	}
	ct, err := s.readCiphertext(path, name)
	if err != nil {
		delete(s.sealed, name)
		return nil, err
	}
	if e, ok := s.sealed[name]; ok && e.idGen == s.idGen && bytes.Equal(e.ciphertext, ct) {
		return bytes.Clone(e.plaintext), nil
	}
	data, err := s.decryptCiphertext(ct, name)
	if err != nil {
		return nil, err
	}
	if s.sealed == nil {
		s.sealed = make(map[string]sealedEntry, len(sealedNames))
	}
	s.sealed[name] = sealedEntry{ciphertext: ct, plaintext: bytes.Clone(data), idGen: s.idGen}
	return data, nil
}

// WriteSealed replaces a sealed file atomically, under the writer lock.
func (s *Store) WriteSealed(name string, data []byte) error {
	return s.UpdateSealed(name, func([]byte) ([]byte, error) { return data, nil })
}

// UpdateSealed applies fn to a sealed file's content (nil when absent)
// under the writer lock, so concurrent read-modify-writes do not lose
// updates. fn returning nil data deletes the file.
func (s *Store) UpdateSealed(name string, fn func(old []byte) ([]byte, error)) error {
	path, err := s.sealedPath(name)
	if err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	old, err := s.decryptFile(path, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	data, err := fn(old)
	if err != nil {
		return err
	}
	// age adds a header and 16 bytes a 64 KiB chunk: keep what is written
	// readable.
	if len(data) > maxSealedLen-maxSealedLen/1024-4096 {
		return fmt.Errorf("store: %s would hold %d bytes, more than llms reads back: not written", name, len(data))
	}
	if data == nil {
		if err := removeDurably(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	ct, err := encryptTo(s.recipients, data)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, ct)
}

// DeleteSealed removes a sealed file durably; absent is not an error.
func (s *Store) DeleteSealed(name string) error {
	return s.UpdateSealed(name, func([]byte) ([]byte, error) { return nil, nil })
}

func encryptTo(recipients []age.Recipient, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, recipients...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// rereadIdentity reloads the identity file and reports whether it changed.
func (s *Store) rereadIdentity() bool {
	before, gen := s.identities, s.idGen
	s.identities = nil
	if err := s.loadIdentity(); err != nil {
		s.identities, s.idGen = before, gen
		return false
	}
	return !sameIdentities(before, s.identities)
}

func sameIdentities(a, b []age.Identity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].(*age.X25519Identity).String() != b[i].(*age.X25519Identity).String() {
			return false
		}
	}
	return true
}

// decryptFile decrypts path with the store's identity (see
// decryptCiphertext).
func (s *Store) decryptFile(path, label string) ([]byte, error) {
	if err := s.loadIdentity(); err != nil {
		return nil, err
	}
	ct, err := s.readCiphertext(path, label)
	if err != nil {
		return nil, err
	}
	return s.decryptCiphertext(ct, label)
}

// decryptCiphertext decrypts one file's bytes with the store's identity.
func (s *Store) decryptCiphertext(ct []byte, label string) ([]byte, error) {
	data, err := decrypt(ct, label, s.identities)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) && s.rereadIdentity() {
		// A rotation finished after this Store loaded the identity: the
		// file was re-encrypted to the new one. Try once more with it.
		data, err = decrypt(ct, label, s.identities)
	}
	return data, err
}

// maxSealedLen bounds a sealed file. The lease and revocation lists grow
// with every token minted until it expires, far past what one value can
// make (a long session mints thousands of tokens).
const maxSealedLen = 16 << 20

// readCiphertext opens path without following links, checks its mode and
// reads it, up to the largest file a value (or, for a sealed file, llms's
// state) can make; a larger file is refused, not cut short. label names it
// in errors.
func (s *Store) readCiphertext(path, label string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, label)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := s.checkMode(path, 0o600); err != nil {
		return nil, err
	}
	limit := int64(maxFileLen)
	if filepath.Dir(path) == s.dir {
		limit = maxSealedLen
	}
	ct, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(ct)) > limit {
		err = fmt.Errorf("store: %s is larger than %d bytes: refusing to read it", label, limit)
	}
	return ct, err
}

// decryptWith reads path (see readCiphertext) and decrypts it with exactly
// ids.
func (s *Store) decryptWith(path, label string, ids []age.Identity) ([]byte, error) {
	ct, err := s.readCiphertext(path, label)
	if err != nil {
		return nil, err
	}
	return decrypt(ct, label, ids)
}

// decrypt opens an age file's bytes with exactly ids. label names it in
// errors.
func decrypt(ct []byte, label string, ids []age.Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(ct), ids...)
	if err != nil {
		return nil, fmt.Errorf("decrypt %s: %w", label, err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("decrypt %s: %w", label, err)
	}
	return data, nil
}
