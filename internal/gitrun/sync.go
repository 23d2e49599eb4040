package gitrun

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/llm-secrets/llms/internal/sandbox"
)

// Writer is the one git llms lets change a repository: `llms sync`, which
// writes objects and one ref of its own and talks to the remote. It keeps
// everything Git does — the command-line settings, the fixed environment,
// git from the system path — except what a sync needs:
//
//   - the transports file, ssh and https are allowed (every other one,
//     ext:: included, stays refused); ssh is `ssh` whatever
//     core.sshCommand says, and no credential helper or askpass program
//     runs; the fetch and push commands name git-upload-pack and
//     git-receive-pack themselves (remote.*.uploadpack and receivepack
//     would run any command);
//   - a push to a local path starts the remote's git-receive-pack here,
//     without the command-line settings (git clears them for a local
//     transport), so the caller names one that carries
//     core.hooksPath=/dev/null itself (teamsync's LocalRemote); commits
//     are never signed (gpg.program would run);
//   - ssh may use the user's ssh-agent ($SSH_AUTH_SOCK, the one variable
//     of the caller's it gets), and reads ~/.ssh as ssh does;
//   - the confinement lets git write its own directory and nothing else,
//     and execute only git's own programs, ssh and sh (which git starts
//     a local remote's git-upload-pack through).
//
// Writer runs no command that touches the working tree or the index: a
// sync builds its trees with mktree from objects it hashed itself.
type Writer struct{ *Git }

// writeConfig replaces the transport settings of safeConfig.
var writeConfig = []string{
	"protocol.allow=never",
	"protocol.file.allow=always",
	"protocol.ssh.allow=always",
	"protocol.https.allow=always",
	"core.sshCommand=ssh",
	// fetch runs it, through sh, when the repository has alternates.
	"core.alternateRefsCommand=true",
	"core.askPass=",
	"credential.helper=",
	"commit.gpgSign=false",
	"tag.gpgSign=false",
	"push.gpgSign=false",
}

// NewWriter prepares the writing git for the repository whose git
// directories (the common one, for a worktree; and a remote's on this
// machine, which a push writes) are write. sshAuthSock, when set, is the
// user's ssh-agent socket ($SSH_AUTH_SOCK), which ssh may use.
func NewWriter(o Options, sshAuthSock string, write ...string) (*Writer, error) {
	for _, d := range write {
		if !filepath.IsAbs(d) {
			return nil, fmt.Errorf("git: the git directory %q is not absolute", d)
		}
	}
	g, err := openGit(o, false)
	if err != nil {
		return nil, err
	}
	g.write = true
	var sockets []string
	if sshAuthSock != "" {
		if !filepath.IsAbs(sshAuthSock) {
			return nil, fmt.Errorf("git: SSH_AUTH_SOCK %q is not absolute", sshAuthSock)
		}
		g.env = append(g.env, "SSH_AUTH_SOCK="+sshAuthSock)
		sockets = []string{filepath.Dir(sshAuthSock)}
	}
	if sandbox.ABI() > 0 {
		p, err := writerConfinement(g.path, write, sockets, o)
		if err != nil {
			return nil, fmt.Errorf("git: confining it: %w", err)
		}
		g.confined = p
	}
	return &Writer{g}, nil
}

// writerConfinement: read everything but the hidden paths, write the git
// directories, execute git, its helpers, ssh and sh.
func writerConfinement(path string, write, sockets []string, o Options) (*sandbox.Prepared, error) {
	// A local remote's git-upload-pack and git-receive-pack are started
	// through sh (git quotes the path); sh can itself run only what this
	// list allows.
	exe := []string{path, "/usr/lib/git-core", "/usr/libexec/git-core", "/bin/sh"}
	for _, ssh := range []string{"/usr/bin/ssh", "/bin/ssh"} {
		if _, err := os.Stat(ssh); err == nil {
			exe = append(exe, ssh)
			break
		}
	}
	var read []string
	for _, e := range exe {
		if _, err := os.Stat(e); err != nil {
			continue
		}
		if r, err := filepath.EvalSymlinks(e); err == nil {
			e = r
		}
		read = append(read, e)
		if fi, err := os.Stat(e); err == nil && fi.Mode().IsRegular() {
			interp, err := interpreter(e)
			if err != nil {
				return nil, err
			}
			if interp != "" {
				read = append(read, interp)
			}
		}
	}
	rules, err := sandbox.Build(sandbox.Spec{
		Data:    []string{"/"},
		Read:    read,
		Write:   write,
		Sockets: sockets,
		Deny:    []string{"/dev"},
		Devices: []string{"/dev/null", "/dev/urandom", "/dev/tty"},
		Hide:    o.Hide,
	})
	if err != nil {
		return nil, err
	}
	return sandbox.Prepare(rules)
}

// writerSettings lists the settings of a writing git: safeConfig without its
// transport refusals, then writeConfig.
func writerSettings() []string {
	var out []string
	for _, kv := range safeConfig {
		if strings.HasPrefix(kv, "protocol.") || strings.HasPrefix(kv, "credential.") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, writeConfig...)
}

// ErrRefusedCommand: a command a Writer does not run.
var ErrRefusedCommand = errors.New("git: llms does not run this command")

// writerCommands are the commands a Writer runs; each writes at most
// objects and refs.
var writerCommands = []string{"fetch", "push", "ls-remote", "hash-object", "mktree", "commit-tree", "update-ref",
	"rev-parse", "ls-tree", "cat-file", "log"}

// CommitTree runs `git commit-tree args…` (args[0] is "commit-tree").
// Without a user.name and user.email in the account's git config, it
// commits as "llms" rather than fail: the store's branch records the
// change, not who made it (the audit log does).
func (w *Writer) CommitTree(dir string, args []string) ([]byte, error) {
	out, err := w.Output(dir, nil, args...)
	if err == nil || !strings.Contains(err.Error(), "tell me who you are") && !strings.Contains(err.Error(), "empty ident") && !strings.Contains(err.Error(), "unable to auto-detect") {
		return out, err
	}
	cmd, err := w.command(dir, args, true)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], "GIT_AUTHOR_NAME=llms", "GIT_AUTHOR_EMAIL=llms@localhost",
		"GIT_COMMITTER_NAME=llms", "GIT_COMMITTER_EMAIL=llms@localhost")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := w.start(cmd); err != nil {
		return nil, err
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("git commit-tree: %s", strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}
