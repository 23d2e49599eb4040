package broker

import (
	"errors"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/leakscan"
)

// inputs yields a stream per text, named by the map's sorted keys, and an
// input that cannot be opened.
func inputs(texts map[string]string) iter.Seq2[leakscan.Input, error] {
	return func(yield func(leakscan.Input, error) bool) {
		for _, name := range slices.Sorted(func(y func(string) bool) {
			for k := range texts {
				if !y(k) {
					return
				}
			}
		}) {
			in := leakscan.Input{Path: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(texts[name])), nil }}
			if name == "blob" {
				in.Locate = func() string { return "abc123:blob" }
			}
			if !yield(in, nil) {
				return
			}
		}
		yield(leakscan.Input{Path: "unreadable", Open: func() (io.ReadCloser, error) { return nil, errors.New("permission denied") }}, nil)
	}
}

func TestScanFindsAndAudits(t *testing.T) {
	b, _ := testBroker(t)
	var got []string
	var failed []string
	sum, err := b.Scan(caller(t, nil, ""), ScanRequest{
		Inputs: inputs(map[string]string{
			"a.txt": "nothing\nx value-of-A-123\n",
			"blob":  `{"t":"dmFsdWUtb2YtQi0xMjM="}`,
			"clean": "value-of-D-123",
		}),
		Scope: "test",
		Found: func(f ScanFinding) error {
			got = append(got, f.Path+" "+f.Secret+" "+f.Encoding)
			if f.Changed.IsZero() {
				t.Errorf("%s: no change time", f.Secret)
			}
			return nil
		},
		Failed: func(p string, err error) { failed = append(failed, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.txt A raw", "abc123:blob B base64"}
	if !slices.Equal(got, want) {
		t.Errorf("found %q, want %q", got, want)
	}
	if sum.Findings != 2 || sum.Inputs != 3 || sum.Failed != 1 || sum.Secrets != 3 || !slices.Equal(failed, []string{"unreadable"}) {
		t.Errorf("summary %+v, failed %q", sum, failed)
	}
	log, err := os.ReadFile(filepath.Join(b.Dir(), AuditFile))
	must(t, err)
	if strings.Contains(string(log), "value-of") || strings.Contains(string(log), "dmFsdWUt") {
		t.Error("a value is in the audit log")
	}
	var events []string
	audit.Scan(filepath.Join(b.Dir(), AuditFile), func(e audit.Entry) error {
		if strings.HasPrefix(e.Event, "scan") {
			events = append(events, e.Event+" "+strings.Join(e.Secrets, ",")+" "+e.Reason)
		}
		return nil
	})
	wantEvents := []string{"scan A,B,C test", "scan-finding A a.txt:2:3 raw", "scan-finding B abc123:blob:1:7 base64"}
	if !slices.Equal(events, wantEvents) {
		t.Errorf("audit %q, want %q", events, wantEvents)
	}
}

// A finding that cannot be reported stops the scan with that error.
func TestScanStopsWhenReportingFails(t *testing.T) {
	b, _ := testBroker(t)
	stop := errors.New("stdout closed")
	n := 0
	_, err := b.Scan(caller(t, nil, ""), ScanRequest{
		Inputs: inputs(map[string]string{"a": "value-of-A-123 value-of-B-123", "b": "value-of-C-123"}),
		Found:  func(ScanFinding) error { n++; return stop },
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err %v after %d findings, want the report's error after 1", err, n)
	}
}

func TestScanIsForTheHumanWithoutToken(t *testing.T) {
	b, _ := testBroker(t)
	opened := false
	in := func(yield func(leakscan.Input, error) bool) {
		opened = true
	}
	for _, c := range []*Caller{caller(t, claude, ""), caller(t, nil, "some-token")} {
		if _, err := b.Scan(c, ScanRequest{Inputs: in}); !errors.Is(err, ErrDenied) {
			t.Errorf("scan: %v, want denied", err)
		}
	}
	if opened {
		t.Error("a refused scan read its inputs")
	}
}

// A path can hold a value (a file named after a token, a git path): the
// findings, the failures, the files skipped, the progress and the audit
// lines show it masked.
func TestScanMasksValuesInPaths(t *testing.T) {
	b, _ := testBroker(t)
	leaky := "dir/value-of-A-123.txt"
	var shown []string
	seq := func(yield func(leakscan.Input, error) bool) {
		in := leakscan.Input{Path: leaky, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x value-of-A-123\n")), nil }}
		if !yield(in, nil) {
			return
		}
		blob := leakscan.Input{Path: "blob", Locate: func() string { return "abc:" + leaky },
			Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("value-of-B-123")), nil }}
		if !yield(blob, nil) {
			return
		}
		if !yield(leakscan.Input{Path: leaky + ".bin", Skipped: "binary"}, nil) {
			return
		}
		yield(leakscan.Input{Path: leaky + ".gone", Open: func() (io.ReadCloser, error) { return nil, errors.New("open " + leaky + ".gone: no such file") }}, nil)
	}
	_, err := b.Scan(caller(t, nil, ""), ScanRequest{Inputs: seq, Scope: "paths " + leaky,
		Found:    func(f ScanFinding) error { shown = append(shown, f.Path); return nil },
		Failed:   func(p string, err error) { shown = append(shown, p, err.Error()) },
		Progress: func(_ int64, p string) { shown = append(shown, p) },
		Skipped:  func(p, why string) { shown = append(shown, p+" "+why) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(shown) < 6 || !slices.Contains(shown, "dir/[REDACTED:A].txt.bin binary") {
		t.Fatalf("shown %q: a finding, a failure or the progress is missing", shown)
	}
	for _, s := range shown {
		if strings.Contains(s, "value-of") {
			t.Errorf("a value is shown: %q", s)
		}
	}
	if !slices.Contains(shown, "dir/[REDACTED:A].txt") || !slices.Contains(shown, "abc:dir/[REDACTED:A].txt") {
		t.Errorf("shown %q, want the paths masked", shown)
	}
	log, err := os.ReadFile(filepath.Join(b.Dir(), AuditFile))
	must(t, err)
	if strings.Contains(string(log), "value-of") {
		t.Errorf("a value is in the audit log:\n%s", log)
	}
	if !strings.Contains(string(log), "dir/[REDACTED:A].txt") {
		t.Errorf("the audit log lacks the masked path:\n%s", log)
	}
}

// A scan that stops because a value cannot be read has read the others:
// it is recorded all the same.
func TestScanThatCannotReadAValueIsAudited(t *testing.T) {
	b, _ := testBroker(t)
	if err := os.WriteFile(filepath.Join(b.Dir(), "secrets", "B.age"), []byte("not age"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Scan(caller(t, nil, ""), ScanRequest{Inputs: inputs(nil), Scope: "paths x"}); err == nil {
		t.Fatal("a scan over an unreadable value succeeded")
	}
	var got []string
	audit.Scan(filepath.Join(b.Dir(), AuditFile), func(e audit.Entry) error {
		if e.Event == "scan" {
			got = append(got, e.Decision+" "+e.Reason)
		}
		return nil
	})
	if !slices.Equal(got, []string{"allow stopped: a value could not be read"}) {
		t.Errorf("scan audit lines %q", got)
	}
}
