// Package teamsync owns `llms sync` and `llms resolve`: it carries a
// shared store between the members' clones of a git repository.
//
// The store's history lives on a branch of its own (llms-store unless
// .llm-secrets.toml names another), whose tree holds the store's
// directory and nothing else; the store's directory is kept out of the
// user's branches (.git/info/exclude). So a sync never commits the user's
// branch work or uncommitted files, never touches their index, working
// tree (outside the store) or current branch, and a push sends ciphertext
// and the member list only.
//
// A sync is a three-way merge by file, done here, not by git: the base is
// the branch as last synced, ours the store's directory, theirs the
// remote's branch. A file changed on one side takes that side. A secret
// changed on both stops the sync, naming it (unless both files hold one
// value: two re-encryptions), until `llms resolve NAME --ours|--theirs`
// settles it; no conflict marker is ever written, and a value exists only
// in memory or in an age file. recipients.txt changed on both sides becomes
// the union of both sides' members, which every member must then accept;
// a secret changed here while the members changed on the remote is held
// back until accepting re-encrypted it. Trees are built with mktree from
// blobs hashed here, and every git command goes through gitrun's Writer
// (no hook, filter, driver or helper of the repository runs). What needs
// the store (merging members, re-encrypting, comparing two values) the
// caller hands in as functions: this package never opens it.
//
// It refuses to commit anything but the store's own files, and any file
// holding an age identity.
package teamsync

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/llm-secrets/llms/internal/durable"
	"github.com/llm-secrets/llms/internal/gitrun"
)

// Options say which store to sync, where, and how.
type Options struct {
	Git *gitrun.Writer
	// Root is the repository's top, Store the store's directory in it.
	Root, Store string
	// Branch holds the store's history; Remote is the remote to sync with.
	Branch, Remote string
	// LocalRemote: the remote is a repository on this machine, whose
	// git-receive-pack runs here, so its hooks and alternateRefsCommand are
	// switched off too (git does not hand its command-line settings to a
	// local remote's).
	LocalRemote bool
	// Resolved is the file, in the member's data dir, that remembers the
	// secrets `llms resolve --ours` settled.
	Resolved string
	// MergeMembers settles a recipients.txt both sides changed: the union
	// of their members.
	MergeMembers func(ours, theirs []byte) ([]byte, error)
	// Pending is the file, in the member's data dir, listing the secrets
	// written here to a member set the remote changed since: they are
	// not pushed until accepting the new set re-encrypted them.
	Pending string
	// Take replaces a secret with an age file re-encrypted to the members
	// this member accepted, or removes it for nil (`resolve --theirs`: the
	// remote's file may have been written to members since removed here).
	// It takes the store's lock itself: Resolve runs without it.
	Take func(name string, ct []byte) error
	// Same reports whether two age files of a secret hold one value (nil:
	// never), so that two re-encryptions of it are no conflict.
	Same func(name string, a, b []byte) (bool, error)
	// Record notes the secrets' files as llms brought them; Unknown lists
	// those whose file llms did not write or bring as it is. A change
	// Unknown names is not pushed.
	Record  func(names []string) error
	Unknown func(names []string) ([]string, error)
}

// Report says what a sync did.
type Report struct {
	// Pulled and Pushed describe each file that came from the remote, or
	// went to it ("set NAME", "removed NAME", "members changed").
	Pulled, Pushed []string
	// Commit is the commit pushed, "" when there was nothing to push.
	Commit string
	// Conflicts are the secrets both sides changed (the sync stopped).
	Conflicts []string
	// MembersMerged: recipients.txt was settled by the union of both sides.
	MembersMerged bool
	// Held are the secrets changed here and not pushed, because the
	// members changed (ErrHeld); "*" for all of them.
	Held []string
}

// ErrConflict: both sides changed the same secrets.
var ErrConflict = errors.New("both you and the remote changed the same secrets")

