package store

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"
	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/agefile"
	"github.com/llm-secrets/llms/internal/durable"
)

// A shared store is a directory, usually in a git repository, that holds
// only what every member may see:
//
//	<shared>/
//	  recipients.txt      the members (members.go), read by `age -R`
//	  secrets/<name>.age  one age file per secret, encrypted to every member
//	  .gitattributes      *.age binary: git never merges or diffs them
//	  .gitignore          everything else is ignored (no identity can be added)
//	  .lock               flock(2) of the members' writers on this machine
//
// Everything secret of a member stays in their own data dir (the personal
// store): the identity, the sealed state, the audit log, and two files of
// this package under members/, named by the shared directory's path:
//
//	<key>/pin      the members this member accepted: no secret is encrypted
//	               to a set that differs from it (lockShared)
//	<key>/journal  the set a member change is re-encrypting to, until done
//	<key>/reencrypt  secrets a sync found encrypted to members since changed
//	               (PendingReencryptFile): accepting re-encrypts them
//	<key>/known    the hash of every secret file llms wrote or brought
//	               (known.go): sync pushes no other change
//
// Both live where only the member writes, not in the shared directory:
// whoever can push, or an agent in the working tree, can change
// recipients.txt, and a planted journal would otherwise be obeyed.

// errPersonal: a shared store's operation on a personal store.
var errPersonal = errors.New("this is a personal store: members belong to a shared one (--store, or a trusted .llm-secrets.toml)")

// lockSharedWrite is lockShared(true) of a shared store, refusing a
// personal one.
func (s *Store) lockSharedWrite() (unlock func(), err error) {
	if s.shared == nil {
		return nil, errPersonal
	}
	return s.lockShared(true)
}

// ErrUnaccepted: recipients.txt differs from the members this member
// accepted.
var ErrUnaccepted = errors.New("the shared store's members differ from the ones you accepted")

// SharedOptions locate a shared store and the member using it.
type SharedOptions struct {
	// Personal is the member's own data dir (--dir).
	Personal string
	// Shared is the shared store's directory (--store).
	Shared string
	// IdentityFile, when set, is the member's identity instead of
	// Personal's identity.txt ($LLM_SECRETS_IDENTITY_FILE, for a CI
	// runner): Personal is then created if missing, to hold llms's own
	// state encrypted to that identity.
	IdentityFile string
}

type sharedStore struct {
	members     []Member
	recipients  []age.Recipient
	pinPath     string
	journalPath string
	pendingPath string
}

// PendingReencryptFile, in SharedStateDir, lists the secrets (one a line,
// or "*" for all) that `llms sync` found written here to a member set the
// remote has since changed: they must be re-encrypted to the set the
// member accepts before they are pushed, or a removed member could read
// them.
const PendingReencryptFile = "reencrypt"

const (
	membersNewDir = ".members.new"
	gitattributes = ".gitattributes"
	gitignore     = ".gitignore"
)

// sharedFiles are what a shared store's top directory may hold; anything
// else (an identity someone put there) is refused before it is committed.
var sharedFiles = []string{recipientsFile, secretsDir, gitattributes, gitignore, lockName, tempName,
	stagingDir, batchDir, membersNewDir, ".sync.tmp"}

// GitAttributes and GitIgnore are the files InitShared writes.
const (
	GitAttributes = "# llms: ciphertext is opaque; git never merges, diffs or converts it\n*.age binary\n"
	GitIgnore     = "# llms: only ciphertext and the member list belong in a shared store\n*\n!/.gitignore\n!/.gitattributes\n!/recipients.txt\n!/secrets/\n!/secrets/*.age\n"
)

// Shared is the shared store's directory, "" for a personal store.
func (s *Store) Shared() string {
	if s.shared == nil {
		return ""
	}
	return s.sdir
}

