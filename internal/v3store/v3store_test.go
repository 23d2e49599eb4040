package v3store

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"unicode/utf8"

	"filippo.io/age"
)

// writeV3 writes a store as llm-secrets v3 does: the identity as a bare key
// without a newline, store.age for its one recipient, compact JSON with
// sorted keys (encoding/json sorts map keys, as serde does a BTreeMap).
func writeV3(t *testing.T, dir string, secrets map[string]string) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := json.Marshal(map[string]any{"secrets": secrets})
	if err != nil {
		t.Fatal(err)
	}
	writeEncrypted(t, dir, id, plain)
	return id
}

func writeEncrypted(t *testing.T, dir string, id *age.X25519Identity, plain []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, IdentityFile), []byte(id.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, StoreFile), ct.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	writeV3(t, dir, map[string]string{"db_password": "v3-canary-1", "stripe_key": "v3-canary-2 with \"quotes\"\n"})
	if !Present(dir) {
		t.Fatal("Present = false")
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "db_password" || string(got[0].Value) != "v3-canary-1" ||
		got[1].Name != "stripe_key" || string(got[1].Value) != "v3-canary-2 with \"quotes\"\n" {
		t.Fatalf("Read = %q", got)
	}
}

func TestReadWrongIdentity(t *testing.T) {
	dir := t.TempDir()
	writeV3(t, dir, map[string]string{"A": "v3-canary-wrong"})
	other, err := age.GenerateX25519Identity()
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, IdentityFile), []byte(other.String()+"\n"), 0o600))
	_, err = Read(dir)
	if err == nil || !strings.Contains(err.Error(), "did not match") {
		t.Fatalf("Read with another identity = %v", err)
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		`{"secrets":{}}`:                  "",
		`{}`:                              "",
		`{"secrets":{"a":"1","b":"é\n"}}`: "a=1,b=é\n",
		" {\"secrets\" : {\"a\" : \"x\\u0041\"}}\n": "a=xA",
		`{"secrets":{"a":"\\ud800"}}`:               `a=\ud800`, // an escaped backslash, then text
	} {
		got, err := Parse([]byte(in))
		if err != nil {
			t.Errorf("Parse(%q) = %v", in, err)
			continue
		}
		var parts []string
		for _, s := range got {
			parts = append(parts, s.Name+"="+string(s.Value))
		}
		if strings.Join(parts, ",") != want {
			t.Errorf("Parse(%q) = %q, want %q", in, parts, want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for in, want := range map[string]string{
		``:                                       "unexpected end",
		`[]`:                                     "not a JSON object",
		`{"secrets":{"a":"1"}`:                   "unexpected end",
		`{"secrets":{"a":"1"}}x`:                 "data after",
		`{"secrets":{"a":"1"}}{}`:                "data after",
		`{"secrets":{"a":1}}`:                    `value of "a" is not a string`,
		`{"secrets":{"a":null}}`:                 `value of "a" is not a string`,
		`{"secrets":{"a":"1","a":"2"}}`:          `secret "a" twice`,
		`{"secrets":{},"secrets":{}}`:            `second "secrets"`,
		`{"secrets":{},"other":1}`:               `other than "secrets"`,
		`{"secrets":[]}`:                         "not an object",
		`{"secrets":{"a":"\ud800"}}`:             "surrogate",
		`{"secrets":{"a":"\uDC00"}}`:             "surrogate",
		"{\"secrets\":{\"a\":\"\xff\"}}":         "not UTF-8",
		`{"secrets":{"a":"v3-canary-zz` + "\x01": "malformed JSON",
	} {
		_, err := Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) = %v, want %q", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "canary") {
			t.Errorf("Parse(%q) echoes the plaintext: %v", in, err)
		}
	}
}

func TestCandidates(t *testing.T) {
	env := map[string]string{"LLM_SECRETS_DIR": "/s", "HOME": "/h", "XDG_DATA_HOME": "/x"}
	if got := Candidates(func(k string) string { return env[k] }); !slices.Equal(got, []string{"/s", "/x/llm-secrets", "/h/.llm-secrets"}) {
		t.Fatalf("Candidates = %q", got)
	}
	env = map[string]string{"HOME": "/h", "XDG_DATA_HOME": "rel"}
	if got := Candidates(func(k string) string { return env[k] }); !slices.Equal(got, []string{"/h/.local/share/llm-secrets", "/h/.llm-secrets"}) {
		t.Fatalf("Candidates = %q", got)
	}
}

