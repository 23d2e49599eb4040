package policy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPolicyDocExamples keeps docs/POLICY.md honest: every ```yaml block
// followed by a ```text block starting "# decisions" is loaded as a policy,
// and every decision line ("KEY field=value … -> allow|deny") must hold.
func TestPolicyDocExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "POLICY.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("```yaml\n([^`]*)```\\s*```text\n# decisions\n([^`]*)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 3 {
		t.Fatalf("found %d tested examples in POLICY.md, want at least 3", len(blocks))
	}
	checked := 0
	for i, b := range blocks {
		path := filepath.Join(t.TempDir(), "policy.yaml")
		must(t, os.WriteFile(path, b[1], 0o600))
		set, err := Load(path)
		if err != nil {
			t.Fatalf("example %d does not load: %v", i+1, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b[2])), "\n") {
			lhs, want, ok := strings.Cut(line, " -> ")
			fields := strings.Fields(lhs)
			if !ok || len(fields) == 0 || (want != "allow" && want != "deny") {
				t.Fatalf("example %d: bad decision line %q", i+1, line)
			}
			var subj Subject
			for _, kv := range fields[1:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "repo":
					subj.Repo = v
				case "branch":
					subj.Branch = v
				case "user":
					subj.User = v
				case "email":
					subj.Email = v
				case "agent":
					subj.Agents = strings.Split(v, ",")
				case "cmd":
					// The examples name system programs, those a
					// pattern without '/' can allow.
					subj.Cmd, subj.SystemProgram = v, true
				default:
					t.Fatalf("example %d: unknown field %q", i+1, k)
				}
			}
			d := set.Decide(fields[0], subj)
			if d.Allowed != (want == "allow") {
				t.Errorf("POLICY.md example %d: %s: got allowed=%v (%s)", i+1, line, d.Allowed, d.Reason)
			}
			checked++
		}
	}
	t.Logf("%d decisions checked in %d examples", checked, len(blocks))
}

// TestPolicyDocRefusals: every ```yaml block followed by a ```text block
// starting "# error" is refused when loaded, with that error after the file
// name.
func TestPolicyDocRefusals(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "POLICY.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("```yaml\n([^`]*)```\\s*```text\n# error\n([^`]*?)\n```").FindAllSubmatch(doc, -1)
	if len(blocks) == 0 {
		t.Fatal("found no refused example in POLICY.md")
	}
	for i, b := range blocks {
		path := filepath.Join(t.TempDir(), "policy.yaml")
		must(t, os.WriteFile(path, b[1], 0o600))
		_, err := Load(path)
		want := strings.TrimPrefix(string(b[2]), "policy.yaml")
		if err == nil || !strings.Contains(err.Error(), path+want) {
			t.Errorf("POLICY.md refused example %d: got %v, want %q", i+1, err, want)
		}
	}
}
