package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/repoconf"
	"github.com/llm-secrets/llms/internal/teamsync"
)

// initShared is `llms init --shared DIR`: a shared store in a directory
// of a git repository, with you as its one member; the repository's
// .llm-secrets.toml names it, and you trust that file. Your own data dir
// is created first if needed: it holds the identity.
func (f *Factory) initShared(opts *initOptions) error {
	dir, err := filepath.Abs(opts.Shared)
	if err != nil {
		return err
	}
	root := repoconf.FindRoot(filepath.Dir(dir))
	if root == "" {
		return usagef("%s is not inside a git repository: a shared store travels with one (llms sync)", dir)
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return err
	}
	name := opts.Name
	if name == "" {
		name = opts.Getenv("USER")
	}
	if err := broker.ValidateMemberName(name); err != nil {
		return usageError{Err: fmt.Errorf("%w (give --name)", err)}
	}
	personal, err := opts.StoreDir()
	if err != nil {
		return err
	}
	confPath := filepath.Join(root, repoconf.FileName)
	if _, err := os.Lstat(confPath); err == nil {
		return fmt.Errorf("%s already names a store: edit or remove it first", confPath)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if opts.Getenv(envIdentityFile) == "" {
		if _, err := broker.Open(personal); errors.Is(err, broker.ErrNoStore) {
			if err := broker.Init(personal); err != nil {
				return err
			}
			fprintf(opts.IO.Out, "initialised your data dir: %s\n", personal)
		} else if err != nil {
			return err
		}
	}
	so, err := f.sharedOptions(dir)
	if err != nil {
		return err
	}
	if err := broker.InitShared(so, name); err != nil {
		return err
	}
	text := repoconf.Format(filepath.ToSlash(rel), "")
	if err := os.WriteFile(confPath, text, 0o644); err != nil {
		return err
	}
	conf, err := repoconf.Parse(root, text)
	if err != nil {
		return err
	}
	if err := repoconf.Trust(personal, conf); err != nil {
		return err
	}
	gitDir, err := f.gitCommonDir(root)
	if err != nil {
		return err
	}
	if err := teamsync.Exclude(gitDir, filepath.ToSlash(rel)); err != nil {
		return err
	}
	fprintf(opts.IO.Out, "initialised shared store: %s (member: %s)\n", dir, name)
	fprintf(opts.IO.Out, "wrote and trusted %s; commit it on your branch so the others find the store.\n", confPath)
	fprintf(opts.IO.Out, "Next: llms set NAME, llms member add NAME \"$(their llms recipient)\", llms sync\n")
	return nil
}
