package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// TestCanaryNeverLeaks sets one unique value and drives it through every
// command, including their error paths. The value, and each encoding the
// redactor knows, must never appear in any stdout or stderr, nor in any file
// other than its own (encrypted) .age file.
func TestCanaryNeverLeaks(t *testing.T) {
	t.Parallel()
	raw := make([]byte, 12)
	rand.Read(raw)
	canary := "canary-" + hex.EncodeToString(raw)
	forms := []string{
		canary,
		base64.StdEncoding.EncodeToString([]byte(canary)),
		base64.RawURLEncoding.EncodeToString([]byte(canary)),
		hex.EncodeToString([]byte(canary)),
		url.QueryEscape(canary + "/&"),
	}
	bin := llmsBin(t)
	root := t.TempDir()
	dir := filepath.Join(root, "store")
	env := llmsEnv(dir)
	work := filepath.Join(root, "work")
	mustDo(t, os.Mkdir(work, 0o700))

	var outputs []string
	record := func(stdin string, args ...string) int {
		out, errs, code := run(t, bin, env, stdin, args...)
		outputs = append(outputs, strings.Join(args, " ")+"\x00"+out+"\x00"+errs)
		return code
	}
	expect := func(want int, stdin string, args ...string) {
		t.Helper()
		if code := record(stdin, args...); code != want {
			t.Errorf("llms %v: exit %d, want %d", args, code, want)
		}
	}

	expect(0, "", "init")
	expect(0, canary+"\n", "set", "--stdin", "K")
	expect(0, canary+"/&", "set", "--stdin", "URLISH")
	expect(0, canary, "set", "--stdin", "K") // update
	expect(0, "", "list")
	expect(0, "", "list", "--json")
	expect(0, "", "peek", "K")
	expect(0, "", "status")
	envFile := filepath.Join(work, "app.env")
	mustDo(t, os.WriteFile(envFile, []byte("IMPORTED="+canary+"\n"), 0o600))
	expect(0, "", "import", "--delete", envFile)
	mustDo(t, os.WriteFile(envFile, []byte("BROKEN=\""+canary+"\n"), 0o600))
	expect(2, "", "import", envFile)
	// A bare value on its own line (a PEM body, a pasted token).
	mustDo(t, os.WriteFile(envFile, []byte("PEM=-----BEGIN-----\n"+canary+"\n"), 0o600))
	expect(2, "", "import", envFile)
	mustDo(t, os.WriteFile(envFile, []byte("E=\"\\"+canary+"\"\n"), 0o600))
	expect(2, "", "import", envFile)
	os.Remove(envFile)

	// The child prints the value in every form the redactor knows, on both
	// streams, in pieces, and on a long line.
	script := `printf '%s\n' "$V"; printf '%s' "$V" >&2; printf '%s' "$V" | base64; printf '%s' "$V" | od -An -tx1 | tr -d ' \n'; echo
printf '%s' "$V" | head -c 5; sleep 0.05; printf '%s\n' "$(printf '%s' "$V" | tail -c +6)"
printf '%s\n' "$U"; head -c 100000 /dev/zero | tr '\0' x; printf '%s\n' "$V"`
	expect(0, "", "exec", "-i", "V=K", "-i", "U=URLISH", "--", "sh", "-c", script)
	expect(0, "", "exec", "-i", "V=IMPORTED", "--", "sh", "-c", `printf '%s' "$V"`)
	expect(3, "", "exec", "-i", "V=K", "--", "sh", "-c", `printf '%s' "$V"; exit 3`)
	expect(127, "", "exec", "-i", "V=K", "--", "no-such-command-canary")
	expect(2, "", "exec", "-i", "V=missing", "-i", "W=K", "--", "true")
	expect(2, "", "exec", "--no-redact", "-i", "V=K", "--", "sh", "-c", `echo "$V"`)
	expect(0, "", "delete", "--force", "IMPORTED")

	// An llm-secrets v3 store moved in: refused (a name llms cannot hold),
	// then migrated. The value is only ever in age files.
	v3 := filepath.Join(work, "v3")
	writeV3Store(t, v3, `{"secrets":{"MIGRATED":"`+canary+`","bad name":"`+canary+`"}}`)
	expect(2, "", "migrate", "--from", v3, "--yes")
	writeV3Store(t, v3, `{"secrets":{"MIGRATED":"`+canary+`"}}`)
	expect(2, "", "migrate", "--from", v3)
	expect(0, "", "migrate", "--from", v3, "--yes")
	expect(0, "", "exec", "-i", "V=MIGRATED", "--", "sh", "-c", `printf '%s' "$V"`)

	// The delegation, policy and audit commands, and an agent's use of a
	// token: none of them handles the value in the open either.
	expect(0, "", "session-start", "--ttl", "1h")
	expect(0, "", "session-info")
	out, errs, code := run(t, bin, env, "", "macaroon", "mint", "--secret", "K", "--ttl", "5m")
	outputs = append(outputs, "macaroon mint\x00"+out+"\x00"+errs)
	if code != 0 {
		t.Fatalf("mint: exit %d: %s", code, errs)
	}
	token := strings.TrimSpace(out)
	expect(0, token, "macaroon", "inspect")
	expect(0, token, "macaroon", "verify", "--key", "K")
	expect(0, "", "lease", "K", "--ttl", "5m")
	expect(0, "", "leases", "--all", "--json")
	expect(0, "", "policy", "check")
	agent := append(append([]string{}, env...), "CLAUDECODE=1", "LLM_SECRETS_MACAROON="+token)
	for _, tc := range []struct {
		want int
		args []string
	}{
		{0, []string{"exec", "-i", "V=K", "--", "sh", "-c", script}},
		{0, []string{"peek", "K"}},
		{0, []string{"list"}},
		{3, []string{"exec", "-i", "V=URLISH", "--", "sh", "-c", `printf '%s' "$V"`}},
	} {
		out, errs, code := run(t, bin, agent, "", tc.args...)
		outputs = append(outputs, "agent "+strings.Join(tc.args, " ")+"\x00"+out+"\x00"+errs)
		if code != tc.want {
			t.Errorf("agent llms %v: exit %d, want %d: %s", tc.args, code, tc.want, errs)
		}
	}
	// A scan finds the value in every form, and shows none of them: the
	// finding is the place and the name, never the text around it.
	leak := filepath.Join(work, "transcript.jsonl")
	mustDo(t, os.WriteFile(leak, []byte(strings.Join(forms, "\n")+"\n{\"text\":\""+canary+"\"}\n"), 0o600))
	expect(1, "", "scan", leak)
	expect(1, "", "scan", "--json", leak)
	out, errs, code = run(t, bin, agent, "", "scan", leak)
	outputs = append(outputs, "agent scan\x00"+out+"\x00"+errs)
	if code != 3 {
		t.Errorf("agent llms scan: exit %d, want 3", code)
	}
	os.Remove(leak)
	expect(0, "", "audit", "-n", "0")
	expect(0, "", "audit", "--json", "-n", "0")
	expect(0, "", "audit", "verify")
	expect(0, "", "revoke-all", "--rotate")
	expect(0, "", "exec", "-i", "V=K", "--", "sh", "-c", `printf '%s' "$V"`)

	for _, o := range outputs {
		for _, f := range forms {
			if strings.Contains(o, f) {
				t.Errorf("a form of the canary leaked in the output of: %s", strings.SplitN(o, "\x00", 2)[0])
			}
		}
	}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil // sockets, the llms symlink's target
		}
		for _, f := range forms {
			if bytes.Contains(data, []byte(f)) {
				t.Errorf("a form of the canary is in %s", path)
			}
		}
		return nil
	})
}

// writeV3Store writes an llm-secrets v3 store in dir, as that tool does: a
// bare identity, store.age to its one recipient, and its plaintext root key.
func writeV3Store(t *testing.T, dir, plaintext string) {
	t.Helper()
	mustDo(t, os.MkdirAll(dir, 0o700))
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(plaintext))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"identity.txt": []byte(id.String()), "store.age": ct.Bytes(), "root.key": make([]byte, 32)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// mustDo stops the test when a step it depends on failed.
func mustDo(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
