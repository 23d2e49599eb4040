package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGenesis(t *testing.T) {
	const documented = "e236ddbfb69596ffeff9d45fe14b2ccbaa1470ea7ecbf3661a14ffad0c8c108e"
	if got := hex.EncodeToString(genesis[:]); got != documented {
		t.Fatalf("genesis = %s, doc.go says %s", got, documented)
	}
}

// TestGoldenAppend pins the format: appending goldenRecords to a new log
// gives testdata/golden.jsonl byte for byte.
func TestGoldenAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := Open(path, testKey)
	for _, r := range goldenRecords {
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := goldenBytes(t); !bytes.Equal(got, want) {
		t.Fatalf("Append wrote\n%s\nwant testdata/golden.jsonl:\n%s", got, want)
	}
}

// TestGoldenIndependently checks testdata/golden.jsonl against the format as
// doc.go states it, using encoding/json and crypto/hmac instead of this
// package's encoder, so the golden file is not merely what the code does.
func TestGoldenIndependently(t *testing.T) {
	keys := []string{"time", "seq", "event", "decision", "reason", "secrets", "token", "op",
		"program", "agent", "repo", "branch", "cwd", "pid", "mac"}
	prev := sha256.Sum256([]byte("llm-secrets audit log v1"))
	for i, line := range splitLines(t, goldenBytes(t)) {
		dec := json.NewDecoder(bytes.NewReader(line))
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		var gotKeys []string
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			gotKeys = append(gotKeys, k.(string))
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
		if !reflect.DeepEqual(gotKeys, keys) {
			t.Fatalf("line %d keys = %v, want %v", i+1, gotKeys, keys)
		}
		var obj struct {
			Seq     uint64   `json:"seq"`
			Reason  string   `json:"reason"`
			Secrets []string `json:"secrets"`
			MAC     string   `json:"mac"`
		}
		if err := json.Unmarshal(line, &obj); err != nil {
			t.Fatal(err)
		}
		if obj.Seq != uint64(i+1) {
			t.Fatalf("line %d has seq %d", i+1, obj.Seq)
		}
		if obj.Reason != goldenRecords[i].Reason || !slices.Equal(obj.Secrets, goldenRecords[i].Secrets) {
			t.Fatalf("line %d: encoding/json reads reason %q secrets %q", i+1, obj.Reason, obj.Secrets)
		}
		macAt := bytes.Index(line, []byte(`,"mac":"`))
		body := append(line[:macAt:macAt], '}')
		m := hmac.New(sha256.New, testKey)
		m.Write(prev[:])
		m.Write(body)
		if sum := hex.EncodeToString(m.Sum(nil)); sum != obj.MAC {
			t.Fatalf("line %d: mac %s, recomputed %s", i+1, obj.MAC, sum)
		}
		copy(prev[:], m.Sum(nil))
	}
}