// ErrForeignChange: a secret's file changed, but not by llms.
var ErrForeignChange = errors.New("refusing to push a change llms did not make")

// ErrHeld: the members changed on the remote (or on both sides) while
// secrets changed here, encrypted to the members of before; they are
// held back until re-encrypted to the new set.
var ErrHeld = errors.New("the members changed")

const (
	recipientsPath = "recipients.txt"
	secretsPrefix  = "secrets/"
	tmpName        = ".sync.tmp"
)

// isSecretFile: secrets/NAME.age, NAME as the store allows it (no
// regexp: one compiled at start-up would cost every llms command).
func isSecretFile(rel string) bool {
	name, inSecrets := strings.CutPrefix(rel, secretsPrefix)
	name, ok := strings.CutSuffix(name, ".age")
	if !inSecrets || !ok || len(name) == 0 || len(name) > 128 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
		if !alnum && (i == 0 || c != '.' && c != '-') {
			return false
		}
	}
	return true
}

// storePath reports whether rel (relative to the store) is a file a
// shared store commits.
func storePath(rel string) bool {
	switch rel {
	case recipientsPath, ".gitattributes", ".gitignore":
		return true
	}
	return isSecretFile(rel)
}

// files maps a store-relative path to its blob id.
type files map[string]string

type syncer struct {
	Options
	prefix string // the store's path in the repository, slash-separated
	hasher func() hash.Hash
}

func newSyncer(o Options) (*syncer, error) {
	rel, err := filepath.Rel(o.Root, o.Store)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("the store %s is not inside the repository %s", o.Store, o.Root)
	}
	// The working tree is whoever writes it: a store directory that is a
	// symbolic link would have the remote's files written elsewhere.
	for _, d := range []string{o.Store, filepath.Join(o.Store, "secrets")} {
		if fi, err := os.Lstat(d); err == nil && !fi.IsDir() {
			return nil, fmt.Errorf("%s is not a directory (a symbolic link?): refusing to sync through it", d)
		}
	}
	s := &syncer{Options: o, prefix: filepath.ToSlash(rel)}
	format, err := s.git(nil, "rev-parse", "--show-object-format")
	if err != nil {
		return nil, err
	}
	switch strings.TrimSpace(format) {
	case "sha1":
		s.hasher = sha1.New
	case "sha256":
		s.hasher = sha256.New
	default:
		return nil, fmt.Errorf("git object format %q is not supported", format)
	}
	return s, nil
}

func (s *syncer) git(stdin []byte, args ...string) (string, error) {
	var in io.Reader
	if stdin != nil {
		in = bytes.NewReader(stdin)
	}
	out, err := s.Git.Output(s.Root, in, args...)
	return string(out), err
}

