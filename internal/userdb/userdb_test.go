package userdb

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, data string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

const passwd = `root:x:0:0:root:/root:/bin/bash
# a comment
+::::::
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash
toor:x:0:0:second root:/root2:/bin/sh
bad:x:1001:1001::relative/home:/bin/sh
short:x:1002:1002
`

// getentScript is a fake getent: it answers only with an empty
// environment, so that the test fails if the caller's variables (an
// LD_PRELOAD, a HOME) reach it.
func getentScript(t *testing.T, body string) string {
	return writeFile(t, "getent", "#!/bin/sh\n[ -z \"$LD_PRELOAD$HOME$USER\" ] || { echo 'environment leaked' >&2; exit 1; }\n"+body, 0o755)
}

func TestPasswdFile(t *testing.T) {
	db := DB{PasswdFile: writeFile(t, "passwd", passwd, 0o644), Getent: []string{"/nonexistent/getent"}}
	for uid, want := range map[int]Account{
		0:    {0, "root", "/root"},
		1000: {1000, "alice", "/home/alice"},
	} {
		if a, err := db.Lookup(uid); err != nil || a != want {
			t.Errorf("Lookup(%d) = %+v, %v; want %+v", uid, a, err, want)
		}
	}
	for uid, want := range map[int]string{1001: "no absolute, clean home", 1002: "not 7", 4242: "getent: not found at /nonexistent/getent", -1: "no entry"} {
		if a, err := db.Lookup(uid); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Lookup(%d) = %+v, %v; want an error containing %q", uid, a, err, want)
		}
	}
}

// A uid that /etc/passwd lacks (LDAP, SSSD, a container's arbitrary uid)
// is asked of the user database through getent, never of $HOME/$USER.
func TestGetentFallback(t *testing.T) {
	t.Setenv("HOME", "/home/agent-chosen")
	t.Setenv("USER", "agent-chosen")
	t.Setenv("LD_PRELOAD", "/tmp/evil.so")
	pw := writeFile(t, "passwd", passwd, 0o644)
	ok := getentScript(t, `[ "$1 $2" = "passwd 5000" ] || exit 2
echo 'ldapuser:*:5000:5000:LDAP User:/home/ldapuser:/bin/bash'
`)
	db := DB{PasswdFile: pw, Getent: []string{"/nonexistent/getent", ok}}
	if a, err := db.Lookup(5000); err != nil || a != (Account{5000, "ldapuser", "/home/ldapuser"}) {
		t.Errorf("Lookup(5000) through getent = %+v, %v", a, err)
	}
	if _, err := db.Lookup(5001); !errors.Is(err, ErrNoAccount) {
		t.Errorf("Lookup(5001), getent exit 2: %v; want ErrNoAccount", err)
	}
	// An unreadable passwd file goes to getent too.
	db.PasswdFile = "/nonexistent/passwd"
	if a, err := db.Lookup(5000); err != nil || a.Name != "ldapuser" {
		t.Errorf("Lookup(5000) without a passwd file = %+v, %v", a, err)
	}
}

// getent's output is parsed strictly: anything but one well-formed line
// for the uid asked is refused.
func TestGetentOutputIsStrict(t *testing.T) {
	pw := writeFile(t, "passwd", passwd, 0o644)
	for name, out := range map[string]string{
		"another uid":       `u:x:5001:5001::/home/u:/bin/sh\n`,
		"two lines":         `u:x:5000:5000::/home/u:/bin/sh\nv:x:5000:5000::/home/v:/bin/sh\n`,
		"no newline":        `u:x:5000:5000::/home/u:/bin/sh`,
		"six fields":        `u:x:5000:5000:/home/u:/bin/sh\n`,
		"eight fields":      `u:x:5000:5000:::/home/u:/bin/sh\n`,
		"relative home":     `u:x:5000:5000::home/u:/bin/sh\n`,
		"unclean home":      `u:x:5000:5000::/home/../root:/bin/sh\n`,
		"empty home":        `u:x:5000:5000:::/bin/sh\n`,
		"empty name":        `:x:5000:5000::/home/u:/bin/sh\n`,
		"name with escape":  `u\033[2K:x:5000:5000::/home/u:/bin/sh\n`,
		"name with a glob":  `u*:x:5000:5000::/home/u:/bin/sh\n`,
		"name with a space": `u v:x:5000:5000::/home/u:/bin/sh\n`,
		"leading dash":      `-u:x:5000:5000::/home/u:/bin/sh\n`,
		"nothing":           ``,
	} {
		g := getentScript(t, "printf '"+out+"'\n")
		if a, err := (DB{PasswdFile: pw, Getent: []string{g}}).Lookup(5000); err == nil {
			t.Errorf("%s: accepted %+v", name, a)
		}
	}
	for name, body := range map[string]string{
		"failure":   "exit 1\n",
		"flood":     "yes 'u:x:5000:5000::/home/u:/bin/sh'\n",
		"no answer": "exec sleep 5\n",
		"relative":  "",
	} {
		g := getentScript(t, body)
		if name == "relative" {
			g = "getent"
		}
		start := time.Now()
		if a, err := (DB{PasswdFile: pw, Getent: []string{g}, Timeout: 200 * time.Millisecond}).Lookup(5000); err == nil {
			t.Errorf("%s: accepted %+v", name, a)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: took %s", name, d)
		}
	}
}

// The real system: this process's uid is found, by one route or another,
// with an absolute home; or the error says so.
func TestCurrent(t *testing.T) {
	var system *DB
	a, err := system.Current()
	if err != nil {
		t.Skipf("no account for this uid here: %v", err)
	}
	if a.UID != os.Getuid() || a.Name == "" || !filepath.IsAbs(a.Home) {
		t.Errorf("Current() = %+v", a)
	}
}

func FuzzParseEntry(f *testing.F) {
	f.Add([]byte("alice:x:1000:1000:Alice:/home/alice:/bin/bash"), 1000)
	f.Add([]byte("a:b:c:d:e:f:g"), 0)
	f.Fuzz(func(t *testing.T, line []byte, uid int) {
		a, err := parseEntry(line, uid)
		if err != nil {
			return
		}
		if a.UID != uid || a.Name == "" || checkName(a.Name) != nil || !filepath.IsAbs(a.Home) || strings.ContainsAny(a.Name+a.Home, ":\n") {
			t.Fatalf("accepted %q as %+v", line, a)
		}
	})
}

func TestOverlongPasswdLine(t *testing.T) {
	db := DB{PasswdFile: writeFile(t, "passwd", "x:x:1:1::/x:"+strings.Repeat("a", 70<<10)+"\nalice:x:1000:1000::/home/alice:/bin/sh\n", 0o644), Getent: []string{}}
	if a, err := db.Lookup(1000); err == nil {
		t.Errorf("accepted %+v past an overlong line", a)
	}
}
