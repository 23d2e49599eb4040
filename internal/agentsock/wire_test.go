package agentsock

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestWireEncoding pins the encoding of every frame docs/AGENT-MODE.md
// documents, each field set: renaming a field, a JSON tag or a type the
// protocol holds fails here instead of silently changing the protocol.
// Each body also decodes strictly back to the same value.
func TestWireEncoding(t *testing.T) {
	when := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	exit := 3
	for _, c := range []struct {
		name string
		v    any
		body string
	}{
		{"exec", &Request{Op: OpExec, Token: "llms_m2_x", TokenGiven: true, Cwd: "/src/app",
			Exec: &ExecArgs{Inject: []Injection{{Var: "PGPASSWORD", Secret: "DB_PASSWORD"}}, Argv: []string{"psql"},
				Env: []string{"PATH=/bin"}, PTY: true, NoRedact: true, Dir: "/src/app/sub"}},
			`{"op":"exec","token":"llms_m2_x","token_given":true,"cwd":"/src/app","exec":{"inject":[{"var":"PGPASSWORD","secret":"DB_PASSWORD"}],"argv":["psql"],"env":["PATH=/bin"],"pty":true,"no_redact":true,"dir":"/src/app/sub"}}`},
		{"peek", &Request{Op: OpPeek, Cwd: "/a", Peek: &PeekArgs{Name: "K"}},
			`{"op":"peek","cwd":"/a","peek":{"name":"K"}}`},
		{"list", &Request{Op: OpList, Cwd: "/a", List: &ListArgs{Times: true}},
			`{"op":"list","cwd":"/a","list":{"times":true}}`},
		{"describe", &Request{Op: OpDescribe, Cwd: "/a", Via: ViaMCP, Describe: &DescribeArgs{}},
			`{"op":"describe","cwd":"/a","via":"mcp","describe":{}}`},
		{"audit", &Request{Op: OpAudit, Cwd: "/a", Via: ViaMCP, Audit: &AuditArgs{Limit: 20}},
			`{"op":"audit","cwd":"/a","via":"mcp","audit":{"limit":20}}`},
		{"ask", &Request{Op: OpAsk, Cwd: "/a", Via: ViaMCP, Ask: &AskArgs{Name: "NEW_KEY", Reason: "deploy"}},
			`{"op":"ask","cwd":"/a","via":"mcp","ask":{"name":"NEW_KEY","reason":"deploy"}}`},
		{"control", &Control{Signal: 2}, `{"signal":2}`},
		{"warn", &Reply{Warn: "short"}, `{"warn":"short"}`},
		{"in_your_group", &Reply{InYourGroup: true}, `{"in_your_group":true}`},
		{"exit", &Reply{Exit: &exit}, `{"exit":3}`},
		{"error", &Reply{Error: &Error{Kind: KindDenied, Message: "access denied: no"}},
			`{"error":{"kind":"denied","message":"access denied: no"}}`},
		{"peek reply", &Reply{Peek: &PeekReply{Name: "K", Prefix: "s3cr", Length: 24, Fingerprint: "3f9a0c1b"}},
			`{"peek":{"name":"K","prefix":"s3cr","length":24,"fingerprint":"3f9a0c1b"}}`},
		{"list reply", &Reply{List: &[]Entry{{Name: "K", Updated: when}, {Name: "L"}}},
			`{"list":[{"name":"K","updated":"2026-11-30T07:00:00Z"},{"name":"L"}]}`},
		{"describe reply", &Reply{Describe: &DescribeReply{TokenID: "t1", Scope: map[string][]string{"secret": {"K"}},
			Caveats: []CaveatReply{{Kind: "secret", Items: []string{"K"}}}, Expires: when, TimeLeft: 299 * time.Second}},
			`{"describe":{"token_id":"t1","scope":{"secret":["K"]},"caveats":[{"kind":"secret","items":["K"]}],"expires":"2026-11-30T07:00:00Z","time_left_ns":299000000000}}`},
		{"audit reply", &Reply{Audit: &[]AuditReply{{Time: when, Event: "mcp", Decision: "allow", Reason: "r", Secrets: []string{"K"},
			TokenID: "t1", Op: "exec", Program: "/bin/true", Agent: "claude-code", User: "me", Repo: "github.com/a/b", Branch: "main",
			Cwd: "/a", PID: 42, Seq: 7, MAC: "ab"}}},
			`{"audit":[{"time":"2026-11-30T07:00:00Z","event":"mcp","decision":"allow","reason":"r","secrets":["K"],"token":"t1","op":"exec","program":"/bin/true","agent":"claude-code","user":"me","repo":"github.com/a/b","branch":"main","cwd":"/a","pid":42,"seq":7,"mac":"ab"}]}`},
		{"ask reply", &Reply{Ask: &AskReply{Name: "NEW_KEY", Reason: "deploy", Agent: "claude-code", TokenID: "t1",
			Repo: "github.com/a/b", Branch: "main", Created: when}},
			`{"ask":{"name":"NEW_KEY","reason":"deploy","agent":"claude-code","token":"t1","repo":"github.com/a/b","branch":"main","created":"2026-11-30T07:00:00Z"}}`},
	} {
		frame, err := encode(c.v)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if frame[0] != 1 || binary.BigEndian.Uint32(frame[1:headerLen]) != uint32(len(frame)-headerLen) {
			t.Errorf("%s: header % x", c.name, frame[:headerLen])
		}
		if got := string(frame[headerLen:]); got != c.body {
			t.Errorf("%s: encoded as\n%s\nwant\n%s", c.name, got, c.body)
		}
		back := reflect.New(reflect.TypeOf(c.v).Elem()).Interface()
		dec := json.NewDecoder(bytes.NewReader([]byte(c.body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(back); err != nil {
			t.Errorf("%s: decoding the pinned body: %v", c.name, err)
		} else if !reflect.DeepEqual(back, c.v) {
			t.Errorf("%s: decoded as %+v, want %+v", c.name, back, c.v)
		}
	}
}