func (s *syncer) blobID(data []byte) string {
	h := s.hasher()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// local reads the store's files, refusing one that holds an age identity.
func (s *syncer) local() (files, map[string][]byte, error) {
	out, content := files{}, map[string][]byte{}
	add := func(rel string) error {
		path := filepath.Join(s.Store, filepath.FromSlash(rel))
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file: refusing to commit it", path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte("AGE-SECRET-KEY-")) || bytes.Contains(data, []byte("age-secret-key-")) {
			return fmt.Errorf("%s holds an age identity: refusing to commit it (move it out of the store, and treat that identity as exposed if it was ever pushed)", path)
		}
		out[rel], content[rel] = s.blobID(data), data
		return nil
	}
	for _, rel := range []string{recipientsPath, ".gitattributes", ".gitignore"} {
		if err := add(rel); err != nil {
			return nil, nil, err
		}
	}
	des, err := os.ReadDir(filepath.Join(s.Store, "secrets"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	for _, de := range des {
		if rel := secretsPrefix + de.Name(); storePath(rel) {
			if err := add(rel); err != nil {
				return nil, nil, err
			}
		}
	}
	return out, content, nil
}

// tree lists the store's files in commit ("" : none).
func (s *syncer) tree(commit string) (files, error) {
	out := files{}
	if commit == "" {
		return out, nil
	}
	text, err := s.git(nil, "ls-tree", "-r", "-z", "--full-tree", commit, "--", s.prefix+"/")
	if err != nil {
		return nil, err
	}
	for _, rec := range strings.Split(strings.TrimSuffix(text, "\x00"), "\x00") {
		meta, path, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 || f[1] != "blob" {
			continue
		}
		if rel, ok := strings.CutPrefix(path, s.prefix+"/"); ok && storePath(rel) {
			out[rel] = f[2]
		}
	}
	return out, nil
}

func (s *syncer) ref(name string) (string, error) {
	out, err := s.git(nil, "rev-parse", "--verify", "--quiet", "--end-of-options", name+"^{commit}")
	if err != nil {
		return "", nil // no such ref: --quiet exits 1 without a message
	}
	return strings.TrimSpace(out), nil
}

func (s *syncer) remoteRef() string { return "refs/remotes/" + s.Remote + "/" + s.Branch }

// fetch brings the remote's branch; it reports false when the remote has
// none yet.
func (s *syncer) fetch() (bool, error) {
	out, err := s.git(nil, "ls-remote", "--upload-pack=git-upload-pack", "--end-of-options", s.Remote, "refs/heads/"+s.Branch)
	if err != nil {
		return false, err
	}
	if strings.TrimSpace(out) == "" {
		return false, nil
	}
	_, err = s.git(nil, "fetch", "--no-tags", "--no-recurse-submodules", "--no-write-fetch-head", "--upload-pack=git-upload-pack",
		"--end-of-options", s.Remote, "+refs/heads/"+s.Branch+":"+s.remoteRef())
	return err == nil, err
}

func (s *syncer) resolved() (map[string]string, error) {
	out := map[string]string{}
	data, err := os.ReadFile(s.Resolved)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rel, oid, ok := strings.Cut(line, " "); ok {
			out[rel] = oid
		}
	}
	return out, err
}

type decision struct {
	rel           string
	take          string // the resulting blob id, "" for none
	fromRemote    bool   // the working tree takes the remote's version
	changedRemote bool   // the remote's version differs from the result (a push changes it)
}

// merge decides each path; conflicts are secrets both sides changed.
func merge(base, ours, theirs files, resolved map[string]string) (ds []decision, conflicts []string, members bool) {
	all := map[string]bool{}
	for _, m := range []files{base, ours, theirs} {
		for p := range m {
			all[p] = true
		}
	}
	paths := make([]string, 0, len(all))
	for p := range all {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		b, l, r := base[p], ours[p], theirs[p]
		switch {
		case l == r:
			ds = append(ds, decision{rel: p, take: l})
		case l == b:
			ds = append(ds, decision{rel: p, take: r, fromRemote: true})
		case r == b || isResolved(resolved, p, r) || p == ".gitattributes" || p == ".gitignore":
			ds = append(ds, decision{rel: p, take: l, changedRemote: true})
		case p == recipientsPath:
			members = true
			ds = append(ds, decision{rel: p, changedRemote: true})
		default:
			conflicts = append(conflicts, secretName(p))
		}
	}
	return ds, conflicts, members
}

// settleSame settles each conflict whose two files hold one value (both
// sides re-encrypted it: members changed on both): ours when the members
// changed here (ours is encrypted to our new set), else theirs.
func (s *syncer) settleSame(ds []decision, conflicts []string, base, ours, theirs files, content map[string][]byte) ([]decision, []string, error) {
	if s.Same == nil {
		return ds, conflicts, nil
	}
	oursMembers := ours[recipientsPath] != base[recipientsPath]
	var left []string
	for _, name := range conflicts {
		rel := secretsPrefix + name + ".age"
		same := false
		if ours[rel] != "" && theirs[rel] != "" {
			var err error
			if same, err = s.Same(name, content[rel], s.blob(theirs[rel])); err != nil {
				return nil, nil, err
			}
		}
		switch {
		case !same:
			left = append(left, name)
		case oursMembers:
			ds = append(ds, decision{rel: rel, take: ours[rel], changedRemote: true})
		default:
			ds = append(ds, decision{rel: rel, take: theirs[rel], fromRemote: true})
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].rel < ds[j].rel })
	return ds, left, nil
}