// openPersonal opens the member's data dir.
func openPersonal(o SharedOptions) (*Store, error) {
	if o.IdentityFile == "" {
		return Open(o.Personal)
	}
	if !filepath.IsAbs(o.IdentityFile) {
		return nil, errors.New("LLM_SECRETS_IDENTITY_FILE must be an absolute path")
	}
	s := &Store{dir: o.Personal, sdir: o.Personal, idPath: o.IdentityFile}
	if err := s.checkMode(o.IdentityFile, 0o600); err != nil {
		return nil, err
	}
	if err := s.loadIdentity(); err != nil {
		return nil, err
	}
	own := s.identities[0].(*age.X25519Identity).Recipient().String()
	if err := os.MkdirAll(o.Personal, 0o700); err != nil {
		return nil, err
	}
	unlock, err := lockFile(filepath.Join(o.Personal, lockName))
	if err != nil {
		return nil, err
	}
	defer unlock()
	path := filepath.Join(o.Personal, recipientsFile)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if err := writeFileAtomic(path, []byte(own+"\n")); err != nil {
			return nil, err
		}
	}
	if err := s.checkMode(o.Personal, 0o700); err != nil {
		return nil, err
	}
	if err := s.checkMode(path, 0o600); err != nil {
		return nil, err
	}
	if err := s.loadRecipients(); err != nil {
		return nil, err
	}
	if len(s.recipients) != 1 || s.recipients[0].(*age.X25519Recipient).String() != own {
		return nil, fmt.Errorf("%s keeps state for another identity than LLM_SECRETS_IDENTITY_FILE's: give the runner a data dir of its own (--dir)", o.Personal)
	}
	return s, nil
}

