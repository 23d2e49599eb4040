package broker

import (
	"github.com/llm-secrets/llms/internal/redact"
	"github.com/llm-secrets/llms/internal/runner"
	"github.com/llm-secrets/llms/internal/store"
)

// For secrets the CLI depends on the broker alone (cli → broker → store); these are
// the store's and runner's input rules and errors it needs to phrase
// requests and exit codes. None of them touches a value.
var (
	ValidateName = store.ValidateName
	CheckValue   = store.CheckValue
	DefaultDir   = store.DefaultDir

	ErrInvalidName = store.ErrInvalidName
	ErrNotFound    = store.ErrNotFound
	ErrNoStore     = store.ErrNoStore

	ErrCommandNotFound      = runner.ErrNotFound
	ErrCommandNotExecutable = runner.ErrNotExecutable
)

const (
	// MaxValueLen bounds a value read from stdin or a .env file.
	MaxValueLen = store.MaxValueLen
	// MinRedactLen: shorter values cannot be redacted from output.
	MinRedactLen = redact.MinLen
)
