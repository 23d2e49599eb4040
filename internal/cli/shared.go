package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/repoconf"
)

// Two directories, two flags: --dir (or $LLM_SECRETS_DIR) is the member's
// personal data dir — identity, sessions, root keys, leases, audit log,
// and a personal store; --store (or $LLM_SECRETS_STORE, or the
// .llm-secrets.toml of the repository, once trusted) names a shared
// store, whose secrets are then the ones every command uses, decrypted
// with the identity of the data dir ($LLM_SECRETS_IDENTITY_FILE on a CI
// runner).

const (
	envStore        = "LLM_SECRETS_STORE"
	envIdentityFile = "LLM_SECRETS_IDENTITY_FILE"
)

// sharedSelection is the shared store in use and where its name came from.
type sharedSelection struct {
	Dir  string
	From string           // "--store", "$LLM_SECRETS_STORE" or the file's path
	Conf *repoconf.Config // the repository's file, when it named the store
}

// SharedStore is the shared store commands use, nil for none: --store,
// else $LLM_SECRETS_STORE, else the trusted .llm-secrets.toml of the
// repository around the working directory. An untrusted one is reported
// once and ignored.
func (f *Factory) SharedStore() (*sharedSelection, error) {
	abs := func(p, from string) (*sharedSelection, error) {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		return &sharedSelection{Dir: a, From: from}, nil
	}
	if f.store != "" {
		return abs(f.store, "--store")
	}
	if d := f.Getenv(envStore); d != "" {
		if !filepath.IsAbs(d) {
			return nil, errors.New("LLM_SECRETS_STORE must be an absolute path")
		}
		return abs(d, "$"+envStore)
	}
	conf, err := f.repoConfig()
	if err != nil || conf == nil {
		return nil, err
	}
	personal, err := f.StoreDir()
	if err != nil {
		return nil, err
	}
	if !repoconf.Trusted(personal, *conf) {
		if !f.untrustedNoted {
			f.untrustedNoted = true
			fprintf(f.IO.ErrOut, "llms: %s names a shared store, but you have not trusted it (as it is now): run `llms trust` to use it; using your own store\n", conf.Path)
		}
		return nil, nil
	}
	return &sharedSelection{Dir: conf.Store, From: conf.Path, Conf: conf}, nil
}

// repoConfig is the .llm-secrets.toml of the repository around the
// working directory, nil when there is none.
func (f *Factory) repoConfig() (*repoconf.Config, error) {
	wd, err := f.getwd()
	if err != nil {
		return nil, nil
	}
	conf, ok, err := repoconf.Find(wd)
	if err != nil || !ok {
		return nil, err
	}
	return &conf, nil
}

// sharedOptions locate the shared store dir for this member.
func (f *Factory) sharedOptions(dir string) (broker.SharedOptions, error) {
	personal, err := f.StoreDir()
	if err != nil {
		return broker.SharedOptions{}, err
	}
	return broker.SharedOptions{Personal: personal, Shared: dir, IdentityFile: f.Getenv(envIdentityFile)}, nil
}

// openBroker opens the shared store when one is selected, else the
// personal store.
func (f *Factory) openBroker() (*broker.Broker, error) {
	sel, err := f.SharedStore()
	if err != nil {
		return nil, err
	}
	if sel == nil {
		if f.Getenv(envIdentityFile) != "" {
			return nil, fmt.Errorf("%s is set but no shared store is selected: it names a member's identity for a shared store (--store, $%s, or a trusted .llm-secrets.toml)", envIdentityFile, envStore)
		}
		dir, err := f.StoreDir()
		if err != nil {
			return nil, err
		}
		return broker.Open(dir)
	}
	o, err := f.sharedOptions(sel.Dir)
	if err != nil {
		return nil, err
	}
	return broker.OpenShared(o)
}

// sharedBroker opens the selected shared store, refusing without one.
func (f *Factory) sharedBroker() (*broker.Broker, *sharedSelection, error) {
	sel, err := f.SharedStore()
	if err != nil {
		return nil, nil, err
	}
	if sel == nil {
		return nil, nil, usagef("no shared store selected: give --store DIR, set $%s, or run this in a repository whose .llm-secrets.toml you trusted (llms trust)", envStore)
	}
	o, err := f.sharedOptions(sel.Dir)
	if err != nil {
		return nil, nil, err
	}
	b, err := broker.OpenShared(o)
	if err != nil {
		return nil, nil, err
	}
	f.warn(b)
	return b, sel, nil
}

func (f *Factory) warn(b *broker.Broker) {
	for _, w := range b.Warnings() {
		fprintf(f.IO.ErrOut, "llms: warning: %s\n", w)
	}
}

// identityFileGate refuses `llms agent` with $LLM_SECRETS_IDENTITY_FILE:
// the sandbox hides the data dir and the default key locations, not an
// identity file named anywhere else.
func (f *Factory) identityFileGate(cmd *cobra.Command) error {
	if cmd.Name() == "agent" && cmd.Parent() == cmd.Root() && f.Getenv(envIdentityFile) != "" {
		return usagef("%s names an identity the agent sandbox would not hide: run agents with the identity in your data dir (unset it)", envIdentityFile)
	}
	return nil
}
