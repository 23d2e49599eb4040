package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
)

// Rotate replaces the identity and re-encrypts every secret and sealed
// file to the new one, so that a copy of the old identity opens nothing
// written afterwards… and nothing that exists now.
//
// It is crash-safe at every instant because the old identity is never
// dropped before the last file is durable under the new one:
//
//  1. identity.txt := new + old   (both decrypt; the old is kept)
//  2. recipients.txt := new       (writes from now on use the new key)
//  3. each file not yet under the new key is re-encrypted, atomically
//  4. identity.txt := new         (the old key is gone)
//
// A crash before 4 leaves two identities in identity.txt; every file opens
// with one of them, Rotating reports it, and running Rotate again resumes
// with the same new identity.
func (s *Store) Rotate() error {
	if s.shared != nil {
		return errors.New("store: a shared store's secrets are encrypted to its members: rotate your key by adding a new identity as a member and removing the old one (llms member add/remove), not with --rotate")
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.loadIdentity(); err != nil {
		return err
	}
	if len(s.identities) == 1 {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return err
		}
		s.setIdentities([]age.Identity{id, s.identities[0]})
		if err := s.writeIdentities(); err != nil {
			return err
		}
	}
	next := s.identities[0].(*age.X25519Identity)
	s.recipients = []age.Recipient{next.Recipient()}
	if err := writeFileAtomic(filepath.Join(s.dir, recipientsFile), []byte(next.Recipient().String()+"\n")); err != nil {
		return err
	}
	paths, err := s.encryptedFiles()
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := s.reencrypt(p, next); err != nil {
			return err
		}
	}
	// A temporary file left by a crash may hold a value under the old key.
	for _, dir := range []string{s.dir, filepath.Join(s.dir, secretsDir)} {
		if err := os.Remove(filepath.Join(dir, tempName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	s.setIdentities(s.identities[:1])
	return s.writeIdentities()
}

// Rotating reports whether a rotation was interrupted (two identities).
func (s *Store) Rotating() (bool, error) {
	if err := s.loadIdentity(); err != nil {
		return false, err
	}
	return len(s.identities) > 1, nil
}

func (s *Store) writeIdentities() error {
	first := s.identities[0].(*age.X25519Identity)
	text := fmt.Sprintf("# created: %s\n# public key: %s\n", time.Now().UTC().Format(time.RFC3339), first.Recipient())
	for i, id := range s.identities {
		if i == 1 {
			text += "# previous identity, kept until a rotation completes\n"
		}
		text += id.(*age.X25519Identity).String() + "\n"
	}
	return writeFileAtomic(filepath.Join(s.dir, identityFile), []byte(text))
}

// encryptedFiles lists every age file the identity must open.
func (s *Store) encryptedFiles() ([]string, error) {
	es, err := s.List()
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range es {
		paths = append(paths, s.secretPath(e.Name))
	}
	for name := range sealedNames {
		p, _ := s.sealedPath(name)
		if s.exists(p) {
			paths = append(paths, p)
		}
	}
	return paths, nil
}

// reencrypt rewrites path under next unless it already is.
func (s *Store) reencrypt(path string, next *age.X25519Identity) error {
	if _, err := s.decryptWith(path, filepath.Base(path), []age.Identity{next}); err == nil {
		return nil // already under the new identity
	}
	data, err := s.decryptWith(path, filepath.Base(path), s.identities)
	if err != nil {
		return err
	}
	ct, err := encryptTo(s.recipients, data)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, ct)
}
