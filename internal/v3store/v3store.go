package v3store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"unicode/utf8"

	"filippo.io/age"
	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/durable"
)

// The files of an llm-secrets v3 store directory.
const (
	IdentityFile = "identity.txt"
	StoreFile    = "store.age"
	RootKeyFile  = "root.key"
	SessionFile  = "session.json"
	LeasesFile   = "leases.json"
	AuditFile    = "audit.jsonl"
)

// MaxStoreLen bounds store.age and its plaintext: the store of a person,
// not of a data centre.
const MaxStoreLen = 32 << 20

// ErrFormat is wrapped by every error about the content of store.age.
var ErrFormat = errors.New("not the store llm-secrets v3 writes")

// Secret is one entry of the store.
type Secret struct {
	Name  string
	Value []byte
}

// Present reports whether dir holds an llm-secrets v3 store: identity.txt
// and store.age, both regular files.
func Present(dir string) bool {
	return regular(filepath.Join(dir, IdentityFile)) && regular(filepath.Join(dir, StoreFile))
}

func regular(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().IsRegular()
}

// Candidates lists where llm-secrets v3 kept its store, in the order it
// looked: $LLM_SECRETS_DIR, the XDG data directory, the legacy
// ~/.llm-secrets. Relative or unset locations are left out; a nil getenv
// is an empty environment.
func Candidates(getenv func(string) string) []string {
	var dirs []string
	if getenv == nil {
		return nil
	}
	add := func(d string) {
		if filepath.IsAbs(d) {
			dirs = append(dirs, filepath.Clean(d))
		}
	}
	add(getenv("LLM_SECRETS_DIR"))
	home := getenv("HOME")
	if d := getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		add(filepath.Join(d, "llm-secrets"))
	} else if home != "" {
		add(filepath.Join(home, ".local", "share", "llm-secrets"))
	}
	if home != "" {
		add(filepath.Join(home, ".llm-secrets"))
	}
	return dirs
}

// Find returns the first of dirs that holds an llm-secrets v3 store.
func Find(dirs []string) (string, bool) {
	for _, d := range dirs {
		if Present(d) {
			return d, true
		}
	}
	return "", false
}

// Read decrypts dir's store.age with dir's identity.txt and parses it.
// Names are returned as stored: validating them is the caller's policy.
func Read(dir string) ([]Secret, error) {
	ids, err := readIdentity(filepath.Join(dir, IdentityFile))
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, StoreFile)
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := age.Decrypt(io.LimitReader(f, MaxStoreLen), ids...)
	if err != nil {
		// age's errors name recipients and stanzas, never plaintext.
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, MaxStoreLen+1))
	defer clear(plain)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(plain) > MaxStoreLen {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxStoreLen)
	}
	secrets, err := Parse(plain)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return secrets, nil
}

func readIdentity(path string) ([]age.Identity, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ids, err := age.ParseIdentities(io.LimitReader(f, 64<<10))
	if err != nil {
		// age's parser never echoes key material in its errors.
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(ids) != 1 {
		return nil, fmt.Errorf("%s: want one identity, found %d", path, len(ids))
	}
	if _, ok := ids[0].(*age.X25519Identity); !ok {
		return nil, fmt.Errorf("%s: not an age X25519 identity", path)
	}
	return ids, nil
}

// Parse reads the plaintext of store.age: {"secrets":{"NAME":"VALUE",…}}.
// A missing "secrets" field is an empty store, as it was for that tool.
// Secrets come back in the file's order.
func Parse(plain []byte) ([]Secret, error) {
	if !utf8.Valid(plain) {
		return nil, fmt.Errorf("%w: the plaintext is not UTF-8", ErrFormat)
	}
	if off := surrogateEscape(plain); off >= 0 {
		return nil, fmt.Errorf("%w: an escaped UTF-16 surrogate at byte %d", ErrFormat, off)
	}
	dec := json.NewDecoder(bytes.NewReader(plain))
	bad := func(what string) error {
		return fmt.Errorf("%w: %s at byte %d", ErrFormat, what, dec.InputOffset())
	}
	// The decoder's own syntax errors quote the offending character,
	// which may be part of a value: only the offset is reported.
	token := func() (json.Token, error) {
		t, err := dec.Token()
		if err != nil && err != io.EOF {
			return nil, bad("malformed JSON")
		}
		return t, err
	}
	delim := func(want json.Delim, what string) error {
		t, err := token()
		if err != nil {
			if err == io.EOF {
				return bad("unexpected end")
			}
			return err
		}
		if d, ok := t.(json.Delim); !ok || d != want {
			return bad(what)
		}
		return nil
	}
	if err := delim('{', "not a JSON object"); err != nil {
		return nil, err
	}
	var out []Secret
	seenSecrets := false
	for dec.More() {
		t, err := token()
		if err != nil {
			return nil, err
		}
		if k, _ := t.(string); k != "secrets" {
			return nil, bad(`a field other than "secrets"`)
		}
		if seenSecrets {
			return nil, bad(`a second "secrets" field`)
		}
		seenSecrets = true
		if err := delim('{', `"secrets" is not an object`); err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for dec.More() {
			t, err := token()
			if err != nil {
				return nil, err
			}
			name, _ := t.(string)
			if seen[name] {
				return nil, bad(fmt.Sprintf("secret %q twice", name))
			}
			seen[name] = true
			t, err = token()
			if err != nil {
				return nil, err
			}
			v, ok := t.(string)
			if !ok {
				return nil, bad(fmt.Sprintf("the value of %q is not a string", name))
			}
			out = append(out, Secret{Name: name, Value: []byte(v)})
		}
		if err := delim('}', "unterminated secrets"); err != nil {
			return nil, err
		}
	}
	if err := delim('}', "unterminated object"); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("data after the object")
	}
	return out, nil
}