// checkOurs refuses to go on when a secret changed here is not what llms
// wrote (or removed): a file put in the store's directory by something
// else — an agent in the working tree — would be pushed to every member
// as a value of the team's.
func (s *syncer) checkOurs(ds []decision) error {
	if s.Unknown == nil {
		return nil
	}
	var names []string
	for _, d := range ds {
		if d.changedRemote && isSecretFile(d.rel) {
			names = append(names, secretName(d.rel))
		}
	}
	if len(names) == 0 {
		return nil
	}
	unknown, err := s.Unknown(names)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%w: %s changed in the store's directory, but not by llms on this machine (an agent or another program wrote or removed the file): nothing was changed. Look at who did; `llms set NAME` (or `llms delete NAME`) makes it a change of yours, or `llms resolve NAME --theirs` takes the remote's", ErrForeignChange, strings.Join(unknown, ", "))
	}
	return nil
}

// heldBack lists the secrets changed here that must not be pushed as they
// are: the members changed on the remote (ours were encrypted to the set
// of before), or on both sides ("*": every secret must be re-encrypted to
// the union).
func heldBack(ds []decision, membersMerged bool) []string {
	if membersMerged {
		return []string{"*"}
	}
	remoteMembers := slices.ContainsFunc(ds, func(d decision) bool { return d.rel == recipientsPath && d.fromRemote })
	var held []string
	for _, d := range ds {
		if remoteMembers && d.changedRemote && isSecretFile(d.rel) && d.take != "" {
			held = append(held, secretName(d.rel))
		}
	}
	return held
}

// hold writes the held-back secrets to Pending.
func (s *syncer) hold(names []string) error {
	if err := os.MkdirAll(filepath.Dir(s.Pending), 0o700); err != nil {
		return err
	}
	return os.WriteFile(s.Pending, []byte(strings.Join(names, "\n")+"\n"), 0o600)
}

// isResolved: `llms resolve --ours` kept our p over exactly the remote's r.
func isResolved(resolved map[string]string, p, r string) bool {
	oid, ok := resolved[p]
	return ok && oid == r
}

func secretName(rel string) string {
	return strings.TrimSuffix(strings.TrimPrefix(rel, secretsPrefix), ".age")
}

func describe(rel, take string) string {
	switch rel {
	case recipientsPath:
		return "members changed"
	case ".gitattributes", ".gitignore":
		return "store " + rel
	}
	if take == "" {
		return "removed " + secretName(rel)
	}
	return "set " + secretName(rel)
}

// Sync commits the store's changes on its branch, merges the remote's,
// and pushes; see the package documentation.
func Sync(o Options) (Report, error) {
	s, err := newSyncer(o)
	if err != nil {
		return Report{}, err
	}
	if err := s.exclude(); err != nil {
		return Report{}, err
	}
	var rep Report
	for attempt := 0; ; attempt++ {
		rep, err = s.once()
		if err == nil || !errors.Is(err, errRaced) || attempt == 2 {
			return rep, err
		}
	}
}

var errRaced = errors.New("the remote changed during the sync")

