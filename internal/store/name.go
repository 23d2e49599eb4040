package store

import "github.com/llm-secrets/llms/internal/names"

// MaxNameLen bounds a secret name; names become file names.
const MaxNameLen = names.MaxSecretLen

// ErrInvalidName is wrapped by every name validation failure.
var ErrInvalidName = names.ErrInvalidSecret

// ValidateName reports whether name may be used as a secret name
// (internal/names owns the grammar, shared with caveats and policies).
func ValidateName(name string) error { return names.Secret(name) }
