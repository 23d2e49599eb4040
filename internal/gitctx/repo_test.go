package gitctx

import (
	"strings"
	"testing"
)

var normalizeRepoTests = []struct{ in, want string }{
	// One repository, every spelling.
	{"git@github.com:Org/Repo.git", "github.com/Org/Repo"},
	{"github.com:Org/Repo", "github.com/Org/Repo"},
	{"git@github.com:/Org/Repo.git", "github.com/Org/Repo"},
	{"ssh://git@github.com/Org/Repo", "github.com/Org/Repo"},
	{"ssh://git@github.com:22/Org/Repo.git", "github.com/Org/Repo"},
	{"SSH://git@GitHub.COM/Org/Repo", "github.com/Org/Repo"},
	{"git+ssh://git@github.com/Org/Repo.git", "github.com/Org/Repo"},
	{"ssh+git://github.com/Org/Repo", "github.com/Org/Repo"},
	{"git://github.com/Org/Repo.git", "github.com/Org/Repo"},
	{"https://github.com/Org/Repo.git", "github.com/Org/Repo"},
	{"https://github.com/Org/Repo/", "github.com/Org/Repo"},
	{"https://github.com/Org/Repo.git/", "github.com/Org/Repo"},
	{"https://github.com/Org/Repo.git.git//", "github.com/Org/Repo"},
	{"http://github.com:80/Org/Repo", "github.com/Org/Repo"},
	{"https://github.com:/Org/Repo", "github.com/Org/Repo"},
	{"https://GITHUB.com/Org/Repo", "github.com/Org/Repo"},
	{"github.com/Org/Repo", "github.com/Org/Repo"},
	{"GitHub.com/Org/Repo.git", "github.com/Org/Repo"},

	// Credentials never survive.
	{"https://user:tok@github.com/Org/Repo", "github.com/Org/Repo"},
	{"https://x-access-token:ghp_abc@github.com/Org/Repo.git", "github.com/Org/Repo"},
	{"https://user:p@ss@github.com/Org/Repo", "github.com/Org/Repo"},
	{"https://tok@github.com/Org/Repo", "github.com/Org/Repo"},
	{"https://github.com/Org/Repo?access_token=tok", "github.com/Org/Repo"},
	{"https://github.com/Org/Repo.git#tok", "github.com/Org/Repo"},
	{"https://user:to/ken@github.com/Org/Repo", ""},
	{"https://to/ken@github.com/Org/Repo", ""},
	{"user:tok@github.com:Org/Repo", ""},
	{"https://user:tok@github.com/Org/Repo@x", ""},

	// Other hosts and deeper paths.
	{"git@gitlab.com:group/sub/project.git", "gitlab.com/group/sub/project"},
	{"https://dev.azure.com/org/proj/_git/repo", "dev.azure.com/org/proj/_git/repo"},
	{"ssh://git@bitbucket.example:7999/proj/repo.git", "bitbucket.example/proj/repo"},
	{"git@github-work:Org/Repo.git", "github-work/Org/Repo"},
	{"ssh://host/~user/repo", "host/~user/repo"},
	{"https://host/org/my%20repo", "host/org/my%20repo"},
	{"https://host/org/.git", "host/org"},

	// No host, or not readable with certainty.
	{"", ""},
	{"/srv/git/repo.git", ""},
	{"file:///srv/git/repo.git", ""},
	{"./repo", ""},
	{"../repo", ""},
	{"repo", ""},
	{"https://github.com", ""},
	{"https://github.com/", ""},
	{"https://github.com/.git", ""},
	{"ftp://host/org/repo", ""},
	{"codecommit::us-east-1://repo", ""},
	{"https://github.com:http/Org/Repo", ""},
	{"https://[::1]/org/repo", ""},
	{"https://-oProxyCommand=x/org/repo", ""},
	{"-oProxyCommand=x:org/repo", ""},
	{"https://github.com/Org/../Repo", ""},
	{"https://github.com/Org/./Repo", ""},
	{"https://github.com/Org//Repo", ""},
	{"https://github.com/Org/Re po", ""},
	{"https://github.com/Org/Re\npo", ""},
	{"https://github.com/Org/Répo", ""},
	{"https://git hub.com/Org/Repo", ""},
	{"C:\\repos\\x", ""},
}

func TestNormalizeRepo(t *testing.T) {
	for _, tc := range normalizeRepoTests {
		if got := NormalizeRepo(tc.in); got != tc.want {
			t.Errorf("NormalizeRepo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzNormalizeRepo(f *testing.F) {
	for _, tc := range normalizeRepoTests {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, url string) {
		got := NormalizeRepo(url)
		if again := NormalizeRepo(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", url, got, again)
		}
		if strings.ContainsAny(got, "@:?#") {
			t.Fatalf("NormalizeRepo(%q) = %q keeps user info, port, query or fragment", url, got)
		}
		if got != "" && !strings.Contains(got, "/") {
			t.Fatalf("NormalizeRepo(%q) = %q has no path", url, got)
		}
	})
}

// TestNormalizeRepoAmbiguousAuthority: an authority that URL parsers and
// git would read differently is refused, not guessed.
func TestNormalizeRepoAmbiguousAuthority(t *testing.T) {
	for _, u := range []string{"https://github.com#@evil.com/org/repo", "https://github.com?@evil.com/org/repo", "https://github.com\\@evil.com/org/repo"} {
		if got := NormalizeRepo(u); got != "" {
			t.Errorf("NormalizeRepo(%q) = %q, want \"\"", u, got)
		}
	}
}