func (s *syncer) once() (Report, error) {
	var rep Report
	hasRemote, err := s.fetch()
	if err != nil {
		return rep, err
	}
	base, err := s.ref("refs/heads/" + s.Branch)
	if err != nil {
		return rep, err
	}
	remote := ""
	if hasRemote {
		if remote, err = s.ref(s.remoteRef()); err != nil {
			return rep, err
		}
	}
	baseFiles, err := s.tree(base)
	if err != nil {
		return rep, err
	}
	theirs, err := s.tree(remote)
	if err != nil {
		return rep, err
	}
	ours, content, err := s.local()
	if err != nil {
		return rep, err
	}
	resolved, err := s.resolved()
	if err != nil {
		return rep, err
	}
	if _, err := os.Lstat(s.Pending); err == nil {
		return rep, fmt.Errorf("%w, and secrets written here to the members of before are waiting to be re-encrypted: check the members (`llms member list`), run `llms member accept`, then sync again", ErrHeld)
	}
	ds, conflicts, members := merge(baseFiles, ours, theirs, resolved)
	if ds, conflicts, err = s.settleSame(ds, conflicts, baseFiles, ours, theirs, content); err != nil {
		return rep, err
	}
	if len(conflicts) > 0 {
		rep.Conflicts = conflicts
		return rep, fmt.Errorf("%w: %s. Nothing was changed. Settle each with `llms resolve NAME --ours` (keep yours) or `--theirs` (take the remote's), then sync again", ErrConflict, strings.Join(conflicts, ", "))
	}
	if members {
		merged, err := s.MergeMembers(content[recipientsPath], s.blob(theirs[recipientsPath]))
		if err != nil {
			return rep, fmt.Errorf("merging recipients.txt: %w", err)
		}
		for i := range ds {
			if ds[i].rel == recipientsPath {
				ds[i].take = s.blobID(merged)
			}
		}
		if err := s.writeFile(recipientsPath, merged, time.Now()); err != nil {
			return rep, err
		}
		ours[recipientsPath], content[recipientsPath] = s.blobID(merged), merged
		rep.MembersMerged = true
	}
	if err := s.checkOurs(ds); err != nil {
		return rep, err
	}
	if err := s.apply(ds, remote, &rep); err != nil {
		return rep, err
	}
	if held := heldBack(ds, members); len(held) > 0 {
		// Pulled, not pushed: the branch is the remote's, and what
		// changed here stays a change of ours for the next sync.
		if err := s.hold(held); err != nil {
			return rep, err
		}
		rep.Held = held
		if err := s.setBranch(remote, base); err != nil {
			return rep, err
		}
		return rep, fmt.Errorf("%w on the remote while %s changed here, encrypted to the members of before: nothing was pushed. Check the members (`llms member list`), run `llms member accept` (it re-encrypts them to the accepted members), then sync again", ErrHeld, strings.Join(held, ", "))
	}
	result := files{}
	for _, d := range ds {
		if d.take != "" {
			result[d.rel] = d.take
		}
		if d.changedRemote && (d.take != theirs[d.rel]) {
			rep.Pushed = append(rep.Pushed, describe(d.rel, d.take))
		}
	}
	if len(rep.Pushed) == 0 && remote != "" {
		// Nothing of ours: the branch is the remote's.
		return rep, s.setBranch(remote, base)
	}
	if len(rep.Pushed) == 0 && remote == "" && len(result) == 0 {
		return rep, nil
	}
	if err := s.writeObjects(ds, content); err != nil {
		return rep, err
	}
	commit, err := s.commit(result, remote, base, rep.Pushed)
	if err != nil {
		return rep, err
	}
	receivePack := "--receive-pack=git-receive-pack"
	if s.LocalRemote {
		receivePack = "--receive-pack=git -c core.hooksPath=/dev/null -c core.alternateRefsCommand=true receive-pack"
	}
	if _, err := s.git(nil, "push", "--porcelain", "--no-verify", receivePack, "--end-of-options",
		s.Remote, commit+":refs/heads/"+s.Branch); err != nil {
		if strings.Contains(err.Error(), "rejected") || strings.Contains(err.Error(), "fetch first") || strings.Contains(err.Error(), "non-fast-forward") {
			return rep, errRaced
		}
		return rep, err
	}
	rep.Commit = commit
	if err := s.setBranch(commit, base); err != nil {
		return rep, err
	}
	if _, err := s.git(nil, "update-ref", "-m", "llms sync", s.remoteRef(), commit); err != nil {
		return rep, err
	}
	if err := os.Remove(s.Resolved); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return rep, err
	}
	return rep, nil
}

