package caveat

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

type parseVector struct {
	line    int
	ok      bool
	caveat  []byte
	wantErr string
}

// readParseVectors reads testdata/parse.txt; the fuzzer seeds from it too.
func readParseVectors(t testing.TB) []parseVector {
	t.Helper()
	f, err := os.Open("testdata/parse.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []parseVector
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		verdict, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimLeft(rest, " ")
		quoted, err := strconv.QuotedPrefix(rest)
		if err != nil {
			t.Fatalf("parse.txt:%d: %v", n, err)
		}
		c, _ := strconv.Unquote(quoted)
		v := parseVector{line: n, caveat: []byte(c), wantErr: strings.TrimSpace(rest[len(quoted):])}
		switch verdict {
		case "ok":
			v.ok = true
		case "bad":
			if v.wantErr == "" {
				t.Fatalf("parse.txt:%d: bad vector without an expected error", n)
			}
		default:
			t.Fatalf("parse.txt:%d: verdict %q", n, verdict)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 50 {
		t.Fatalf("only %d vectors read", len(vs))
	}
	return vs
}

func TestParseVectors(t *testing.T) {
	for _, v := range readParseVectors(t) {
		c, err := Parse(v.caveat)
		if v.ok {
			if err != nil {
				t.Errorf("parse.txt:%d: Parse(%q): %v", v.line, v.caveat, err)
				continue
			}
			if got := c.Bytes(); !bytes.Equal(got, v.caveat) {
				t.Errorf("parse.txt:%d: Bytes() = %q, want %q", v.line, got, v.caveat)
			}
			continue
		}
		if err == nil {
			t.Errorf("parse.txt:%d: Parse(%q) = %+v, want error containing %q", v.line, v.caveat, c, v.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), v.wantErr) {
			t.Errorf("parse.txt:%d: Parse(%q) error %q, want it to contain %q", v.line, v.caveat, err, v.wantErr)
		}
		if c != (Caveat{}) {
			t.Errorf("parse.txt:%d: Parse returned %+v with its error", v.line, c)
		}
	}
}

func TestParseMaxLength(t *testing.T) {
	build := func(total int) []byte {
		// "secret=" then single-letter names "a,b,..." cannot reach 4 KiB
		// sorted and unique, so pad one repo pattern instead.
		prefix := "repo=h/o/"
		return []byte(prefix + strings.Repeat("r", total-len(prefix)))
	}
	if _, err := Parse(build(maxLen)); err != nil {
		t.Errorf("Parse of %d bytes: %v", maxLen, err)
	}
	_, err := Parse(build(maxLen + 1))
	if err == nil || !strings.Contains(err.Error(), "longer than 4096") {
		t.Errorf("Parse of %d bytes: err = %v, want too long", maxLen+1, err)
	}
	// The same bound holds for a hand-built caveat.
	c := Caveat{Name: NameRepo, Value: string(build(maxLen + 1))[len("repo="):]}
	if err := c.Check(Context{Now: time.Unix(1, 0), Op: OpExec, Repo: "h/o/r"}); err == nil {
		t.Error("Check accepted an over-long hand-built caveat")
	}
}

func TestParseErrorsAreShort(t *testing.T) {
	long := []byte("op=" + strings.Repeat("x", 4000))
	_, err := Parse(long)
	if err == nil {
		t.Fatal("accepted")
	}
	if len(err.Error()) > 200 {
		t.Errorf("error is %d bytes long, want it cut", len(err.Error()))
	}
}

func TestParseAll(t *testing.T) {
	s, err := ParseAll([][]byte{[]byte("secret=a"), []byte("op=exec")})
	if err != nil {
		t.Fatal(err)
	}
	want := Set{{NameSecret, "a"}, {NameOp, "exec"}}
	if len(s) != len(want) || s[0] != want[0] || s[1] != want[1] {
		t.Errorf("ParseAll = %+v, want %+v", s, want)
	}

	s, err = ParseAll(nil)
	if err != nil || len(s) != 0 {
		t.Errorf("ParseAll(nil) = %+v, %v; want empty set", s, err)
	}

	_, err = ParseAll([][]byte{[]byte("secret=a"), []byte("colour=blue"), []byte("op=exec")})
	if err == nil || !strings.Contains(err.Error(), "caveat 1:") || !strings.Contains(err.Error(), "unknown name") {
		t.Errorf("ParseAll with an unknown caveat: err = %v, want it to name caveat 1", err)
	}
}

func TestConstructors(t *testing.T) {
	mustOK := func(c Caveat, err error) Caveat {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := Parse(c.Bytes())
		if err != nil || parsed != c {
			t.Fatalf("Parse(%q) = %+v, %v; want the constructed caveat back", c.Bytes(), parsed, err)
		}
		return c
	}
	tests := []struct {
		got  Caveat
		want string
	}{
		{mustOK(List(NameSecret, "b", "a")), "secret=a,b"},
		{mustOK(List(NameRepo, "github.com/acme/*")), "repo=github.com/acme/*"},
		{mustOK(List(NameBranch, "release/**", "main")), "branch=main,release/**"},
		{mustOK(List(NameAgent, "codex", "claude")), "agent=claude,codex"},
		{mustOK(List(NameWho, "*@acme.com")), "who=*@acme.com"},
		{mustOK(List(NameCmd, "terraform", "/usr/bin/make")), "cmd=/usr/bin/make,terraform"},
		{mustOK(List(NameOp, OpPeek, OpExec)), "op=exec,peek"},
		{mustOK(ExpiresAt(time.Date(2030, 1, 2, 3, 4, 5, 999_999_999, time.FixedZone("CET", 3600)))), "expires_at=2030-01-02T02:04:05Z"},
	}
	for _, tt := range tests {
		if got := string(tt.got.Bytes()); got != tt.want {
			t.Errorf("constructed %q, want %q", got, tt.want)
		}
	}

	bad := []struct {
		name    string
		c       func() (Caveat, error)
		wantErr string
	}{
		{"no items", func() (Caveat, error) { return List(NameSecret) }, "no items"},
		{"comma inside an item", func() (Caveat, error) { return List(NameSecret, "a,b") }, "contains ','"},
		{"duplicate", func() (Caveat, error) { return List(NameOp, OpExec, OpExec) }, "duplicate"},
		{"invalid name", func() (Caveat, error) { return List(NameSecret, "a/x") }, "only letters"},
		{"uppercase who", func() (Caveat, error) { return List(NameWho, "Bob@acme.com") }, "not lowercase"},
		{"unknown op", func() (Caveat, error) { return List(NameOp, "get") }, "unknown operation"},
		{"relative cmd", func() (Caveat, error) { return List(NameCmd, "bin/x") }, "clean absolute path"},
		{"empty item", func() (Caveat, error) { return List(NameAgent, "") }, "empty"},
		{"zero time", func() (Caveat, error) { return ExpiresAt(time.Time{}) }, "zero time"},
		{"year 10000", func() (Caveat, error) { return ExpiresAt(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) }, "not of the form"},
	}
	for _, tt := range bad {
		c, err := tt.c()
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: got %+v, %v; want error containing %q", tt.name, c, err, tt.wantErr)
		}
	}
}

func TestListKinds(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range ListKinds() {
		if seen[k.Name] || !IsList(k.Name) || k.Help == "" || strings.Contains(k.Flag(), "_") {
			t.Errorf("kind %+v: duplicate, unknown, without help or with '_' in its flag", k)
		}
		seen[k.Name] = true
	}
	for _, name := range []string{NameExpiresAt, "colour", ""} {
		if IsList(name) {
			t.Errorf("IsList(%q) = true", name)
		}
		if c, err := List(name, "x"); err == nil {
			t.Errorf("List(%q) = %+v, want an error", name, c)
		}
	}
	// Only operations some request checks are accepted.
	if got := strings.Join(Ops(), ","); got != "exec,peek,list" {
		t.Errorf("Ops() = %s", got)
	}
	for _, op := range []string{"lease", "mint", "mcp"} {
		if _, err := List(NameOp, op); err == nil || !strings.Contains(err.Error(), "unknown operation") {
			t.Errorf("op %s: err = %v, want unknown operation", op, err)
		}
	}
	if c, err := List(NameCmd, "psql", "/usr/bin/make"); err != nil || string(c.Bytes()) != "cmd=/usr/bin/make,psql" {
		t.Errorf("List(cmd) = %q, %v", c.Bytes(), err)
	}
	// launch is a list caveat that people do not set: only the launcher
	// adds it, so it is no flag and no profile key.
	for _, k := range ListKinds() {
		if k.LauncherOnly != (k.Name == NameLaunch) || Settable(k.Name) == k.LauncherOnly {
			t.Errorf("kind %s: LauncherOnly %v, Settable %v", k.Name, k.LauncherOnly, Settable(k.Name))
		}
	}
	if Settable(NameExpiresAt) || Settable("colour") {
		t.Error("Settable accepts a name that is no list caveat")
	}
	if c, err := List(NameLaunch, launchB, launchA); err != nil || string(c.Bytes()) != "launch="+launchA+","+launchB {
		t.Errorf("List(launch) = %q, %v", c.Bytes(), err)
	}
}
