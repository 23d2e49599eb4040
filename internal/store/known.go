package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The working tree holding a shared store is written by more than llms:
// an agent in agent mode, or anyone with a shell there, can put an age
// file of their own under secrets/ (anyone can encrypt to public keys).
// So the member's data dir records the SHA-256 of every secret file llms
// wrote there or brought with `llms sync` (<key>/known, one "NAME HASH"
// line a secret), and sync pushes no change that is not in that record.

// knownFile is the record's name in SharedStateDir.
const knownFile = "known"

func (s *Store) knownPath() string { return filepath.Join(SharedStateDir(s.dir, s.sdir), knownFile) }

func (s *Store) readKnown() (map[string]string, error) {
	known := map[string]string{}
	data, err := os.ReadFile(s.knownPath())
	if errors.Is(err, fs.ErrNotExist) {
		return known, nil
	}
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, sum, ok := strings.Cut(line, " "); ok {
			known[name] = sum
		}
	}
	return known, nil
}

// fileHash is the SHA-256 of a secret's file, "" when it does not exist.
func (s *Store) fileHash(name string) (string, error) {
	data, err := os.ReadFile(s.secretPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// recordFiles records the files of names as they are now (a missing one
// as removed). The caller holds the shared lock. A personal store keeps
// no record.
func (s *Store) recordFiles(names []string) error {
	if s.shared == nil || len(names) == 0 {
		return nil
	}
	known, err := s.readKnown()
	if err != nil {
		return err
	}
	for _, name := range names {
		sum, err := s.fileHash(name)
		if err != nil {
			return err
		}
		if sum == "" {
			delete(known, name)
		} else {
			known[name] = sum
		}
	}
	lines := make([]string, 0, len(known))
	for name, sum := range known {
		lines = append(lines, name+" "+sum+"\n")
	}
	sort.Strings(lines)
	if err := os.MkdirAll(filepath.Dir(s.knownPath()), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(s.knownPath(), []byte(strings.Join(lines, "")))
}

// RecordSecrets records the files of names as llms's own: what `llms
// sync` calls for the files it brought. The caller holds the shared lock
// (LockShared).
func (s *Store) RecordSecrets(names []string) error {
	for _, n := range names {
		if err := ValidateName(n); err != nil {
			return err
		}
	}
	return s.recordFiles(names)
}

// UnknownSecrets lists which of names differ from what llms wrote or
// brought: a file put in the working tree by something else, or removed
// by it.
func (s *Store) UnknownSecrets(names []string) ([]string, error) {
	if s.shared == nil {
		return nil, errors.New("store: not a shared store")
	}
	known, err := s.readKnown()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range names {
		if err := ValidateName(name); err != nil {
			return nil, err
		}
		sum, err := s.fileHash(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if sum != known[name] {
			out = append(out, name)
		}
	}
	return out, nil
}
