package broker

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/store"
	"github.com/llm-secrets/llms/internal/v3store"
)

// ErrV3Store: the store directory holds an llm-secrets v3 store, which
// `llms migrate` moves into ours.
var ErrV3Store = errors.New("it holds an llm-secrets v3 store (identity.txt, store.age): run `llms migrate` to move its secrets into llms")

// FindV3Store returns the directory of an llm-secrets v3 store, looking in
// dir (our store's) and then where that tool did ($LLM_SECRETS_DIR, the XDG
// data directory, the legacy ~/.llm-secrets), for `llms init`, `status` and
// `migrate`.
func FindV3Store(dir string, getenv func(string) string) (string, bool) {
	return v3store.Find(append([]string{dir}, v3store.Candidates(getenv)...))
}

// Migration moves the secrets of an llm-secrets v3 store into ours. It is
// planned — read, decrypted, validated, checked against our store — before
// anything changes, so that bad input changes nothing; its fields say what
// Run will do, and never carry a value.
type Migration struct {
	From, To string
	// Names are every secret of the v3 store, sorted; Present are those our
	// store already holds with the same value (a run that stopped midway).
	Names, Present []string
	// Adopt: the two stores share a directory, and the v3 identity becomes
	// ours (it is the same age key file format), so store.age stays
	// readable until it is removed.
	Adopt bool
	// MoveAudit is where the v3 audit log goes when our store takes over its
	// directory (our audit.jsonl is chained), "" otherwise.
	MoveAudit string
	// Remove lists the files Run removes, in order: the plaintext root key
	// and session of v3 first, store.age last.
	Remove []string
	// Keep lists v3 files left in place.
	Keep []string

	secrets []v3store.Secret
	caller  *Caller
}

// MigrationRequest names the llm-secrets v3 store to read (From) and our
// store to move it into (To, which may be the same directory).
type MigrationRequest struct {
	From, To string
}

// PlanMigration reads the llm-secrets v3 store and plans moving it into
// ours. Only the human, without a token, may migrate. Nothing changes.
func PlanMigration(c *Caller, req MigrationRequest) (*Migration, error) {
	from, to := req.From, req.To
	if err := migrateAllowed(c); err != nil {
		if store.Exists(to) {
			if b, oerr := Open(to); oerr == nil {
				_ = b.record(audit.Record{Event: "migrate", Decision: "deny", Reason: reasonOf(err)}, c)
			}
		}
		return nil, err
	}
	if !v3store.Present(from) {
		return nil, fmt.Errorf("%w: no llm-secrets v3 store in %s (it needs %s and %s)", ErrBadRequest, from, v3store.IdentityFile, v3store.StoreFile)
	}
	secrets, err := v3store.Read(from)
	if err != nil {
		return nil, fmt.Errorf("%w: %v; nothing changed", ErrBadRequest, err)
	}
	m := &Migration{From: from, To: to, secrets: secrets, caller: c}
	ok := false
	defer func() {
		if !ok {
			m.Discard()
		}
	}()
	var invalid []string
	for _, s := range secrets {
		if ValidateName(s.Name) != nil {
			invalid = append(invalid, fmt.Sprintf("%q", s.Name))
			continue
		}
		if err := CheckValue(s.Value); err != nil {
			return nil, fmt.Errorf("%w: %s: %v; nothing changed", ErrBadRequest, s.Name, err)
		}
		m.Names = append(m.Names, s.Name)
	}
	if len(invalid) > 0 {
		return nil, fmt.Errorf("%w: invalid secret name(s) here: %s (a name is 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'); rename them with llm-secrets v3 first; nothing changed",
			ErrBadRequest, strings.Join(invalid, ", "))
	}
	slices.Sort(m.Names)
	same := sameDir(from, to)
	m.Adopt = same && !store.Exists(to)
	if store.Exists(to) {
		if err := m.checkAgainst(to); err != nil {
			return nil, err
		}
	} else if _, err := os.Lstat(filepath.Join(to, "identity.txt")); err == nil && !same {
		return nil, fmt.Errorf("%s holds an identity.txt but is not a store; nothing changed", to)
	}
	if m.Adopt {
		if _, err := os.Lstat(filepath.Join(from, v3store.AuditFile)); err == nil {
			m.MoveAudit = filepath.Join(from, v3store.MovedAuditName)
			if _, err := os.Lstat(m.MoveAudit); err == nil {
				return nil, fmt.Errorf("%s already exists; move it away first; nothing changed", m.MoveAudit)
			}
		}
	}
	if m.Remove, err = v3store.Retired(from); err != nil {
		return nil, fmt.Errorf("%w: %v; nothing changed", ErrBadRequest, err)
	}
	if !same {
		for _, name := range []string{v3store.IdentityFile, v3store.AuditFile} {
			if p := filepath.Join(from, name); fileExists(p) {
				m.Keep = append(m.Keep, p)
			}
		}
	}
	ok = true
	return m, nil
}

