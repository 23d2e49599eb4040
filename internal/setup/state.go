package setup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/llm-secrets/llms/internal/durable"
)

// What llms setup added is recorded in llms's own state, file by file, not
// in the agents' files: the agents rewrite those (Codex drops the comments
// before a table, Claude Code and Gemini CLI write their JSON back whole),
// so a marker there does not survive. The record says what setup added
// (taken out by structure once the file changed) and, while the file is
// as setup left it, the one stretch it changed (put back as it was, so
// that --remove gives the file's bytes back exactly).
//
// It holds paths, hashes, setup's own entries and at most maxRemoved bytes
// of a file (the separator an insertion replaced): never a value from the
// agents' files.
type setupState struct {
	Version int                     `json:"version"`
	Files   map[string]*setupRecord `json:"files"`
}

type setupRecord struct {
	// Existed: the file was there before setup first changed it.
	Existed bool `json:"existed"`
	// After is the SHA-256 of the bytes setup last wrote.
	After string `json:"after"`
	// Exact, when set, is how to get the bytes before setup back from
	// those it wrote.
	Exact *setupRegion `json:"exact,omitempty"`
	// Server is the MCP entry setup added, as written (a JSON object): it
	// is taken out only while it is still that.
	Server json.RawMessage `json:"server,omitempty"`
	// Created are the JSON objects and arrays setup made on the way to
	// what it added, taken out when left empty.
	Created [][]string `json:"created,omitempty"`
	// Strings are the items setup added to an array (Claude Code's deny
	// rules), and the array's path.
	Strings     []string `json:"strings,omitempty"`
	StringsPath []string `json:"strings_path,omitempty"`
}

// A setupRegion is the one stretch setup changed: at offset At, the bytes
// Removed became Added bytes; Before is the SHA-256 of the file before.
type setupRegion struct {
	Before  string `json:"before"`
	At      int    `json:"at"`
	Removed string `json:"removed"`
	Added   int    `json:"added"`
}

// maxRemoved bounds what a region keeps of a file: what an insertion
// replaces is a separator, a brace or a blank line.
const maxRemoved = 256

const setupStateVersion = 1

func sha(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// setupStatePath is $XDG_STATE_HOME/llm-secrets/setup.json (default
// ~/.local/state).
func setupStatePath(getenv func(string) string, home string) string {
	base := getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(base) {
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "llm-secrets", "setup.json")
}

func loadSetupState(path string) (*setupState, error) {
	st := &setupState{Version: setupStateVersion, Files: map[string]*setupRecord{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, st); err != nil || st.Version != setupStateVersion {
		return nil, fmt.Errorf("%s cannot be read (%v): move it away to start afresh (setup then leaves what it added before alone)", path, err)
	}
	if st.Files == nil {
		st.Files = map[string]*setupRecord{}
	}
	return st, nil
}

func (st *setupState) save(path string) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return durable.ReplaceFile(path, append(data, '\n'), 0o600)
}

// original is the file as it was before setup changed it, when it can be
// known: cur itself when setup has not changed it, else cur with setup's
// stretch put back, while cur is what setup wrote.
func (r *setupRecord) original(cur []byte, exists bool) ([]byte, bool, bool) {
	switch {
	case r == nil:
		return cur, exists, true
	case r.Exact == nil || sha(cur) != r.After:
		return nil, false, false
	}
	e := r.Exact
	if e.At < 0 || e.Added < 0 || e.At+e.Added > len(cur) {
		return nil, false, false
	}
	orig := append(append(bytes.Clone(cur[:e.At]), e.Removed...), cur[e.At+e.Added:]...)
	if sha(orig) != e.Before {
		return nil, false, false
	}
	return orig, r.Existed, true
}

// wrote records that setup replaced cur (the record before, prev) by next.
func (r *setupRecord) wrote(prev *setupRecord, cur []byte, exists bool, next []byte) {
	r.After = sha(next)
	orig, existed, ok := prev.original(cur, exists)
	r.Exact = nil
	if !ok {
		r.Existed = prev.Existed
		return
	}
	r.Existed = existed
	p, s := commonEnds(orig, next)
	if removed := orig[p : len(orig)-s]; len(removed) <= maxRemoved {
		r.Exact = &setupRegion{Before: sha(orig), At: p, Removed: string(removed), Added: len(next) - p - s}
	}
}

// commonEnds returns the lengths of the longest common prefix of a and b
// and of the longest common suffix of what is left.
func commonEnds(a, b []byte) (int, int) {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	return p, s
}

// set replaces path's record; nil drops it.
func (st *setupState) set(path string, rec *setupRecord) {
	if rec == nil {
		delete(st.Files, path)
		return
	}
	st.Files[path] = rec
}
