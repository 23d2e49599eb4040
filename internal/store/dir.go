package store

import (
	"errors"
	"os"
	"path/filepath"
)

// DefaultDir resolves the store directory: $LLM_SECRETS_DIR, else
// $XDG_DATA_HOME/llm-secrets, else ~/.local/share/llm-secrets. Relative
// values are refused, as the XDG spec says, so that the store never
// depends on the current directory.
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("LLM_SECRETS_DIR"); d != "" {
		if !filepath.IsAbs(d) {
			return "", errors.New("LLM_SECRETS_DIR must be an absolute path")
		}
		return filepath.Clean(d), nil
	}
	if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "llm-secrets"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", errors.New("cannot find the store: set LLM_SECRETS_DIR or HOME")
		}
	}
	return filepath.Join(home, ".local", "share", "llm-secrets"), nil
}
