package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/gitrun"
	"github.com/llm-secrets/llms/internal/repoconf"
	"github.com/llm-secrets/llms/internal/teamsync"
)

type syncOptions struct {
	IO     *IOStreams
	Setup  func() (teamsync.Options, *sharedSelection, func(), error)
	Remote string
}

func newSyncCmd(f *Factory) *cobra.Command {
	opts := &syncOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Share the shared store's changes through git: commit, fetch, merge, push",
		Long: `Carry the shared store between the members' clones: its changes are
committed on a branch of its own (llms-store, or the one .llm-secrets.toml
names), merged with the remote's, and pushed. Only the store's files are ever
committed — never your branch work or uncommitted files — and the commit message
names secrets, never values. No hook, filter or other program the repository
configures runs.

When you and the remote changed the same secret, sync stops and names it:
"llms resolve NAME --ours|--theirs" settles it without decrypting anything. When
both changed recipients.txt, it becomes the union of both sides' members, which
you then check and accept ("llms member accept --reencrypt").`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error { return runSync(opts) },
	}
	cmd.Flags().StringVar(&opts.Remote, "remote", "origin", "the git remote to sync with")
	opts.Setup = func() (teamsync.Options, *sharedSelection, func(), error) { return f.syncSetup(opts.Remote, true) }
	return cmd
}