func TestRetire(t *testing.T) {
	dir := t.TempDir()
	writeV3(t, dir, map[string]string{"A": "x"})
	for _, n := range []string{RootKeyFile, SessionFile, ".root.key.tmp", AuditFile} {
		must(t, os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600))
	}
	var names []string
	retired, err := Retired(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range retired {
		names = append(names, filepath.Base(p))
	}
	if !slices.Equal(names, []string{RootKeyFile, ".root.key.tmp", SessionFile, StoreFile}) {
		t.Fatalf("Retired = %q", names)
	}
	if removed, err := Retire(dir); err != nil || !slices.Equal(removed, retired) {
		t.Fatalf("Retire = %q, %v", removed, err)
	}
	left, err := os.ReadDir(dir)
	must(t, err)
	var rest []string
	for _, e := range left {
		rest = append(rest, e.Name())
	}
	if !slices.Equal(rest, []string{AuditFile, IdentityFile}) || Present(dir) {
		t.Fatalf("after Retire: %q", rest)
	}
	if err := MoveAudit(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, MovedAuditName)); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, AuditFile), []byte("x"), 0o600))
	if err := MoveAudit(dir); err == nil {
		t.Fatal("MoveAudit replaced an earlier moved log")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"secrets":{"a":"1","b":"2"}}`))
	f.Add([]byte(`{"secrets":{"a":"\u00e9\n"}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse(data)
		if err != nil {
			return
		}
		// What is accepted round-trips: written as that tool writes it,
		// it parses to the same secrets.
		m := map[string]string{}
		for _, s := range got {
			if _, dup := m[s.Name]; dup {
				t.Fatalf("duplicate %q accepted", s.Name)
			}
			if !utf8.Valid(s.Value) {
				t.Fatalf("value of %q is not UTF-8", s.Name)
			}
			m[s.Name] = string(s.Value)
		}
		again, err := json.Marshal(map[string]any{"secrets": m})
		if err != nil {
			t.Fatal(err)
		}
		got2, err := Parse(again)
		if err != nil || len(got2) != len(got) {
			t.Fatalf("re-parse of %q: %v", again, err)
		}
		for _, s := range got2 {
			if m[s.Name] != string(s.Value) {
				t.Fatalf("%q changed on the round trip", s.Name)
			}
		}
	})
}

// A symbolic link or one of several hard links in place of a file Retire
// removes would be removed as a name only, leaving root.key's or
// session.json's plaintext where it points: Retired refuses the directory,
// and Retire removes nothing.
func TestRetiredRefusesLinks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, dir, target string)
	}{
		{"symlink", func(t *testing.T, dir, target string) {
			if err := os.Symlink(target, filepath.Join(dir, RootKeyFile)); err != nil {
				t.Fatal(err)
			}
		}},
		{"hard link", func(t *testing.T, dir, target string) {
			if err := os.Link(target, filepath.Join(dir, SessionFile)); err != nil {
				t.Fatal(err)
			}
		}},
		{"directory", func(t *testing.T, dir, _ string) {
			if err := os.Mkdir(filepath.Join(dir, RootKeyFile), 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeV3(t, dir, map[string]string{"A": "x"})
			target := filepath.Join(t.TempDir(), "elsewhere")
			if err := os.WriteFile(target, []byte("retired-canary-root-key"), 0o600); err != nil {
				t.Fatal(err)
			}
			tc.plant(t, dir, target)
			if got, err := Retired(dir); err == nil {
				t.Fatalf("Retired = %q, nil; want a refusal", got)
			}
			if _, err := Retire(dir); err == nil {
				t.Fatal("Retire succeeded")
			}
			if !Present(dir) {
				t.Fatal("Retire removed store.age after refusing")
			}
			if _, err := os.Stat(target); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// must stops the test when a step it depends on failed.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
