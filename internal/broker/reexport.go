package broker

import (
	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/redact"
	"github.com/llm-secrets/llms/internal/runner"
	"github.com/llm-secrets/llms/internal/store"
)

// For secrets the CLI depends on the broker alone (cli → broker → store); these are
// the store's and runner's input rules and errors it needs to phrase
// requests and exit codes. None of them touches a value.

// ValidateName reports whether name is a valid secret name.
func ValidateName(name string) error { return store.ValidateName(name) }

// CheckValue reports whether value can be stored (its size, no NUL byte).
func CheckValue(value []byte) error { return store.CheckValue(value) }

// DefaultDir is the store directory when none is given: $LLM_SECRETS_DIR,
// else the XDG data directory.
func DefaultDir(getenv func(string) string) (string, error) { return store.DefaultDir(getenv) }

// Sentinel errors, for errors.Is.
var (
	ErrInvalidName = store.ErrInvalidName
	ErrNotFound    = store.ErrNotFound
	ErrNoStore     = store.ErrNoStore

	ErrCommandNotFound      = runner.ErrNotFound
	ErrCommandNotExecutable = runner.ErrNotExecutable
)

// Entry is a stored secret's name and time, as List returns it.
type Entry = store.Entry

// AuditEntry is one line of the audit log as AuditRecent returns it.
type AuditEntry = audit.Entry

const (
	// MaxValueLen bounds a value read from stdin or a .env file.
	MaxValueLen = store.MaxValueLen
	// MinRedactLen: shorter values cannot be redacted from output.
	MinRedactLen = redact.MinLen
)
