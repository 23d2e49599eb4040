package broker

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// The in-process cost of one access, stage by stage. BenchmarkDecide minus
// BenchmarkAuthorize is the audit write (with fsync); BenchmarkExec is the
// whole `llms exec -i X=A -- true` after process start.

// benchCaller is a fresh caller (its per-request caches empty) without the
// cost of new temporary directories on every iteration.
func benchCaller(tmpl *Caller, token string) *Caller {
	return &Caller{Token: token, TokenGiven: token != "", Cwd: tmpl.Cwd, LookupEnv: tmpl.LookupEnv, ProcRoot: tmpl.ProcRoot, UserDB: tmpl.UserDB}
}

func benchAccess(tmpl *Caller, token string) access {
	return access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: benchCaller(tmpl, token)}
}

func BenchmarkAuthorize(b *testing.B) {
	br, _ := testBroker(b)
	tmpl := caller(b, nil, "")
	for b.Loop() {
		a := benchAccess(tmpl, "")
		if _, err := br.authorize(a); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	br, _ := testBroker(b)
	tmpl := caller(b, nil, "")
	for b.Loop() {
		a := benchAccess(tmpl, "")
		if _, err := br.decide(a); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecideWithToken(b *testing.B) {
	br, _ := testBroker(b)
	minted, err := br.Mint(caller(b, nil, ""), Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}, "op": {"exec"}}})
	tok := minted.Token
	if err != nil {
		b.Fatal(err)
	}
	tmpl := caller(b, nil, "")
	for b.Loop() {
		a := benchAccess(tmpl, tok)
		if _, err := br.decide(a); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExec(b *testing.B) {
	br, _ := testBroker(b)
	devnull, err := os.Open(os.DevNull)
	must(b, err)
	defer devnull.Close()
	tmpl := caller(b, nil, "")
	for b.Loop() {
		req := ExecRequest{Inject: []Injection{{"X", "A"}}, Argv: []string{"true"},
			Stdin: devnull, Stdout: devnull, Stderr: devnull}
		if code, err := br.Exec(context.Background(), benchCaller(tmpl, ""), req); err != nil || code != 0 {
			b.Fatal(code, err)
		}
	}
}

// BenchmarkImport10000 is `llms import` of a 10,000-entry .env after the
// file is parsed: the audit lines, the batch written to a store that holds
// the entries already (each one replaced), and the requests checked.
func BenchmarkImport10000(b *testing.B) {
	br, _ := testBroker(b)
	human := caller(b, nil, "")
	reqs := make([]SetRequest, 10000)
	for i := range reqs {
		reqs[i] = SetRequest{Name: fmt.Sprintf("SECRET_%05d", i), Value: fmt.Appendf(nil, "value-%05d-0123456789abcdef0123456789", i)}
	}
	for b.Loop() {
		if _, err := br.Import(human, reqs); err != nil {
			b.Fatal(err)
		}
	}
}