// syncSetup locates the store, its repository and branch, opens the store
// (finishing an interrupted member change) when it is there, prepares the
// writing git and, with lock, takes the store's lock (resolve does not:
// the store takes it for the one file resolve changes).
func (f *Factory) syncSetup(remote string, lock bool) (teamsync.Options, *sharedSelection, func(), error) {
	var o teamsync.Options
	sel, err := f.SharedStore()
	if err != nil {
		return o, nil, nil, err
	}
	if sel == nil {
		return o, nil, nil, usagef("no shared store selected: give --store DIR, set $%s, or run this in a repository whose %s you trusted (llms trust)", envStore, repoconf.FileName)
	}
	o.Store, o.Remote, o.Branch = sel.Dir, remote, repoconf.DefaultBranch
	if sel.Conf != nil {
		o.Root, o.Branch = sel.Conf.Root, sel.Conf.Branch
	} else if o.Root = repoconf.FindRoot(filepath.Dir(sel.Dir)); o.Root == "" {
		return o, nil, nil, usagef("%s is not inside a git repository", sel.Dir)
	}
	so, err := f.sharedOptions(sel.Dir)
	if err != nil {
		return o, nil, nil, err
	}
	// The store is opened now when it is there (finishing an interrupted
	// member change), else once the first sync brought it.
	var b *broker.Broker
	open := func() (*broker.Broker, error) {
		if b == nil {
			var err error
			if b, err = broker.OpenShared(so); err != nil {
				return nil, err
			}
			f.warn(b)
		}
		return b, nil
	}
	if _, err := os.Lstat(filepath.Join(sel.Dir, "recipients.txt")); err == nil {
		if _, err := open(); err != nil {
			return o, nil, nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return o, nil, nil, err
	}
	o.Take = func(name string, ct []byte) error {
		b, err := open()
		if err != nil {
			return err
		}
		c, err := f.callerWithoutToken()
		if err != nil {
			return err
		}
		return b.TakeSecret(c, name, ct)
	}
	o.Same = func(name string, x, y []byte) (bool, error) {
		b, err := open()
		if err != nil {
			return false, err
		}
		return b.SameValue(name, x, y)
	}
	o.Record = func(names []string) error {
		b, err := open()
		if err != nil {
			return err
		}
		return b.RecordSecrets(names)
	}
	o.Unknown = func(names []string) ([]string, error) {
		b, err := open()
		if err != nil {
			return nil, err
		}
		return b.UnknownSecrets(names)
	}
	state := broker.SharedStateDir(so.Personal, sel.Dir)
	o.Resolved = filepath.Join(state, "resolved")
	o.Pending = filepath.Join(state, broker.PendingReencryptFile)
	o.MergeMembers = broker.MergeMembersFiles
	gitDir, err := f.gitCommonDir(o.Root)
	if err != nil {
		return o, nil, nil, err
	}
	home, err := f.accountHome()
	if err != nil {
		return o, nil, nil, err
	}
	hide := []string{so.Personal}
	if so.IdentityFile != "" {
		hide = append(hide, so.IdentityFile)
	}
	write := []string{gitDir}
	if local, err := f.localRemote(o.Root, remote); err != nil {
		return o, nil, nil, err
	} else if len(local) > 0 {
		write = append(write, local...)
		o.LocalRemote = true
	}
	w, err := gitrun.NewWriter(gitrun.Options{Home: home, Hide: hide, Dir: o.Root}, f.Getenv("SSH_AUTH_SOCK"), write...)
	if err != nil {
		return o, nil, nil, err
	}
	o.Git = w
	if !lock {
		return o, sel, func() { w.Close() }, nil
	}
	unlock, err := broker.LockShared(sel.Dir)
	if err != nil {
		w.Close()
		return o, nil, nil, err
	}
	return o, sel, func() { unlock(); w.Close() }, nil
}

// gitCommonDir is the git directory of the repository at root (the
// common one, for a worktree), asked of the read-only git.
func (f *Factory) gitCommonDir(root string) (string, error) {
	g, err := f.git(root)
	if err != nil {
		return "", err
	}
	defer g.Close()
	out, err := g.Output(root, nil, "rev-parse", "--git-common-dir")
	if err != nil {
		return "", err
	}
	dir := strings.TrimSpace(string(out))
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	return dir, nil
}

// localRemote lists the directories of remote that are on this machine (a
// path or file:// URL), which a push writes and whose git-receive-pack runs
// here. A push goes to every push URL (remote.NAME.pushurl, else each
// remote.NAME.url), not only the URL a fetch reads, so each is looked at.
func (f *Factory) localRemote(root, remote string) ([]string, error) {
	g, err := f.git(root)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	fetch, err := g.Output(root, nil, "ls-remote", "--get-url", "--end-of-options", remote)
	if err != nil {
		return nil, err
	}
	push, err := g.Output(root, nil, "remote", "get-url", "--push", "--all", "--end-of-options", remote)
	if err != nil {
		return nil, err
	}
	var local []string
	for _, url := range strings.Split(string(fetch)+"\n"+string(push), "\n") {
		url = strings.TrimPrefix(strings.TrimSpace(url), "file://")
		if url == "" || strings.Contains(url, "://") || strings.Contains(strings.SplitN(url, "/", 2)[0], ":") {
			continue // ssh or https
		}
		if !filepath.IsAbs(url) {
			url = filepath.Join(root, url)
		}
		if url = filepath.Clean(url); !slices.Contains(local, url) {
			local = append(local, url)
		}
	}
	return local, nil
}

func runSync(opts *syncOptions) error {
	o, sel, done, err := opts.Setup()
	if err != nil {
		return err
	}
	defer done()
	rep, err := teamsync.Sync(o)
	out := opts.IO.Out
	for _, c := range rep.Conflicts {
		fprintf(opts.IO.ErrOut, "llms: conflict: %s was changed both here and on %s/%s\n", c, o.Remote, o.Branch)
	}
	if len(rep.Pulled) > 0 && err != nil {
		fprintf(opts.IO.ErrOut, "llms: pulled: %s\n", strings.Join(rep.Pulled, ", "))
	}
	if rep.MembersMerged {
		fprintf(opts.IO.ErrOut, "llms: recipients.txt was changed on both sides: it now names every member of both (nobody was dropped)\n")
	}
	if err != nil {
		return err
	}
	fprintf(out, "synced %s with %s/%s\n", sel.Dir, o.Remote, o.Branch)
	report := func(what string, items []string) {
		if len(items) == 0 {
			fprintf(out, "  %s: nothing\n", what)
			return
		}
		fprintf(out, "  %s: %s\n", what, strings.Join(items, ", "))
	}
	report("pulled", rep.Pulled)
	report("pushed", rep.Pushed)
	if rep.Commit != "" {
		fprintf(out, "  commit: %s\n", rep.Commit)
	}
	for _, p := range rep.Pulled {
		if p == "members changed" {
			fprintf(out, "The members changed: check them with `llms member list`; until you run `llms member accept`, your writes are refused.\n")
		}
	}
	return nil
}
