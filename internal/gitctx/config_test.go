package gitctx

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// gitConfigList is git's own reading of a config file: the entries in
// parseConfig's form, or the line git reports as bad.
func gitConfigList(t testing.TB, path string) ([]configEntry, int, error) {
	cmd := exec.Command("git", "config", "-f", path, "--list", "-z")
	cmd.Env = []string{"GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent", "LC_ALL=C", "PATH=" + os.Getenv("PATH")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		m := regexp.MustCompile(`bad config line (\d+) in file`).FindSubmatch(stderr.Bytes())
		if m == nil {
			return nil, 0, fmt.Errorf("git config: %v: %s", err, stderr.Bytes())
		}
		var line int
		fmt.Sscan(string(m[1]), &line)
		return nil, line, nil
	}
	var entries []configEntry
	for _, rec := range strings.SplitAfter(stdout.String(), "\x00") {
		if rec == "" {
			continue
		}
		rec = strings.TrimSuffix(rec, "\x00")
		name, value, hasValue := strings.Cut(rec, "\n")
		entries = append(entries, configEntry{name: name, value: value, hasValue: hasValue})
	}
	return entries, 0, nil
}

var lineInError = regexp.MustCompile(`^gitctx: .+:(\d+): bad config line$`)

// compareWithGit asserts that parseConfig and git agree on data: the same
// entries, or an error on the same line.
func compareWithGit(t testing.TB, path string, data []byte) {
	want, wantLine, err := gitConfigList(t, path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseConfig(path, data)
	if wantLine != 0 {
		if err == nil {
			t.Fatalf("%s: git rejects line %d, parseConfig accepts: %#v", path, wantLine, got)
		}
		m := lineInError.FindStringSubmatch(err.Error())
		if m == nil || m[1] != fmt.Sprint(wantLine) {
			t.Fatalf("%s: error %q, git reports line %d", path, err, wantLine)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: git accepts, parseConfig: %v", path, err)
	}
	if !slices.Equal(got, want) && !(oldGitWhitespace(t) && slices.EqualFunc(got, want, sameButWhitespace)) {
		t.Fatalf("%s:\n got %#v\nwant %#v", path, got, want)
	}
}

// Before 2.45, git turned each unquoted blank inside a value into a space;
// parseConfig keeps them, as git does now. oldGitWhitespace reports whether
// the installed git is old enough to differ there.
func oldGitWhitespace(t testing.TB) bool {
	gitVersionOnce.Do(func() {
		out, err := exec.Command("git", "version").Output()
		if err != nil {
			t.Fatal(err)
		}
		var major, minor int
		if _, err := fmt.Sscanf(string(out), "git version %d.%d", &major, &minor); err != nil {
			t.Fatalf("git version %q: %v", out, err)
		}
		gitBefore245 = major < 2 || major == 2 && minor < 45
	})
	return gitBefore245
}

var (
	gitVersionOnce sync.Once
	gitBefore245   bool
)

func sameButWhitespace(a, b configEntry) bool {
	blank := strings.NewReplacer("\t", " ", "\r", " ")
	return a.name == b.name && a.hasValue == b.hasValue && blank.Replace(a.value) == blank.Replace(b.value)
}

func requireGit(t testing.TB) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
}

func TestParseConfigMatchesGit(t *testing.T) {
	requireGit(t)
	paths, err := filepath.Glob("testdata/config/*.gitconfig")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no config vectors: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// The vectors say which side of the line they are on, so a
			// change in git or here cannot silently flip one.
			_, gitLine, err := gitConfigList(t, path)
			if err != nil {
				t.Fatal(err)
			}
			if bad := strings.HasPrefix(filepath.Base(path), "bad-"); bad != (gitLine != 0) {
				t.Fatalf("git line %d for a vector named %s", gitLine, filepath.Base(path))
			}
			compareWithGit(t, path, data)
		})
	}
}

func TestParseConfigValues(t *testing.T) {
	data, err := os.ReadFile("testdata/config/values.gitconfig")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := parseConfig("values.gitconfig", data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"v.plain":      "a b   c",
		"v.trailing":   "value",
		"v.quoted":     "  spaced  ",
		"v.partial":    "a b c",
		"v.comment":    "value",
		"v.quotedhash": "value # not a comment",
		"v.escapes":    "tab\there new\nline back\\slash \"q\"",
		"v.continued":  "first second",
		"v.empty":      "",
	}
	for name, value := range want {
		e, ok := last(entries, name)
		if !ok || !e.hasValue || e.value != value {
			t.Errorf("%s = %q (found %v), want %q", name, e.value, ok, value)
		}
	}
}

func TestParseConfigRejectsNUL(t *testing.T) {
	_, err := parseConfig("f", []byte("[a]\nk = x\n\x00\n"))
	if err == nil || !strings.Contains(err.Error(), "f:3:") {
		t.Fatalf("got %v, want an error at f:3", err)
	}
}

// A config line can hold a token; errors must name the place, never the text.
func TestParseConfigErrorHidesLine(t *testing.T) {
	_, err := parseConfig("cfg", []byte("[remote \"origin\"]\n\turl = \"https://u:s3cr3t@host/x\\q\"\n"))
	if err == nil {
		t.Fatal("bad escape accepted")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error leaks the line: %v", err)
	}
}

func TestParseBool(t *testing.T) {
	for _, tc := range []struct {
		e       configEntry
		want    bool
		wantErr bool
	}{
		{configEntry{}, true, false},
		{configEntry{value: "TRUE", hasValue: true}, true, false},
		{configEntry{value: "on", hasValue: true}, true, false},
		{configEntry{value: "2", hasValue: true}, true, false},
		{configEntry{value: "", hasValue: true}, false, false},
		{configEntry{value: "No", hasValue: true}, false, false},
		{configEntry{value: "0", hasValue: true}, false, false},
		{configEntry{value: "maybe", hasValue: true}, false, true},
	} {
		got, err := parseBool(tc.e)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("parseBool(%+v) = %v, %v", tc.e, got, err)
		}
	}
}

// FuzzParseConfig checks parseConfig against git itself: same entries, or
// an error on the same line.
func FuzzParseConfig(f *testing.F) {
	paths, _ := filepath.Glob("testdata/config/*.gitconfig")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	requireGit(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := parseConfig("fuzz", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "gitctx: fuzz:") {
				t.Fatalf("error without a position: %v", err)
			}
		}
		for _, e := range entries {
			if strings.ContainsAny(e.name, "\n\x00") {
				t.Fatalf("entry name %q", e.name)
			}
		}
		// NUL is the one deliberate difference from git.
		if bytes.IndexByte(data, 0) >= 0 {
			return
		}
		path := filepath.Join(dir, "config")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		compareWithGit(t, path, data)
	})
}
