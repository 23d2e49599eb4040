package policy

import (
	"path/filepath"
	"testing"
)

func BenchmarkLoad(b *testing.B) {
	p, err := filepath.Abs(filepath.Join("testdata", "good", "full.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Load(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecide is the worst ordinary case: two files, every rule
// evaluated, globs on every field.
func BenchmarkDecide(b *testing.B) {
	p, err := filepath.Abs(filepath.Join("testdata", "good", "full.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := Load(p, p)
	if err != nil {
		b.Fatal(err)
	}
	subj := Subject{Repo: "github.com/acme/web-app", Branch: "feature/x", Email: "dev@acme.com", Agents: []string{"claude-code"}, Cmd: "/usr/local/bin/stripe"}
	for b.Loop() {
		if d := s.Decide("STRIPE_KEY", subj); !d.Allowed {
			b.Fatal(d.Reason)
		}
	}
}