func TestParseGoldenRoundTrip(t *testing.T) {
	for i, line := range splitLines(t, goldenBytes(t)) {
		pl, err := parseLine(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		want := goldenRecords[i]
		if len(want.Secrets) == 0 {
			want.Secrets = nil
		}
		if !reflect.DeepEqual(pl.Record, want) {
			t.Errorf("line %d parsed as %+v, want %+v", i+1, pl.Record, want)
		}
		if got := appendBody(nil, &pl.Entry); !bytes.Equal(got, line[:pl.bodyLen]) {
			t.Errorf("line %d: body re-encodes as %s", i+1, got)
		}
	}
}

func TestInvalidUTF8BecomesReplacementCharacter(t *testing.T) {
	got := appendString(nil, "a\xffb\xc3")
	if want := "\"a\uFFFDb\uFFFD\""; string(got) != want {
		t.Fatalf("appendString = %q, want %q", got, want)
	}
	if !utf8.Valid(got) {
		t.Fatal("result is not UTF-8")
	}
}

// TestParseLineRejectsNonCanonical edits a canonical line in ways a JSON
// decoder would accept, or that break a rule of the format; each must fail.
func TestParseLineRejectsNonCanonical(t *testing.T) {
	lines := splitLines(t, goldenBytes(t))
	base := string(lines[1]) // an exec with two secrets
	if _, err := parseLine([]byte(base)); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, old, new string }{
		{"space after colon", `"seq":2`, `"seq": 2`},
		{"space after comma", `,"event"`, `, "event"`},
		{"space before brace", `{"time"`, ` {"time"`},
		{"trailing space", `"}`, `"} `},
		{"carriage return", `"}`, "\"}\r"},
		{"byte order mark", `{"time"`, "\ufeff{\"time\""},
		{"trailing bytes", `"}`, `"}{}`},
		{"reordered fields", `"seq":2,"event":"exec"`, `"event":"exec","seq":2`},
		{"unknown field", `,"pid":`, `,"extra":"","pid":`},
		{"duplicate key", `"op":"exec"`, `"op":"exec","op":"exec"`},
		{"missing field", `,"branch":"main"`, ``},
		{"null value", `"reason":""`, `"reason":null`},
		{"number as string", `"pid":4243`, `"pid":"4243"`},
		{"seq leading zero", `"seq":2`, `"seq":02`},
		{"seq zero", `"seq":2`, `"seq":0`},
		{"seq overflow", `"seq":2`, `"seq":18446744073709551616`},
		{"seq negative", `"seq":2`, `"seq":-2`},
		{"seq exponent", `"seq":2`, `"seq":2e0`},
		{"pid leading zero", `"pid":4243`, `"pid":04243`},
		{"pid over int32", `"pid":4243`, `"pid":2147483648`},
		{"pid negative", `"pid":4243`, `"pid":-1`},
		{"time with offset", `01.000000001Z`, `01.000000001+00:00`},
		{"time short fraction", `01.000000001Z`, `01.000001Z`},
		{"time lowercase z", `01.000000001Z`, `01.000000001z`},
		{"time lowercase t", `2025-11-28T15`, `2025-11-28t15`},
		{"time February 30", `2025-11-28T`, `2025-02-30T`},
		{"time hour 24", `T15:00:01`, `T24:00:01`},
		{"time leap second", `T15:00:01`, `T15:00:60`},
		{"short escape", `"reason":""`, `"reason":"a\nb"`},
		{"solidus escape", `"reason":""`, `"reason":"a\/b"`},
		{"uppercase unicode escape", `"reason":""`, `"reason":"\u001B"`},
		{"needless unicode escape", `"reason":""`, `"reason":"\u0041"`},
		{"escaped quote as unicode", `"reason":""`, `"reason":"\u0022"`},
		{"surrogate pair escape", `"reason":""`, `"reason":"\ud83d\ude00"`},
		{"truncated escape", `"reason":""`, `"reason":"\u00"`},
		{"raw tab", `"reason":""`, "\"reason\":\"a\tb\""},
		{"raw DEL", `"reason":""`, "\"reason\":\"\x7f\""},
		{"raw C1 control", `"reason":""`, "\"reason\":\"\u0085\""},
		{"raw right-to-left override", `"reason":""`, "\"reason\":\"\u202e\""},
		{"raw zero width space", `"reason":""`, "\"reason\":\"\u200b\""},
		{"invalid UTF-8", `"reason":""`, "\"reason\":\"\xff\""},
		{"overlong UTF-8", `"reason":""`, "\"reason\":\"\xc0\xaf\""},
		{"UTF-8 surrogate", `"reason":""`, "\"reason\":\"\xed\xa0\x80\""},
		{"mac not a string", `"pid":4243,"mac":"`, `"pid":4243,"mac":`},
		{"event uppercase", `"event":"exec"`, `"event":"EXEC"`},
		{"event empty", `"event":"exec"`, `"event":""`},
		{"event with space", `"event":"exec"`, `"event":"ex ec"`},
		{"decision unknown", `"decision":"allow"`, `"decision":"maybe"`},
		{"secrets with space", `"secrets":["OPENAI_API_KEY",`, `"secrets":[ "OPENAI_API_KEY",`},
		{"secrets trailing comma", `"STRIPE_KEY"]`, `"STRIPE_KEY",]`},
		{"secrets empty name", `"STRIPE_KEY"]`, `"STRIPE_KEY",""]`},
		{"secrets not strings", `["OPENAI_API_KEY","STRIPE_KEY"]`, `[1]`},
		{"mac uppercase hex", `"mac":"20c1`, `"mac":"20C1`},
		{"mac short", `"mac":"20c1`, `"mac":"20c`},
		{"mac long", `"}`, `0"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			edited := strings.Replace(base, c.old, c.new, 1)
			if edited == base {
				t.Fatalf("edit %q → %q did not change the line", c.old, c.new)
			}
			if _, err := parseLine([]byte(edited)); err == nil {
				t.Fatalf("accepted %q", edited)
			}
		})
	}
}

func TestParseLineRejectsEveryPrefix(t *testing.T) {
	for _, line := range splitLines(t, goldenBytes(t)) {
		for n := range len(line) {
			if _, err := parseLine(line[:n]); err == nil {
				t.Fatalf("accepted the first %d bytes of %s", n, line)
			}
		}
	}
}

func TestParseLineRejectsOverlongLine(t *testing.T) {
	line := strings.Replace(string(splitLines(t, goldenBytes(t))[0]),
		`"reason":""`, `"reason":"`+strings.Repeat("a", maxLineBytes)+`"`, 1)
	_, err := parseLine([]byte(line))
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("err = %v, want a length error", err)
	}
}

// user is written after agent exactly when it is set; a line with an
// empty user member is not canonical, and lines without it (every line
// written before it existed) stay valid.
func TestUserMember(t *testing.T) {
	r := sampleRecord(1)
	r.User = "dev <dev@acme.example>"
	log := buildLog(t, 2, func(i int) Record {
		if i == 0 {
			return sampleRecord(0)
		}
		return r
	})
	lines := splitLines(t, log)
	if bytes.Contains(lines[0], []byte(`"user"`)) {
		t.Fatalf("a line without a user holds the member: %s", lines[0])
	}
	if !bytes.Contains(lines[1], []byte(`"agent":"claude-code","user":"dev <dev@acme.example>","repo":`)) {
		t.Fatalf("user is not right after agent: %s", lines[1])
	}
	pl, err := parseLine(lines[1])
	if err != nil || pl.User != r.User {
		t.Fatalf("parseLine = %+v, %v", pl.Entry, err)
	}
	empty := bytes.Replace(lines[0], []byte(`"agent":"claude-code",`), []byte(`"agent":"claude-code","user":"",`), 1)
	if _, err := parseLine(empty); err == nil {
		t.Fatal("an empty user member was accepted")
	}
	misplaced := bytes.Replace(lines[1], []byte(`"agent":"claude-code","user":"dev <dev@acme.example>",`), []byte(`"user":"dev <dev@acme.example>","agent":"claude-code",`), 1)
	if _, err := parseLine(misplaced); err == nil {
		t.Fatal("a user member before agent was accepted")
	}
}

// store, the shared store a decision was about, is written after branch
// exactly when it is set, like user.
func TestStoreMember(t *testing.T) {
	r := sampleRecord(1)
	r.Store = "/repo/team-secrets"
	log := buildLog(t, 2, func(i int) Record {
		if i == 0 {
			return sampleRecord(0)
		}
		return r
	})
	lines := splitLines(t, log)
	if bytes.Contains(lines[0], []byte(`"store"`)) {
		t.Fatalf("a line without a store holds the member: %s", lines[0])
	}
	if !bytes.Contains(lines[1], []byte(`,"store":"/repo/team-secrets","cwd":`)) {
		t.Fatalf("store is not right before cwd: %s", lines[1])
	}
	pl, err := parseLine(lines[1])
	if err != nil || pl.Store != r.Store {
		t.Fatalf("parseLine = %+v, %v", pl.Entry, err)
	}
	empty := bytes.Replace(lines[0], []byte(`,"cwd":`), []byte(`,"store":"","cwd":`), 1)
	if _, err := parseLine(empty); err == nil {
		t.Fatal("an empty store member was accepted")
	}
}
