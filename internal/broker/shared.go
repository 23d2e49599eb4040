package broker

import (
	"fmt"

	"github.com/llm-secrets/llms/internal/store"
	"github.com/llm-secrets/llms/internal/v3store"
)

// A shared store (store/shared.go) is opened behind the same gate as a
// personal one: exec, peek, list, delegation, policy and the audit log
// work the same; the audit lines name the shared store. Member changes
// are the human's alone, recorded before they are made.

// SharedOptions locate a shared store and the member using it.
type SharedOptions = store.SharedOptions

// Member is one recipient of a shared store.
type Member = store.Member

// ErrUnaccepted: the shared store's members are not the ones accepted.
var ErrUnaccepted = store.ErrUnaccepted

// OpenShared opens a shared store behind a broker.
func OpenShared(o SharedOptions) (*Broker, error) {
	if o.IdentityFile == "" && !store.Exists(o.Personal) && v3store.Present(o.Personal) {
		return nil, fmt.Errorf("%s: %w", o.Personal, ErrV3Store)
	}
	st, err := store.OpenShared(o)
	if err != nil {
		return nil, err
	}
	return newBroker(st), nil
}

// InitShared creates a shared store whose one member, name, is o's
// identity.
func InitShared(o SharedOptions, name string) error {
	_, err := store.InitShared(o, name)
	return err
}

// SharedStore is the shared store's directory, "" for a personal store.
func (b *Broker) SharedStore() string { return b.st.Shared() }

// Recipient is this member's own age recipient (public).
func (b *Broker) Recipient() (string, error) { return b.st.Recipient() }

// Members are the members recipients.txt names and those this member
// accepted.
func (b *Broker) Members() (current, accepted []Member, err error) { return b.st.Members() }

// AddMember adds a member and re-encrypts every secret to the new set.
func (b *Broker) AddMember(c *Caller, m Member) error {
	if err := b.change("member-add", nil, c, "changes a shared store's members"); err != nil {
		return err
	}
	return b.st.AddMember(m)
}

// RemoveMember removes a member, re-encrypts every secret to the rest,
// and returns the secrets the removed member could read.
func (b *Broker) RemoveMember(c *Caller, name string) ([]Entry, error) {
	if err := b.change("member-remove", nil, c, "changes a shared store's members"); err != nil {
		return nil, err
	}
	return b.st.RemoveMember(name)
}

// AcceptMembers accepts the members recipients.txt names now and, with
// reencrypt, re-encrypts every secret to them.
func (b *Broker) AcceptMembers(c *Caller, reencrypt bool) ([]string, error) {
	if err := b.change("member-accept", nil, c, "accepts a shared store's members"); err != nil {
		return nil, err
	}
	return b.st.AcceptMembers(reencrypt)
}

// MemberDiff describes how to differs from from, one line a member.
func MemberDiff(from, to []Member) []string { return store.MemberDiff(from, to) }

// MergeMembersFiles is the recipients.txt holding every member of two.
func MergeMembersFiles(ours, theirs []byte) ([]byte, error) {
	a, err := store.ParseMembers(ours)
	if err != nil {
		return nil, fmt.Errorf("yours: %w", err)
	}
	b, err := store.ParseMembers(theirs)
	if err != nil {
		return nil, fmt.Errorf("the remote's: %w", err)
	}
	return store.FormatMembers(store.UnionMembers(a, b)), nil
}

// LockShared takes the lock of a shared store's writers on this machine.
func LockShared(dir string) (unlock func(), err error) { return store.LockShared(dir) }

// SharedStateDir is where the data dir personal keeps what concerns the
// shared store dir.
func SharedStateDir(personal, dir string) string { return store.SharedStateDir(personal, dir) }

// ValidateMemberName reports whether name can name a member.
func ValidateMemberName(name string) error { return store.ValidateMemberName(name) }

// PendingReencryptFile, in SharedStateDir, lists the secrets a sync held
// back until they are re-encrypted to the accepted members.
const PendingReencryptFile = store.PendingReencryptFile

// TakeSecret replaces a secret with the age file ct re-encrypted to the
// accepted members, or removes it when ct is nil (`llms resolve
// --theirs`).
func (b *Broker) TakeSecret(c *Caller, name string, ct []byte) error {
	if err := b.change("resolve", []string{name}, c, "settles a shared store's conflicts"); err != nil {
		return err
	}
	return b.st.TakeSecret(name, ct)
}

// SameValue reports whether two age files of the secret name hold the
// same value; the values never leave the store.
func (b *Broker) SameValue(name string, x, y []byte) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st.SameValue(name, x, y)
}

// RecordSecrets records the secret files of names as llms's own (`llms
// sync`, for the files it brought; it holds the shared lock).
func (b *Broker) RecordSecrets(names []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st.RecordSecrets(names)
}

// UnknownSecrets lists which of names llms did not write or bring as they
// are: put in the working tree, or removed from it, by something else.
func (b *Broker) UnknownSecrets(names []string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st.UnknownSecrets(names)
}
