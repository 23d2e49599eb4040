package caveat

import "testing"

// benchToken is a typical delegated token: a handful of caveats, as the
// broker evaluates them on every request.
var benchToken = [][]byte{
	[]byte("secret=API_KEY,DB_URL,STRIPE_KEY"),
	[]byte("expires_at=2030-06-01T13:00:00Z"),
	[]byte("repo=github.com/acme/*"),
	[]byte("branch=feature/**,main"),
	[]byte("agent=claude,codex"),
	[]byte("who=*@acme.com"),
	[]byte("cmd=/usr/bin/terraform,make,npm"),
	[]byte("op=exec,list"),
}

func BenchmarkParseAll(b *testing.B) {
	for b.Loop() {
		if _, err := ParseAll(benchToken); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetCheck(b *testing.B) {
	s, err := ParseAll(benchToken)
	if err != nil {
		b.Fatal(err)
	}
	ctx := base()
	ctx.Branch = "feature/a/b"
	for b.Loop() {
		if err := s.Check(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// A long value against a many-star pattern: the matcher stays linear in
// each of them.
func BenchmarkGlobMatchLong(b *testing.B) {
	pattern := "**/a*b*c*d*e*f"
	value := "x/" + string(make([]byte, 1024)) + "abcdef"
	for b.Loop() {
		globMatch(pattern, value)
	}
}
