package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"golang.org/x/sys/unix"
)

// MaxValueLen bounds a secret value. Linux refuses a single environment
// string longer than 128 KiB, and a value is only ever used as one.
const MaxValueLen = 64 << 10

// maxFileLen bounds what Read will load: a value plus age's overhead.
const maxFileLen = MaxValueLen + 4096

const (
	identityFile   = "identity.txt"
	recipientsFile = "recipients.txt"
	secretsDir     = "secrets"
	lockName       = ".lock"
	secretExt      = ".age"
)

var (
	// ErrNotFound is returned for a secret that does not exist.
	ErrNotFound = errors.New("no such secret")
	// ErrNoStore is returned by Open when the directory holds no store.
	ErrNoStore = errors.New("no store here (run `llms init`)")
	// ErrExists is returned by Init when a store is already present.
	ErrExists = errors.New("a store already exists here; refusing to overwrite it")
)

// Store is an opened secret store.
type Store struct {
	// dir is the personal data dir: identity, sealed state, audit log.
	dir string
	// sdir holds secrets/: dir itself, or a shared store's directory.
	sdir string
	// idPath is the identity file: dir's identity.txt, or the one
	// $LLM_SECRETS_IDENTITY_FILE names.
	idPath string
	// shared is set when the secrets are a shared store's (shared.go).
	shared *sharedStore
	// recipients are what sealed files (and a personal store's secrets)
	// are encrypted to.
	recipients []age.Recipient
	// identities are loaded on first use. The first is current; a second
	// one is present only while a rotation is incomplete (see Rotate).
	identities []age.Identity
	// idStamp identifies the identity file the identities were read from;
	// idGen counts the times they changed. A long-lived process (the
	// agent-mode broker) notices a rotation made by another one, and
	// forgets what it decrypted before.
	idStamp fileStamp
	idGen   uint64
	// sealed keeps sealed files decrypted, by their exact ciphertext and
	// the identities that opened them: a file that was not rewritten is
	// not decrypted again.
	sealed   map[string]sealedEntry
	warnings []string
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Warnings lists problems Open found and repaired (for example file modes
// that were too wide).
func (s *Store) Warnings() []string { return s.warnings }

// Init creates a new store in dir: the directory (0700), a fresh X25519
// identity (0600), its recipients file and the secrets directory. It refuses
// to touch a directory that already holds an identity.
func Init(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	unlock, err := lockFile(filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Lstat(filepath.Join(dir, identityFile)); err == nil {
		return nil, fmt.Errorf("%s: %w", dir, ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, secretsDir), 0o700); err != nil {
		return nil, err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	// Recipients first: a crash between the two writes leaves no identity,
	// so Init can simply be run again.
	recip := id.Recipient().String()
	if err := writeFileAtomic(filepath.Join(dir, recipientsFile), []byte(recip+"\n")); err != nil {
		return nil, err
	}
	created := time.Now().UTC().Format(time.RFC3339)
	ident := fmt.Sprintf("# created: %s\n# public key: %s\n%s\n", created, recip, id.String())
	if err := writeFileAtomic(filepath.Join(dir, identityFile), []byte(ident)); err != nil {
		return nil, err
	}
	return &Store{dir: dir, sdir: dir, idPath: filepath.Join(dir, identityFile), recipients: []age.Recipient{id.Recipient()}, identities: []age.Identity{id}}, nil
}

// Open opens the store in dir. It checks ownership and modes, narrowing any
// that are too wide (reported by Warnings), and loads the recipients. The
// identity is loaded lazily, on the first Read.
func Open(dir string) (*Store, error) {
	s := &Store{dir: dir, sdir: dir, idPath: filepath.Join(dir, identityFile)}
	if _, err := os.Lstat(filepath.Join(dir, identityFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoStore)
	}
	for _, p := range []struct {
		rel  string
		mode fs.FileMode
	}{
		{".", 0o700}, {secretsDir, 0o700}, {identityFile, 0o600}, {recipientsFile, 0o600},
	} {
		if err := s.checkMode(filepath.Join(dir, p.rel), p.mode); err != nil {
			return nil, err
		}
	}
	if err := s.loadRecipients(); err != nil {
		return nil, err
	}
	// A batch committed before a crash is applied before anyone reads,
	// so that nobody sees it half done.
	if s.exists(filepath.Join(dir, batchDir)) {
		unlock, err := s.lock()
		if err != nil {
			return nil, err
		}
		unlock()
	}
	return s, nil
}

func (s *Store) loadRecipients() error {
	path := filepath.Join(s.dir, recipientsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read recipients: %w", err)
	}
	recipients, err := age.ParseRecipients(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	s.recipients = recipients
	return nil
}

// lock takes the writer lock and re-reads the keys: another process may
// have rotated the identity since this Store was opened, and a value
// encrypted to the recipients of before would be lost.
func (s *Store) lock() (unlock func(), err error) {
	unlock, err = lockFile(filepath.Join(s.dir, lockName))
	if err != nil {
		return nil, err
	}
	s.identities = nil
	if err := s.loadRecipients(); err != nil {
		unlock()
		return nil, err
	}
	if s.shared == nil {
		if err := s.recoverBatch(); err != nil {
			unlock()
			return nil, err
		}
	}
	return unlock, nil
}

// lockSecrets takes the lock of what holds the secrets before one is
// written: the writer lock of a personal store; for a shared store its
// own lock, after which the members are re-read and must be the ones
// this member accepted (lockShared).
func (s *Store) lockSecrets() (unlock func(), err error) {
	if s.shared == nil {
		return s.lock()
	}
	return s.lockShared(true)
}

// secretRecipients are what a secret is encrypted to.
func (s *Store) secretRecipients() []age.Recipient {
	if s.shared != nil {
		return s.shared.recipients
	}
	return s.recipients
}

// checkMode refuses a path owned by another user or that is a symlink, and
// narrows a mode wider than want.
func (s *Store) checkMode(path string, want fs.FileMode) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return fmt.Errorf("store: %w", &fs.PathError{Op: "stat", Path: path, Err: err})
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return fmt.Errorf("store: %s is a symbolic link; refusing to follow it", path)
	}
	if st.Uid != uint32(os.Getuid()) {
		return fmt.Errorf("store: %s is owned by uid %d, not by you (uid %d); refusing to use it", path, st.Uid, os.Getuid())
	}
	mode := fs.FileMode(st.Mode & 0o777)
	if mode&^want != 0 {
		if err := os.Chmod(path, want); err != nil {
			return fmt.Errorf("store: %s has mode %04o and cannot be narrowed: %w", path, mode, err)
		}
		s.warnings = append(s.warnings, fmt.Sprintf("%s had mode %04o; narrowed to %04o", path, mode, want))
	}
	return nil
}

func (s *Store) secretPath(name string) string {
	return filepath.Join(s.sdir, secretsDir, name+secretExt)
}

// fileStamp tells whether a file was replaced or changed: writes go to a
// new file renamed into place, which changes the inode and the times.
type fileStamp struct {
	dev, ino, size uint64
	mtime, ctime   unix.Timespec
}

func stampOf(st *unix.Stat_t) fileStamp {
	return fileStamp{dev: st.Dev, ino: st.Ino, size: uint64(st.Size), mtime: st.Mtim, ctime: st.Ctim}
}

// loadIdentity reads the identity file, unless the identities in memory
// were read from the file that is there now.
func (s *Store) loadIdentity() error {
	path := s.idPath
	if s.identities != nil {
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err == nil && stampOf(&st) == s.idStamp {
			return nil
		}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("open identity: %w", err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("open identity: %w", err)
	}
	ids, err := age.ParseIdentities(f)
	if err != nil {
		// age's parser never echoes key material in its errors.
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, id := range ids {
		if _, ok := id.(*age.X25519Identity); !ok {
			return fmt.Errorf("%s: only X25519 identities are supported", path)
		}
	}
	if len(ids) > 2 {
		return fmt.Errorf("%s: want one identity (two during a rotation), found %d", path, len(ids))
	}
	s.setIdentities(ids)
	s.idStamp = stampOf(&st)
	return nil
}

// setIdentities replaces the identities in memory; what was decrypted
// with the previous ones is not reused.
func (s *Store) setIdentities(ids []age.Identity) {
	s.identities = ids
	s.idGen++
}

func (s *Store) exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// Has reports whether a secret exists.
func (s *Store) Has(name string) bool {
	if ValidateName(name) != nil {
		return false
	}
	_, err := os.Lstat(s.secretPath(name))
	return err == nil
}

// Read decrypts and returns a secret's value. Only the broker calls it.
func (s *Store) Read(name string) ([]byte, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	return s.decryptFile(s.secretPath(name), name)
}

// CheckValue reports whether value can be stored.
func CheckValue(value []byte) error {
	if len(value) > MaxValueLen {
		return fmt.Errorf("value is %d bytes; the limit is %d (an environment variable must hold it)", len(value), MaxValueLen)
	}
	if bytes.IndexByte(value, 0) >= 0 {
		return errors.New("value contains a NUL byte, which no environment variable can hold")
	}
	return nil
}

// Write stores value under name, atomically, and reports whether the name
// is new.
func (s *Store) Write(name string, value []byte) (created bool, err error) {
	if err := ValidateName(name); err != nil {
		return false, err
	}
	if err := CheckValue(value); err != nil {
		return false, err
	}
	unlock, err := s.lockSecrets()
	if err != nil {
		return false, err
	}
	defer unlock()
	ct, err := encryptTo(s.secretRecipients(), value)
	if err != nil {
		return false, err
	}
	path := s.secretPath(name)
	_, statErr := os.Lstat(path)
	created = errors.Is(statErr, fs.ErrNotExist)
	if err := writeFileAtomic(path, ct); err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	return created, s.recordFiles([]string{name})
}

// Delete removes a secret durably.
func (s *Store) Delete(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	unlock, err := lockFile(filepath.Join(s.sdir, lockName))
	if err != nil {
		return err
	}
	defer unlock()
	err = removeDurably(s.secretPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return err
	}
	return s.recordFiles([]string{name})
}

// Entry describes a stored secret without its value.
type Entry struct {
	Name    string
	Updated time.Time
}

// List returns the stored secrets sorted by name. Files that are not
// `<valid name>.age` (such as a temporary file left by a crash) are skipped.
func (s *Store) List() ([]Entry, error) {
	des, err := os.ReadDir(filepath.Join(s.sdir, secretsDir))
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(des))
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), secretExt)
		if !ok || !de.Type().IsRegular() || ValidateName(name) != nil {
			continue
		}
		out = append(out, Entry{Name: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Stat fills in Updated for an entry (a separate call so that listing
// 10,000 names needs no stat per file unless asked).
func (s *Store) Stat(name string) (Entry, error) {
	fi, err := os.Lstat(s.secretPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return Entry{}, err
	}
	return Entry{Name: name, Updated: fi.ModTime().UTC()}, nil
}

// DeriveKey derives a key bound to this store's identity for one purpose
// (label), so that what is computed with it, such as peek fingerprints,
// cannot be checked against guesses by anyone without the identity.
func (s *Store) DeriveKey(label string) ([]byte, error) {
	if err := s.loadIdentity(); err != nil {
		return nil, err
	}
	x := s.identities[0].(*age.X25519Identity)
	mac := hmac.New(sha256.New, []byte(x.String()))
	mac.Write([]byte(label))
	return mac.Sum(nil), nil
}

// Exists reports whether dir holds a store: an identity and its recipients.
// A directory with an identity but no recipients is what llm-secrets v3
// leaves (see Adopt).
func Exists(dir string) bool {
	for _, name := range []string{identityFile, recipientsFile} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// Adopt makes a store of dir, which holds an age X25519 identity but no
// recipients file — the directory llm-secrets v3 leaves — keeping that
// identity: it writes the identity's recipient and creates the secrets
// directory. The identity file is not touched, so whatever it decrypted
// still decrypts. Like Init, it refuses a directory that is already a store.
func Adopt(dir string) (*Store, error) {
	unlock, err := lockFile(filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if Exists(dir) {
		return nil, fmt.Errorf("%s: %w", dir, ErrExists)
	}
	s := &Store{dir: dir, sdir: dir, idPath: filepath.Join(dir, identityFile)}
	if err := s.checkMode(filepath.Join(dir, identityFile), 0o600); err != nil {
		return nil, err
	}
	if err := s.loadIdentity(); err != nil {
		return nil, err
	}
	if len(s.identities) != 1 {
		return nil, fmt.Errorf("%s: want one identity, found %d", filepath.Join(dir, identityFile), len(s.identities))
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, secretsDir), 0o700); err != nil {
		return nil, err
	}
	recip := s.identities[0].(*age.X25519Identity).Recipient()
	if err := writeFileAtomic(filepath.Join(dir, recipientsFile), []byte(recip.String()+"\n")); err != nil {
		return nil, err
	}
	return Open(dir)
}