func (s *syncer) setBranch(to, from string) error {
	if to == from {
		return nil
	}
	args := []string{"update-ref", "-m", "llms sync", "refs/heads/" + s.Branch, to}
	if from != "" {
		args = append(args, from)
	}
	_, err := s.git(nil, args...)
	return err
}

// blob is an object's content ("" id: nil). Only blobs the remote's tree
// named are asked for.
func (s *syncer) blob(oid string) []byte {
	if oid == "" {
		return nil
	}
	out, err := s.git(nil, "cat-file", "blob", oid)
	if err != nil {
		return nil
	}
	return []byte(out)
}

// apply writes the remote's side into the store's directory, each file
// atomically, with the remote commit's time.
func (s *syncer) apply(ds []decision, remote string, rep *Report) error {
	var when time.Time
	if remote != "" {
		out, err := s.git(nil, "log", "-1", "--format=%ct", remote)
		if err != nil {
			return err
		}
		sec, _ := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		when = time.Unix(sec, 0)
	}
	for _, d := range ds {
		if !d.fromRemote {
			continue
		}
		rep.Pulled = append(rep.Pulled, describe(d.rel, d.take))
		if d.take == "" {
			path := filepath.Join(s.Store, filepath.FromSlash(d.rel))
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			continue
		}
		data, err := s.Git.Output(s.Root, nil, "cat-file", "blob", d.take)
		if err != nil {
			return err
		}
		if s.blobID(data) != d.take {
			return fmt.Errorf("git returned other content for %s than its id says", d.rel)
		}
		if err := s.writeFile(d.rel, data, when); err != nil {
			return err
		}
	}
	for _, dir := range []string{s.Store, filepath.Join(s.Store, "secrets")} {
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	return s.record(ds)
}

// record notes the secret files a sync brought (or removed) as llms's.
func (s *syncer) record(ds []decision) error {
	if s.Record == nil {
		return nil
	}
	var names []string
	for _, d := range ds {
		if d.fromRemote && isSecretFile(d.rel) {
			names = append(names, secretName(d.rel))
		}
	}
	return s.Record(names)
}

// writeFile replaces the store's file rel atomically (0600, like the
// store's own writes).
func (s *syncer) writeFile(rel string, data []byte, when time.Time) error {
	path := filepath.Join(s.Store, filepath.FromSlash(rel))
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(dir, tmpName)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && !when.IsZero() {
		err = os.Chtimes(tmp, when, when)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	return err
}

// syncDir makes the changes in dir durable; a directory not there (no
// secrets yet) has none.
func syncDir(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return durable.SyncDir(dir)
}

// writeObjects stores the blobs of our side that the commit needs.
func (s *syncer) writeObjects(ds []decision, content map[string][]byte) error {
	for _, d := range ds {
		if d.take == "" || d.fromRemote {
			continue
		}
		data, ok := content[d.rel]
		if !ok {
			continue // the remote's or the base's, already stored
		}
		out, err := s.git(data, "hash-object", "-w", "--no-filters", "--stdin")
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != d.take {
			return fmt.Errorf("git stored %s under another id", d.rel)
		}
	}
	return nil
}

// commit makes the commit whose tree holds result at the store's path.
func (s *syncer) commit(result files, remote, base string, changes []string) (string, error) {
	top, secrets := []string{}, []string{}
	for rel, oid := range result {
		if name, ok := strings.CutPrefix(rel, secretsPrefix); ok {
			secrets = append(secrets, "100644 blob "+oid+"\t"+name)
		} else {
			top = append(top, "100644 blob "+oid+"\t"+rel)
		}
	}
	if len(secrets) > 0 {
		id, err := s.mktree(secrets)
		if err != nil {
			return "", err
		}
		top = append(top, "040000 tree "+id+"\tsecrets")
	}
	id, err := s.mktree(top)
	if err != nil {
		return "", err
	}
	parts := strings.Split(s.prefix, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if id, err = s.mktree([]string{"040000 tree " + id + "\t" + parts[i]}); err != nil {
			return "", err
		}
	}
	args := []string{"commit-tree", id}
	parent := remote
	if parent == "" {
		parent = base
	}
	if parent != "" {
		args = append(args, "-p", parent)
	}
	msg := "llms sync: " + strings.Join(changes, "; ") + "\n\nNames only: the values are age ciphertext under secrets/.\n"
	args = append(args, "-m", msg)
	out, err := s.Git.CommitTree(s.Root, args)
	return strings.TrimSpace(string(out)), err
}

func (s *syncer) mktree(entries []string) (string, error) {
	sort.Strings(entries)
	entries = slices.Compact(entries)
	out, err := s.git([]byte(strings.Join(entries, "\x00")+"\x00"), "mktree", "-z")
	return strings.TrimSpace(out), err
}

// exclude keeps the store's directory out of the user's branches.
func (s *syncer) exclude() error {
	out, err := s.git(nil, "rev-parse", "--git-common-dir")
	if err != nil {
		return err
	}
	gitDir := strings.TrimSpace(out)
	if !filepath.IsAbs(gitDir) {
		gitDir = filepath.Join(s.Root, gitDir)
	}
	return Exclude(gitDir, s.prefix)
}

// Exclude adds /prefix/ to gitDir's info/exclude unless it is there.
func Exclude(gitDir, prefix string) error {
	path := filepath.Join(gitDir, "info", "exclude")
	line := "/" + prefix + "/"
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == line {
			return nil
		}
	}
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		data = append(data, '\n')
	}
	data = append(data, []byte("# the shared llms store: its history is on its own branch (llms sync)\n"+line+"\n")...)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// Resolve settles a secret both sides changed: with theirs the remote's
// file replaces the store's (or removes it), re-encrypted in memory to
// the members accepted here; otherwise the store's file is kept. Either
// way the next sync pushes it over exactly the remote's version. No
// value is written anywhere but in an age file.
func Resolve(o Options, name string, theirs bool) error {
	s, err := newSyncer(o)
	if err != nil {
		return err
	}
	rel := secretsPrefix + name + ".age"
	if !storePath(rel) {
		return fmt.Errorf("%q is not a secret name", name)
	}
	base, err := s.ref("refs/heads/" + s.Branch)
	if err != nil {
		return err
	}
	remote, err := s.ref(s.remoteRef())
	if err != nil {
		return err
	}
	baseFiles, err := s.tree(base)
	if err != nil {
		return err
	}
	theirFiles, err := s.tree(remote)
	if err != nil {
		return err
	}
	ours, _, err := s.local()
	if err != nil {
		return err
	}
	b, l, r := baseFiles[rel], ours[rel], theirFiles[rel]
	if l == r || l == b || r == b {
		return fmt.Errorf("%s is not in conflict (run `llms sync` first)", name)
	}
	if theirs {
		// The remote's file, re-encrypted to the members accepted here,
		// pushed over exactly the remote's version by the next sync.
		var ct []byte
		if r != "" {
			if ct, err = s.Git.Output(s.Root, nil, "cat-file", "blob", r); err != nil {
				return err
			}
			if s.blobID(ct) != r {
				return fmt.Errorf("git returned other content for %s than its id says", rel)
			}
		}
		if err := s.Take(name, ct); err != nil {
			return err
		}
		if r == "" {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(s.Resolved), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(s.Resolved, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%s %s\n", rel, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
