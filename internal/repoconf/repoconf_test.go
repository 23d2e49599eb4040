package repoconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{`store = "team"`, ""},
		{`store = "a/b"` + "\nbranch = \"secrets\"", ""},
		{`store = "/etc"`, "inside the repository"},
		{`store = "../x"`, "inside the repository"},
		{`store = ".git/x"`, "inside the repository"},
		{`store = "."`, "inside the repository"},
		{`store = "t"` + "\nrun = \"sh\"", "unknown key"},
		{`store = "t"` + "\nbranch = \"-x\"", "not a plain branch"},
		{`store = "t"` + "\nbranch = \"a..b\"", "not a plain branch"},
	} {
		_, err := Parse("/repo", []byte(tc.in))
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.err)
		}
	}
	c, err := Parse("/repo", Format("team", ""))
	if err != nil || c.Store != "/repo/team" || c.Branch != DefaultBranch {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestTrustPinsTheContent(t *testing.T) {
	root, data := t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(text string) Config {
		if err := os.WriteFile(filepath.Join(root, FileName), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		sub := filepath.Join(root, "sub")
		os.MkdirAll(sub, 0o700)
		c, ok, err := Find(sub)
		if err != nil || !ok {
			t.Fatalf("Find: %v %v", ok, err)
		}
		return c
	}
	c := write(`store = "team"`)
	if Trusted(data, c) {
		t.Fatal("trusted before llms trust")
	}
	if err := Trust(data, c); err != nil {
		t.Fatal(err)
	}
	if !Trusted(data, c) {
		t.Fatal("not trusted after llms trust")
	}
	if c2 := write(`store = "elsewhere"`); Trusted(data, c2) {
		t.Fatal("a changed file stayed trusted")
	}
}