// OpenShared opens a shared store for the member whose data dir (or
// identity file) o names.
func OpenShared(o SharedOptions) (*Store, error) {
	if !filepath.IsAbs(o.Shared) {
		return nil, fmt.Errorf("shared store %q: the path must be absolute", o.Shared)
	}
	s, err := openPersonal(o)
	if err != nil {
		return nil, err
	}
	sdir := filepath.Clean(o.Shared)
	if _, err := os.Lstat(filepath.Join(sdir, recipientsFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no shared store here (llms init --shared DIR creates one; llms sync brings one from the remote)", sdir)
	}
	state := SharedStateDir(s.dir, sdir)
	s.sdir = sdir
	s.shared = &sharedStore{
		pinPath:     filepath.Join(state, "pin"),
		journalPath: filepath.Join(state, "journal"),
		pendingPath: filepath.Join(state, PendingReencryptFile),
	}
	for _, p := range []struct {
		rel  string
		mode fs.FileMode
	}{{".", 0o700}, {secretsDir, 0o700}, {recipientsFile, 0o600}} {
		if err := s.checkMode(filepath.Join(sdir, p.rel), p.mode); err != nil {
			return nil, err
		}
	}
	if err := checkSharedTop(sdir); err != nil {
		return nil, err
	}
	if err := s.loadMembers(); err != nil {
		return nil, err
	}
	// Finish what a crash interrupted before anyone reads.
	if s.exists(s.shared.journalPath) || s.exists(filepath.Join(sdir, batchDir)) {
		unlock, err := s.lockShared(false)
		if err != nil {
			return nil, err
		}
		unlock()
	}
	return s, nil
}

// sharedKey names a shared store in the member's data dir.
func sharedKey(sdir string) string {
	sum := sha256.Sum256([]byte(sdir))
	return hex.EncodeToString(sum[:16])
}

// checkSharedTop refuses a shared store holding anything but its own
// files: an identity put there would be committed with the rest.
func checkSharedTop(sdir string) error {
	des, err := os.ReadDir(sdir)
	if err != nil {
		return err
	}
	for _, de := range des {
		if !slices.Contains(sharedFiles, de.Name()) {
			return fmt.Errorf("%s holds %q, which is not part of a shared store (only recipients.txt, secrets/ and the git files belong there, since everything in it is shared): move it away", sdir, de.Name())
		}
	}
	return nil
}

func (s *Store) loadMembers() error {
	path := filepath.Join(s.sdir, recipientsFile)
	data, err := s.readSmall(path)
	if err != nil {
		return err
	}
	ms, err := ParseMembers(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	rs, err := memberRecipients(ms)
	if err != nil {
		return err
	}
	s.shared.members, s.shared.recipients = ms, rs
	return nil
}

// readSmall reads a file that is not a symbolic link, of at most 1 MiB.
func (s *Store) readSmall(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const limit = 1 << 20
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && len(data) > limit {
		err = errors.New("larger than 1 MiB")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// pinned is the member set this member accepted, nil when none.
func (s *Store) pinned() ([]Member, error) {
	data, err := s.readSmall(s.shared.pinPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseMembers(data)
}

func (s *Store) writePin(ms []Member) error {
	if err := os.MkdirAll(filepath.Dir(s.shared.pinPath), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(s.shared.pinPath, FormatMembers(ms))
}

// lockShared takes the shared store's lock, finishes an interrupted
// member change or batch, re-reads the members and, with checkPin,
// refuses unless they are the ones this member accepted — the check every
// write of a secret passes.
func (s *Store) lockShared(checkPin bool) (unlock func(), err error) {
	unlock, err = lockFile(filepath.Join(s.sdir, lockName))
	if err != nil {
		return nil, err
	}
	fail := func(err error) (func(), error) {
		unlock()
		return nil, err
	}
	if s.exists(s.shared.journalPath) {
		data, err := s.readSmall(s.shared.journalPath)
		if err != nil {
			return fail(err)
		}
		target, err := ParseMembers(data)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", s.shared.journalPath, err))
		}
		if err := s.reencryptTo(target, nil); err != nil {
			return fail(fmt.Errorf("finishing an interrupted member change: %w", err))
		}
	}
	if err := s.loadMembers(); err != nil {
		return fail(err)
	}
	if err := s.recoverBatch(); err != nil {
		return fail(err)
	}
	if checkPin {
		pin, err := s.pinned()
		if err != nil {
			return fail(err)
		}
		if pin == nil {
			return fail(fmt.Errorf("%w: you have not accepted this store's members yet; check them with `llms member list` and run `llms member accept`", ErrUnaccepted))
		}
		if !SameMembers(pin, s.shared.members) {
			return fail(fmt.Errorf("%w; nothing is encrypted to them until you check the change (`llms member list`) and run `llms member accept`:\n  %s",
				ErrUnaccepted, strings.Join(MemberDiff(pin, s.shared.members), "\n  ")))
		}
	}
	return unlock, nil
}

// InitShared creates a shared store in o.Shared, an empty or missing
// directory, whose one member, name, is the identity of o, and accepts
// that member set.
func InitShared(o SharedOptions, name string) (*Store, error) {
	if err := ValidateMemberName(name); err != nil {
		return nil, err
	}
	personal, err := openPersonal(o)
	if err != nil {
		return nil, err
	}
	own, err := personal.Recipient()
	if err != nil {
		return nil, err
	}
	sdir := filepath.Clean(o.Shared)
	if err := os.MkdirAll(sdir, 0o700); err != nil {
		return nil, err
	}
	if !emptyDir(sdir) {
		return nil, fmt.Errorf("%s: %w", sdir, ErrExists)
	}
	if err := os.Mkdir(filepath.Join(sdir, secretsDir), 0o700); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, text string }{{gitattributes, GitAttributes}, {gitignore, GitIgnore}} {
		if err := writeFileAtomic(filepath.Join(sdir, f.name), []byte(f.text)); err != nil {
			return nil, err
		}
	}
	members := []Member{{Name: name, Recipient: own}}
	if err := writeFileAtomic(filepath.Join(sdir, recipientsFile), FormatMembers(members)); err != nil {
		return nil, err
	}
	s, err := OpenShared(o)
	if err != nil {
		return nil, err
	}
	return s, s.writePin(members)
}

// Recipient is this member's own age recipient (public).
func (s *Store) Recipient() (string, error) {
	if err := s.loadIdentity(); err != nil {
		return "", err
	}
	return s.identities[0].(*age.X25519Identity).Recipient().String(), nil
}

// Members are the shared store's members as recipients.txt says, and the
// set this member accepted (nil when none).
func (s *Store) Members() (current, accepted []Member, err error) {
	if s.shared == nil {
		return nil, nil, errPersonal
	}
	unlock, err := s.lockShared(false)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	accepted, err = s.pinned()
	return s.shared.members, accepted, err
}

// AddMember adds m and re-encrypts every secret to the new set.
func (s *Store) AddMember(m Member) error {
	if err := ValidateMemberName(m.Name); err != nil {
		return err
	}
	if _, err := ParseMemberRecipient(m.Recipient); err != nil {
		return err
	}
	return s.changeMembers(func(ms []Member) ([]Member, error) {
		for _, o := range ms {
			if o.Name == m.Name {
				return nil, fmt.Errorf("%s is already a member", m.Name)
			}
			if o.Recipient == m.Recipient {
				return nil, fmt.Errorf("that recipient is already member %s's", o.Name)
			}
		}
		return append(ms, m), nil
	})
}

// RemoveMember removes name, re-encrypts every secret to the members
// left, and returns the secrets the removed member could read, with the
// time each was last written: removal does not take back what they saw.
func (s *Store) RemoveMember(name string) ([]Entry, error) {
	own, err := s.Recipient()
	if err != nil {
		return nil, err
	}
	var exposed []Entry
	err = s.changeMembers(func(ms []Member) ([]Member, error) {
		i := slices.IndexFunc(ms, func(m Member) bool { return m.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("%s is not a member", name)
		}
		if ms[i].Recipient == own {
			return nil, fmt.Errorf("%s is you: removing yourself would leave you unable to read the store; ask another member", name)
		}
		if exposed, err = s.listStat(); err != nil {
			return nil, err
		}
		return slices.Delete(slices.Clone(ms), i, i+1), nil
	})
	return exposed, err
}

func (s *Store) listStat() ([]Entry, error) {
	es, err := s.List()
	if err != nil {
		return nil, err
	}
	for i := range es {
		if es[i], err = s.Stat(es[i].Name); err != nil {
			return nil, err
		}
	}
	return es, nil
}

// AcceptMembers accepts the members recipients.txt names now, and
// re-encrypts to them the secrets a sync listed as pending
// (PendingReencryptFile) or, with reencrypt, every secret. It returns how
// the accepted set changed.
func (s *Store) AcceptMembers(reencrypt bool) ([]string, error) {
	if s.shared == nil {
		return nil, errPersonal
	}
	unlock, err := s.lockShared(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	pin, err := s.pinned()
	if err != nil {
		return nil, err
	}
	diff := MemberDiff(pin, s.shared.members)
	only, pending, err := s.pending()
	if err != nil {
		return nil, err
	}
	if !reencrypt && !pending {
		return diff, s.writePin(s.shared.members)
	}
	if reencrypt {
		only = nil
	}
	if err := s.reencryptTo(s.shared.members, only); err != nil {
		return nil, err
	}
	if err := os.Remove(s.shared.pendingPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return diff, nil
}

// pending reads PendingReencryptFile: the names it lists (nil for all)
// and whether it exists.
func (s *Store) pending() (only map[string]bool, ok bool, err error) {
	data, err := s.readSmall(s.shared.pendingPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	only = map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		switch line = strings.TrimSpace(line); line {
		case "":
		case "*":
			return nil, true, nil
		default:
			only[line] = true
		}
	}
	return only, true, nil
}

// TakeSecret replaces a secret with the age file ct, re-encrypted to the
// accepted members, or removes it when ct is nil: what `llms resolve
// --theirs` does with the remote's file, which may have been written to
// members since removed here. The value is only ever in memory.
func (s *Store) TakeSecret(name string, ct []byte) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	unlock, err := s.lockSharedWrite()
	if err != nil {
		return err
	}
	defer unlock()
	path := s.secretPath(name)
	if ct == nil {
		if err := removeDurably(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return s.recordFiles([]string{name})
	}
	if len(ct) > maxFileLen {
		return fmt.Errorf("store: %s is larger than %d bytes: refusing to read it", name, maxFileLen)
	}
	if err := s.loadIdentity(); err != nil {
		return err
	}
	nct, err := agefile.Rewrap(ct, s.identities, s.shared.recipients)
	if err != nil {
		return fmt.Errorf("re-wrap %s: %w", name, err)
	}
	if err := writeFileAtomic(path, nct); err != nil {
		return err
	}
	return s.recordFiles([]string{name})
}

// changeMembers applies change to the accepted members and re-encrypts
// every secret to the result.
func (s *Store) changeMembers(change func([]Member) ([]Member, error)) error {
	unlock, err := s.lockSharedWrite()
	if err != nil {
		return err
	}
	defer unlock()
	target, err := change(slices.Clone(s.shared.members))
	if err != nil {
		return err
	}
	return s.reencryptTo(target, nil)
}

// reencryptTo makes target the members, crash-safely, in the way Rotate
// keeps the old key until the end: each secret file is replaced
// atomically, so it is readable by the old set or the new at every
// instant, and the journal in the member's data dir, written first and
// removed last, makes the next command finish the change:
//
//  1. journal := target
//  2. every secret's file key is re-wrapped to target (agefile: the
//     payload is kept byte for byte, and any stanza not for target is
//     dropped) into .members.new/, flushed with one syncfs, and renamed
//     over its old file (keeping its time)
//  3. recipients.txt := target, pin := target
//  4. the journal is removed
//
// With only, just those secrets are re-encrypted (the set stays the
// same, so the others already are encrypted to it). The caller holds the
// shared lock.
func (s *Store) reencryptTo(target []Member, only map[string]bool) error {
	recips, err := memberRecipients(target)
	if err != nil {
		return err
	}
	if len(recips) == 0 {
		return errors.New("a shared store needs at least one member")
	}
	if err := os.MkdirAll(filepath.Dir(s.shared.journalPath), 0o700); err != nil {
		return err
	}
	if err := writeFileAtomic(s.shared.journalPath, FormatMembers(target)); err != nil {
		return err
	}
	if err := s.loadIdentity(); err != nil {
		return err
	}
	es, err := s.List()
	if err != nil {
		return err
	}
	if only != nil {
		es = slices.DeleteFunc(es, func(e Entry) bool { return !only[e.Name] })
	}
	staging := filepath.Join(s.sdir, membersNewDir)
	if err := os.RemoveAll(staging); err != nil {
		return err
	}
	if err := os.Mkdir(staging, 0o700); err != nil {
		return err
	}
	rw := agefile.NewRewrapper(s.identities)
	err = s.stage(staging, len(es), func(i int) (staged, error) {
		path := s.secretPath(es[i].Name)
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return staged{}, err
		}
		ct, err := s.readCiphertext(path, es[i].Name)
		if err != nil {
			return staged{}, err
		}
		nct, err := rw.Rewrap(ct, recips)
		if err != nil {
			err = fmt.Errorf("re-wrap %s: %w", es[i].Name, err)
		}
		mtime := st.Mtim
		return staged{name: es[i].Name, ct: nct, mtime: &mtime}, err
	})
	if err != nil {
		os.RemoveAll(staging)
		return err
	}
	secrets := filepath.Join(s.sdir, secretsDir)
	for _, e := range es {
		if err := unix.Rename(filepath.Join(staging, e.Name+secretExt), s.secretPath(e.Name)); err != nil {
			return fmt.Errorf("store: rename %s: %w", e.Name, err)
		}
	}
	if err := durable.SyncDir(secrets); err != nil {
		return err
	}
	if err := os.Remove(staging); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(s.sdir, recipientsFile), FormatMembers(target)); err != nil {
		return err
	}
	if err := s.writePin(target); err != nil {
		return err
	}
	s.shared.members, s.shared.recipients = target, recips
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name
	}
	if err := s.recordFiles(names); err != nil {
		return err
	}
	return removeDurably(s.shared.journalPath)
}

// LockShared takes the lock a shared store's writers on this machine
// share, creating the directory if needed (a first sync brings the store).
func LockShared(sdir string) (unlock func(), err error) {
	if err := os.MkdirAll(sdir, 0o700); err != nil {
		return nil, err
	}
	return lockFile(filepath.Join(sdir, lockName))
}

// SharedStateDir is where a member's data dir keeps what concerns one
// shared store (pin, journal, a sync's resolutions).
func SharedStateDir(personal, sdir string) string {
	return filepath.Join(personal, "members", sharedKey(filepath.Clean(sdir)))
}

// SameValue reports whether two age files hold the same value, decrypting
// both in memory with this member's identity: `llms sync` settles a
// "conflict" that is only two re-encryptions of one value (two members
// changed the members at once). A file this member cannot open is not
// the same.
func (s *Store) SameValue(label string, a, b []byte) (bool, error) {
	if err := s.loadIdentity(); err != nil {
		return false, err
	}
	va, err := decrypt(a, label, s.identities)
	if err != nil {
		return false, nil
	}
	vb, err := decrypt(b, label, s.identities)
	if err != nil {
		return false, nil
	}
	return subtle.ConstantTimeCompare(va, vb) == 1, nil
}
