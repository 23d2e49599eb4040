package store

import (
	"errors"
	"fmt"
)

// MaxNameLen bounds a secret name; names become file names.
const MaxNameLen = 128

// ErrInvalidName is wrapped by every name validation failure.
var ErrInvalidName = errors.New("invalid secret name")

// ValidateName reports whether name may be used as a secret name. The rule
// is strict so that a name can never be a path, a hidden file or a flag.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidName, MaxNameLen)
	}
	// A leading '.' would make a hidden file; a leading '-' reads as a flag.
	if name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("%w %q: must not start with '.' or '-'", ErrInvalidName, name)
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return fmt.Errorf("%w %q: only letters, digits, '_', '.' and '-' are allowed", ErrInvalidName, name)
		}
	}
	return nil
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == '-'
}