// surrogateEscape returns the offset of a \uD800–\uDFFF escape in JSON
// text, or -1. Go's decoder replaces an unpaired one with U+FFFD without an
// error, which would change a value; the Rust tool never writes one (its
// strings are UTF-8, written as themselves).
func surrogateEscape(b []byte) int {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] == 'u' && i+2 < len(b) && (b[i+2] == 'd' || b[i+2] == 'D') && i+3 < len(b) {
			switch b[i+3] {
			case '8', '9', 'a', 'b', 'A', 'B', 'c', 'd', 'e', 'f', 'C', 'D', 'E', 'F':
				return i
			}
		}
		i++ // skip the escaped character, so `\\u…` is not an escape
	}
	return -1
}

// Retired lists, in the order Retire removes them, the files of dir that a
// migration leaves no use for and that exist: the plaintext key material
// first, store.age last, so that an interrupted Retire still shows a v3
// store and is finished by running it again. Each must be the only name of
// a regular file: removing a symbolic link, or one of several hard links,
// would leave its contents (root.key's and session.json's in plaintext)
// where they are, so such a file is an error that names it.
func Retired(dir string) ([]string, error) {
	var out []string
	for _, name := range []string{
		RootKeyFile, "." + RootKeyFile + ".tmp",
		SessionFile, "." + SessionFile + ".tmp",
		LeasesFile, "." + LeasesFile + ".tmp",
		"." + StoreFile + ".tmp",
		StoreFile,
	} {
		p := filepath.Join(dir, name)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return nil, err
		case fi.Mode()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("%s is a symbolic link: removing it would leave the file it points to; remove that file and the link yourself", p)
		case !fi.Mode().IsRegular():
			return nil, fmt.Errorf("%s is not a regular file; move it away first", p)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			return nil, fmt.Errorf("%s has %d links: removing it would leave its contents under the other names; remove them yourself", p, st.Nlink)
		}
		out = append(out, p)
	}
	return out, nil
}

// Retire removes the files Retired lists, durably, and returns them; if
// Retired refuses, it removes nothing.
func Retire(dir string) ([]string, error) {
	retired, err := Retired(dir)
	if err != nil {
		return nil, err
	}
	for _, p := range retired {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return retired, durable.SyncDir(dir)
}

// MovedAuditName is where MoveAudit puts that tool's audit log when our
// store takes over its directory, whose audit.jsonl is ours.
const MovedAuditName = "llm-secrets-v3-audit.jsonl"

// MoveAudit renames dir's audit.jsonl to MovedAuditName, durably; it does
// nothing when there is none, and refuses to replace an existing file.
func MoveAudit(dir string) error {
	from, to := filepath.Join(dir, AuditFile), filepath.Join(dir, MovedAuditName)
	if _, err := os.Lstat(from); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := os.Lstat(to); err == nil {
		return fmt.Errorf("%s already exists; move it away first", to)
	}
	if err := os.Rename(from, to); err != nil {
		return err
	}
	return durable.SyncDir(dir)
}
