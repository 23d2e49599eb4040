package userdb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Account is one entry of the user database.
type Account struct {
	UID  int
	Name string // the login name
	Home string // absolute
}

// DB says where to look. The zero DB is the system's.
type DB struct {
	// PasswdFile is read first; "" means /etc/passwd.
	PasswdFile string
	// Getent lists where getent may be, absolute paths tried in order; nil
	// means /usr/bin/getent, then /bin/getent.
	Getent []string
	// Timeout bounds getent; 0 means 10s.
	Timeout time.Duration
}

// ErrNoAccount: neither /etc/passwd nor the user database has the uid.
var ErrNoAccount = errors.New("no entry in the system's user database")

const (
	// maxLine bounds one line of /etc/passwd.
	maxLine = 64 << 10
	// maxGetentOutput bounds what getent may print for one uid.
	maxGetentOutput = 64 << 10
	// defaultTimeout bounds a lookup that goes to the network (LDAP).
	defaultTimeout = 10 * time.Second
)

// Current looks up this process's uid; a nil db is the system's.
func (db *DB) Current() (Account, error) {
	if db == nil {
		db = &DB{}
	}
	return db.Lookup(os.Getuid())
}

// Lookup finds uid: in the passwd file, else through getent. An entry that
// is found but malformed (no name, a relative home) is an error, never
// half an account.
func (db DB) Lookup(uid int) (Account, error) {
	if uid < 0 {
		return Account{}, fmt.Errorf("uid %d: %w", uid, ErrNoAccount)
	}
	file := db.PasswdFile
	if file == "" {
		file = "/etc/passwd"
	}
	line, ok, passwdErr := findUID(file, uid)
	if passwdErr == nil && ok {
		a, err := parseEntry(line, uid)
		if err != nil {
			return Account{}, fmt.Errorf("%s: uid %d: %w", file, uid, err)
		}
		return a, nil
	}
	if passwdErr == nil {
		passwdErr = ErrNoAccount
	}
	a, err := db.getent(uid)
	switch {
	case errors.Is(err, ErrNoAccount) && errors.Is(passwdErr, ErrNoAccount):
		return Account{}, fmt.Errorf("uid %d: %w (neither %s nor getent has it)", uid, ErrNoAccount, file)
	case err != nil:
		return Account{}, fmt.Errorf("uid %d: %s: %v; getent: %w", uid, file, passwdErr, err)
	}
	return a, nil
}

// getent runs `getent passwd UID` from the first candidate path that
// exists. Exit status 2 is getent's "not found".
func (db DB) getent(uid int) (Account, error) {
	paths := db.Getent
	if paths == nil {
		paths = []string{"/usr/bin/getent", "/bin/getent"}
	}
	bin := ""
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			continue
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			bin = p
			break
		}
	}
	if bin == "" {
		return Account{}, errors.New("not found at " + strings.Join(paths, " or "))
	}
	timeout := db.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "passwd", strconv.Itoa(uid))
	cmd.Env = []string{}
	var out bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: maxGetentOutput}
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 2:
		return Account{}, ErrNoAccount
	case ctx.Err() != nil:
		return Account{}, fmt.Errorf("no answer within %s", timeout)
	case err != nil:
		return Account{}, err
	}
	line, ok := bytes.CutSuffix(out.Bytes(), []byte("\n"))
	if !ok || bytes.IndexByte(line, '\n') >= 0 {
		return Account{}, errors.New("output is not exactly one line")
	}
	return parseEntry(line, uid)
}

// findUID returns the first line of a passwd file whose third field is
// uid, as getpwuid does. Other lines are not parsed: a comment or a NIS
// "+" line elsewhere in the file does not matter. A line longer than
// maxLine is an error: no real entry is.
func findUID(file string, uid int) ([]byte, bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	want := []byte(strconv.Itoa(uid))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		line := sc.Bytes()
		if fields := bytes.SplitN(line, []byte(":"), 4); len(fields) == 4 && bytes.Equal(fields[2], want) {
			return bytes.Clone(line), true, nil
		}
	}
	return nil, false, sc.Err()
}

// parseEntry parses one passwd line strictly: name:password:uid:gid:gecos:home:shell.
func parseEntry(line []byte, uid int) (Account, error) {
	f := strings.Split(string(line), ":")
	if len(f) != 7 {
		return Account{}, fmt.Errorf("entry has %d fields, not 7", len(f))
	}
	if f[2] != strconv.Itoa(uid) {
		return Account{}, fmt.Errorf("entry is for another uid")
	}
	if err := checkName(f[0]); err != nil {
		return Account{}, err
	}
	home := f[5]
	if !filepath.IsAbs(home) || filepath.Clean(home) != home || !utf8.ValidString(home) || hasControl(home) {
		return Account{}, errors.New("entry has no absolute, clean home directory")
	}
	return Account{UID: uid, Name: f[0], Home: home}, nil
}

// checkName accepts what user databases hold (POSIX names, and the '@',
// '$' and '\' of directory services) and refuses what could forge output
// or a policy pattern: control characters, spaces, ':', ',', '*', '?',
// '[', and a leading '-'.
func checkName(s string) error {
	if s == "" || len(s) > 256 {
		return errors.New("entry has an empty or overlong name")
	}
	if s[0] == '-' || !utf8.ValidString(s) || hasControl(s) || strings.ContainsAny(s, " :,*?[]") {
		return errors.New("entry has a malformed name")
	}
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 }) >= 0
}

// limitedWriter keeps the first n bytes and fails after them, so that a
// getent that prints without end is stopped rather than buffered.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, errors.New("output too long")
	}
	l.n -= len(p)
	return l.w.Write(p)
}
