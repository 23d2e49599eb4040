package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llm-secrets/llms/internal/macaroon"
)

// TestInspectEscapesTheLocation: a token's location is unsigned and chosen
// by whoever made it; inspect shows it without letting it draw lines.
func TestInspectEscapesTheLocation(t *testing.T) {
	m, err := macaroon.New(bytes.Repeat([]byte{1}, 32), []byte("id-1"), "x\x1b[2K\r\nid:       forged\u202e")
	if err != nil {
		t.Fatal(err)
	}
	f, tio := newTestFactory(t, m.Text(), false)
	if code := Main([]string{"macaroon", "inspect"}, f); code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, tio.errOut.String())
	}
	out := tio.out.String()
	if !strings.Contains(out, `location: "x\x1b[2K\r\nid:       forged\u202e"`) || strings.ContainsAny(out, "\x1b\r\u202e") {
		t.Fatalf("inspect output = %q", out)
	}
	if strings.Count(out, "\nid:") != 0 || !strings.HasPrefix(out, "id:       ") {
		t.Fatalf("inspect drew a forged line: %q", out)
	}
}

// TestProfileShowEscapes: profiles.toml is found through $XDG_CONFIG_HOME,
// which whoever runs llms chooses; its caveat values are shown escaped.
func TestProfileShowEscapes(t *testing.T) {
	f, tio := newTestFactory(t, "", false)
	cfg := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(cfg, "llm-secrets"), 0o700))
	must(t, os.WriteFile(filepath.Join(cfg, "llm-secrets", "profiles.toml"), []byte(
		"[p]\nsecrets = [\"DB\"]\nttl = \"5m\"\nwho = [\"a@b\\u001b[2K\\rsecrets: ALL\"]\n"), 0o600))
	getenv := f.Getenv
	f.Getenv = func(k string) string {
		if k == "XDG_CONFIG_HOME" {
			return cfg
		}
		return getenv(k)
	}
	if code := Main([]string{"profile", "show", "p"}, f); code != 0 {
		t.Fatalf("profile show: exit %d: %s", code, tio.errOut.String())
	}
	out := tio.out.String()
	if !strings.Contains(out, `who:     a@b\x1b[2K\rsecrets: ALL`) || strings.ContainsAny(out, "\x1b\r") {
		t.Fatalf("profile show output = %q", out)
	}
}