// migrateAllowed: migrating writes every secret and removes key material,
// which is the human's alone; a token is refused too, so that a delegated
// authority never stands in for the person.
func migrateAllowed(c *Caller) error {
	if err := humanOnly(c, "migrates a store"); err != nil {
		return err
	}
	if c.TokenGiven {
		return fmt.Errorf("%w: migrate is refused under a token (unset LLM_SECRETS_MACAROON and LLM_SECRETS_MACAROON_FILE): only the human, in their own shell, moves a store", ErrDenied)
	}
	return nil
}

// checkAgainst refuses a name our store holds with another value; the same
// value means an earlier run stopped midway, and is not written again.
func (m *Migration) checkAgainst(to string) error {
	b, err := Open(to)
	if err != nil {
		return err
	}
	m.Present = m.Present[:0]
	var clash []string
	for _, s := range m.secrets {
		if !b.st.Has(s.Name) {
			continue
		}
		v, err := b.st.Read(s.Name)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(v, s.Value) == 1 {
			m.Present = append(m.Present, s.Name)
		} else {
			clash = append(clash, s.Name)
		}
		clear(v)
	}
	slices.Sort(m.Present)
	if len(clash) > 0 {
		slices.Sort(clash)
		return fmt.Errorf("%w: the store in %s already holds %s with a different value; delete or rename %s first; nothing changed",
			ErrBadRequest, to, strings.Join(clash, ", "), plural(len(clash), "it", "them"))
	}
	return nil
}

// MigrateResult says what Run did.
type MigrateResult struct {
	Imported []string // written by this run, sorted
	Removed  []string // files removed
}

// Run carries out the plan. The v3 store stays intact until every secret
// is durably in ours: an error while writing removes again what this run
// wrote, and a crash at any point leaves store.age, so running migrate
// again finishes the job (a secret already here with the same value is not
// written twice). Run discards the values, whatever happens.
func (m *Migration) Run() (MigrateResult, error) {
	defer m.Discard()
	var res MigrateResult
	if m.secrets == nil && len(m.Names) > 0 {
		return res, errors.New("migration already run or discarded")
	}
	if m.Adopt {
		if m.MoveAudit != "" {
			if err := v3store.MoveAudit(m.From); err != nil {
				return res, err
			}
		}
		if _, err := store.Adopt(m.To); err != nil {
			return res, fmt.Errorf("adopting the llm-secrets v3 identity: %w", err)
		}
	} else if !store.Exists(m.To) {
		if err := Init(m.To); err != nil {
			return res, err
		}
	}
	b, err := Open(m.To)
	if err != nil {
		return res, err
	}
	// Another process may have written since the plan.
	if err := m.checkAgainst(m.To); err != nil {
		return res, err
	}
	reason := "from " + m.From
	if err := b.record(audit.Record{Event: "migrate", Decision: "allow", Reason: reason, Secrets: m.Names}, m.caller); err != nil {
		return res, err
	}
	for _, s := range m.secrets {
		if slices.Contains(m.Present, s.Name) {
			continue
		}
		if _, err := migrateWrite(b.st, s.Name, s.Value); err != nil {
			undo := m.undo(b, res.Imported)
			return MigrateResult{}, fmt.Errorf("writing %s: %w; %s; the llm-secrets v3 store is untouched", s.Name, err, undo)
		}
		res.Imported = append(res.Imported, s.Name)
	}
	slices.Sort(res.Imported)
	if res.Removed, err = v3store.Retire(m.From); err != nil {
		return res, fmt.Errorf("every secret is in %s, but removing the llm-secrets v3 files failed: %w; run `llms migrate` again to finish", m.To, err)
	}
	return res, nil
}

// migrateWrite is store.Write; a test makes it fail midway.
var migrateWrite = (*store.Store).Write

// undo removes what a failed Run wrote, and says how that went.
func (m *Migration) undo(b *Broker, written []string) string {
	var failed []string
	for _, name := range written {
		if err := b.st.Delete(name); err != nil {
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		return "could not remove again what was written: " + strings.Join(failed, ", ")
	}
	return fmt.Sprintf("the %d secret(s) written were removed again", len(written))
}

// Discard wipes the values a plan holds (a best effort: Go may have
// copied them).
func (m *Migration) Discard() {
	for _, s := range m.secrets {
		clear(s.Value)
	}
	m.secrets = nil
}

func sameDir(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
