package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// forgedLine is what someone without the key can add: a canonical line with
// the right seq, chained onto the real last MAC under a key of their own.
func forgedLine(t *testing.T, golden []byte) []byte {
	t.Helper()
	lines := splitLines(t, golden)
	last, err := parseLine(lines[len(lines)-1])
	if err != nil {
		t.Fatal(err)
	}
	prev := last.mac
	e := Entry{Record: Record{Time: goldenTime(9, 0), Event: "exec", Decision: "allow"}, Seq: last.Seq + 1}
	return appendLine(nil, hmac.New(sha256.New, bytes.Repeat([]byte{7}, 32)), &prev, &e)
}

func TestTamperingIsCaught(t *testing.T) {
	golden := goldenBytes(t)
	g := splitLines(t, golden)
	otherKey := bytes.Repeat([]byte{0xee}, 32)
	cases := []struct {
		name   string
		file   []byte
		key    []byte
		line   int
		reason string
		// appendFails is whether Append refuses too: it checks only the
		// last line, and damage further up is Verify's to find.
		appendFails bool
	}{
		{"edit a field", joinLines(g[0], g[1], bytes.Replace(g[2], []byte(`"deny"`), []byte(`"allow"`), 1), g[3], g[4], g[5]),
			testKey, 3, "mac does not verify", false},
		{"edit the last line", joinLines(g[0], g[1], g[2], g[3], g[4], bytes.Replace(g[5], []byte(`tok_3`), []byte(`tok_9`), 1)),
			testKey, 6, "mac does not verify", true},
		{"delete a line", joinLines(g[0], g[2], g[3], g[4], g[5]), testKey, 2, "seq 3, want 2", false},
		{"delete the first line", joinLines(g[1], g[2], g[3], g[4], g[5]), testKey, 1, "seq 2, want 1", false},
		{"swap two lines", joinLines(g[0], g[2], g[1], g[3], g[4], g[5]), testKey, 2, "seq 3, want 2", false},
		{"repeat a line", joinLines(g[0], g[1], g[2], g[2], g[3], g[4], g[5]), testKey, 4, "seq 3, want 4", false},
		{"truncate mid-line", golden[:len(golden)-40], testKey, 6, "no trailing newline", true},
		{"truncate before the newline", golden[:len(golden)-1], testKey, 6, "no trailing newline", true},
		{"append a forged line", append(bytes.Clone(golden), forgedLine(t, golden)...), testKey, 7, "mac does not verify", true},
		{"wrong key", golden, otherKey, 1, "mac does not verify", true},
		{"insert an empty line", joinLines(g[0], g[1], nil, g[2], g[3], g[4], g[5]), testKey, 3, "not canonical", false},
		{"reformat a line", joinLines(g[0], g[1], g[2], bytes.Replace(g[3], []byte(`,"op"`), []byte(`, "op"`), 1), g[4], g[5]),
			testKey, 4, "not canonical", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, c.file)
			n, err := Open(path, c.key).Verify()
			var bad *BadLineError
			if !errors.As(err, &bad) {
				t.Fatalf("Verify = %d, %v; want a *BadLineError", n, err)
			}
			if bad.Line != c.line || !strings.Contains(bad.Reason, c.reason) || bad.Path != path {
				t.Fatalf("Verify: %v; want line %d: …%s…", err, c.line, c.reason)
			}
			if n != c.line-1 {
				t.Fatalf("Verify counted %d good lines before line %d", n, c.line)
			}
			err = Open(path, c.key).Append(Record{Event: "exec", Decision: "deny"})
			if c.appendFails {
				if err == nil || !strings.Contains(err.Error(), "llms audit verify") {
					t.Fatalf("Append on a damaged tail = %v, want an error pointing at llms audit verify", err)
				}
				if !bytes.Equal(readFile(t, path), c.file) {
					t.Fatal("failed Append changed the file")
				}
			} else if err != nil {
				t.Fatalf("Append with an intact tail: %v", err)
			}
		})
	}
}

func TestAppendVerifyScanRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := Open(path, testKey)
	for _, r := range goldenRecords {
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	n, err := l.Verify()
	if err != nil || n != len(goldenRecords) {
		t.Fatalf("Verify = %d, %v; want %d, nil", n, err, len(goldenRecords))
	}
	var got []Entry
	if err := Scan(path, func(e Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(goldenRecords) {
		t.Fatalf("Scan gave %d entries", len(got))
	}
	lines := splitLines(t, readFile(t, path))
	for i, e := range got {
		want := goldenRecords[i]
		if len(want.Secrets) == 0 {
			want.Secrets = nil
		}
		if !reflect.DeepEqual(e.Record, want) || e.Seq != uint64(i+1) ||
			!bytes.HasSuffix(lines[i], []byte(`"mac":"`+e.MAC+`"}`)) {
			t.Errorf("entry %d = %+v", i+1, e)
		}
	}
}

func TestAppendCreatesFileWithMode0600(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := Open(path, testKey).Append(Record{Event: "init"}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("mode = %v, want 0600", perm)
	}
}

func TestAppendStampsZeroTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	before := time.Now()
	if err := Open(path, testKey).Append(Record{Event: "list"}); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	entries, err := ReadTail(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := entries[0].Time; got.Before(before) || got.After(after) || got.Location() != time.UTC {
		t.Fatalf("time = %v, want a UTC time in [%v, %v]", got, before, after)
	}
}

// marker stands in for anything a record or line could carry; errors must
// not repeat it.
const marker = "hunter2-do-not-echo"

func TestAppendRejectsInvalidRecords(t *testing.T) {
	cases := map[string]Record{
		"empty event":          {Reason: marker},
		"uppercase event":      {Event: "Exec", Reason: marker},
		"event with marker":    {Event: marker + " x"},
		"long event":           {Event: strings.Repeat("a", 65)},
		"unknown decision":     {Event: "exec", Decision: marker},
		"empty secret name":    {Event: "exec", Secrets: []string{marker, ""}},
		"negative pid":         {Event: "exec", PID: -1, Cwd: marker},
		"pid over int32":       {Event: "exec", PID: 1 << 31, Cwd: marker},
		"year after 9999":      {Event: "exec", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Cwd: marker},
		"year before 0000":     {Event: "exec", Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), Cwd: marker},
		"line longer than max": {Event: "exec", Reason: marker + strings.Repeat("x", maxLineBytes)},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, goldenBytes(t))
			err := Open(path, testKey).Append(r)
			if err == nil {
				t.Fatal("Append accepted the record")
			}
			if strings.Contains(err.Error(), marker) {
				t.Fatalf("error repeats record contents: %v", err)
			}
			if !bytes.Equal(readFile(t, path), goldenBytes(t)) {
				t.Fatal("rejected record changed the file")
			}
		})
	}
}

func TestBadLineErrorDoesNotEchoContents(t *testing.T) {
	g := splitLines(t, goldenBytes(t))
	edited := bytes.Replace(g[0], []byte(`/home/dev/app`), []byte(marker), 1)
	for name, line := range map[string][]byte{
		"mac mismatch":  edited,
		"not canonical": bytes.Replace(edited, []byte(`"main"`), []byte(`"ma\u0069n"`), 1),
	} {
		path := writeFile(t, joinLines(line))
		_, err := Open(path, testKey).Verify()
		if err == nil || strings.Contains(err.Error(), marker) {
			t.Fatalf("%s: Verify = %v; want an error that does not repeat the line", name, err)
		}
	}
}

func TestKeyTooShort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := Open(path, make([]byte, MinKeySize-1))
	if err := l.Append(Record{Event: "exec"}); err == nil {
		t.Fatal("Append accepted a short key")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Append with a short key touched the file: %v", err)
	}
	if _, err := Open(writeFile(t, goldenBytes(t)), testKey[:MinKeySize-1]).Verify(); err == nil {
		t.Fatal("Verify accepted a short key")
	}
}

func TestOpenCopiesKey(t *testing.T) {
	key := bytes.Clone(testKey)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := Open(path, key)
	clear(key)
	if err := l.Append(Record{Event: "exec"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, testKey).Verify(); err != nil {
		t.Fatalf("line was not keyed by the key given to Open: %v", err)
	}
}

func TestRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(target, goldenBytes(t), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "audit.jsonl")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	l := Open(link, testKey)
	if err := l.Append(Record{Event: "exec"}); err == nil {
		t.Fatal("Append wrote through a symlink")
	}
	if !bytes.Equal(readFile(t, target), goldenBytes(t)) {
		t.Fatal("symlink target changed")
	}
	if _, err := l.Verify(); err == nil {
		t.Fatal("Verify read through a symlink")
	}
	if _, err := ReadTail(link, 1); err == nil {
		t.Fatal("ReadTail read through a symlink")
	}
}

func TestRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dir, fifo} {
		err := Open(path, testKey).Append(Record{Event: "exec"})
		if err == nil {
			t.Fatalf("Append to %s succeeded", path)
		}
		if _, err := Open(path, testKey).Verify(); err == nil {
			t.Fatalf("Verify of %s succeeded", path)
		}
	}
}

func TestVerifyEmptyAndMissing(t *testing.T) {
	if n, err := Open(writeFile(t, nil), testKey).Verify(); n != 0 || err != nil {
		t.Fatalf("empty log: Verify = %d, %v; want 0, nil", n, err)
	}
	_, err := Open(filepath.Join(t.TempDir(), "none"), testKey).Verify()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing log: Verify = %v, want fs.ErrNotExist", err)
	}
}

func TestVerifyRejectsOverlongLine(t *testing.T) {
	path := writeFile(t, append(bytes.Clone(goldenBytes(t)), bytes.Repeat([]byte{'a'}, maxLineBytes+1)...))
	_, err := Open(path, testKey).Verify()
	var bad *BadLineError
	if !errors.As(err, &bad) || bad.Line != 7 || !strings.Contains(bad.Reason, "longer than") {
		t.Fatalf("Verify = %v, want line 7 too long", err)
	}
}

func TestScanStopsAtCallbackError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := Scan(writeFile(t, goldenBytes(t)), func(Entry) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 2 {
		t.Fatalf("Scan = %v after %d calls; want the callback's error after 2", err, calls)
	}
}

func TestScanChecksFormButNotMACs(t *testing.T) {
	g := splitLines(t, goldenBytes(t))
	forged := bytes.Replace(g[1], []byte(`"allow"`), []byte(`"deny"`), 1)
	if err := Scan(writeFile(t, joinLines(g[0], forged)), func(Entry) error { return nil }); err != nil {
		t.Fatalf("Scan checks MACs, which needs the key: %v", err)
	}
	err := Scan(writeFile(t, joinLines(g[0], g[2])), func(Entry) error { return nil })
	var bad *BadLineError
	if !errors.As(err, &bad) || bad.Line != 2 {
		t.Fatalf("Scan = %v, want line 2 out of sequence", err)
	}
}

func TestConcurrentAppendsFromGoroutines(t *testing.T) {
	const workers, each = 8, 25
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			l := Open(path, testKey)
			for range each {
				errs <- l.Append(Record{Event: "exec", Decision: "allow", PID: w})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := Open(path, testKey).Verify(); n != workers*each || err != nil {
		t.Fatalf("Verify = %d, %v; want %d, nil", n, err, workers*each)
	}
}

func TestAppendRefusesSeqOverflow(t *testing.T) {
	h := hmac.New(sha256.New, testKey)
	prev := genesis
	var log []byte
	for _, seq := range []uint64{1<<64 - 2, 1<<64 - 1} {
		log = appendLine(log, h, &prev, &Entry{Record: Record{Time: goldenTime(0, 0), Event: "exec"}, Seq: seq})
	}
	path := writeFile(t, log)
	err := Open(path, testKey).Append(Record{Event: "exec"})
	if err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("Append after seq 2^64-1 = %v, want an overflow error", err)
	}
	if !bytes.Equal(readFile(t, path), log) {
		t.Fatal("failed Append changed the file")
	}
}

// AppendAll writes the lines Append would, chained in order after what is
// there; one bad record among them writes none.
func TestAppendAll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := Open(path, testKey)
	if err := l.Append(goldenRecords[0]); err != nil {
		t.Fatal(err)
	}
	if err := l.AppendAll(goldenRecords[1:]); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Verify(); err != nil || n != len(goldenRecords) {
		t.Fatalf("Verify = %d, %v; want %d, nil", n, err, len(goldenRecords))
	}
	before := readFile(t, path)
	err := l.AppendAll([]Record{{Event: "import", Secrets: []string{"A"}}, {Event: "import", Reason: strings.Repeat("x", maxLineBytes)}})
	if err == nil || !bytes.Equal(readFile(t, path), before) {
		t.Fatalf("AppendAll with a line too long: %v, and the file changed: %v", err, !bytes.Equal(readFile(t, path), before))
	}
	if err := l.AppendAll([]Record{{Event: "import"}, {Event: "Import"}}); err == nil || !bytes.Equal(readFile(t, path), before) {
		t.Fatalf("AppendAll with an invalid record: %v", err)
	}
}
