package gitctx

import "strings"

// NormalizeRepo turns a git remote URL into the form policy rules name a
// repository by: "host/path", the host lower-cased and without a port, no
// user name or password, no query or fragment, no leading or trailing "/"
// and no ".git" suffix. These all give "github.com/Org/Repo":
//
//	git@github.com:Org/Repo.git
//	ssh://git@github.com:22/Org/Repo
//	https://user:token@GitHub.com/Org/Repo.git/
//	github.com/Org/Repo
//
// The path keeps its case (hosts differ on whether it matters) and its
// percent-escapes (decoding would not be idempotent: %2541 → %41 → A).
// The port is dropped because one repository is commonly reached on
// different ports over ssh and https.
//
// NormalizeRepo returns "" for anything it cannot read with certainty: a
// local path or file:// URL (no host), a scheme other than ssh, git+ssh,
// ssh+git, git, http and https, a host other than letters, digits, '.', '-'
// and '_', an empty, "." or ".." path segment, or a path byte outside
// RFC 3986's unreserved and sub-delimiter characters and '%'. In particular
// the result never contains '@' or ':', so no part of a credential survives
// even in a malformed URL. Host aliases from ~/.ssh/config are not resolved.
//
// The result is a fixed point: NormalizeRepo(NormalizeRepo(u)) ==
// NormalizeRepo(u).
func NormalizeRepo(url string) string {
	var host, path string
	if scheme, rest, ok := strings.Cut(url, "://"); ok {
		switch strings.ToLower(scheme) {
		case "ssh", "git+ssh", "ssh+git", "git", "http", "https":
		default:
			return ""
		}
		authority, p, _ := strings.Cut(rest, "/")
		// A '?', '#' or backslash before the first '/' ends the authority for
		// URL parsers (curl would fetch from the host before it), so an
		// authority holding one is ambiguous: refuse it.
		if strings.ContainsAny(authority, "?#\\") {
			return ""
		}
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		// Only the last '@' ends the user info: a password may hold '@'.
		if i := strings.LastIndexByte(authority, '@'); i >= 0 {
			authority = authority[i+1:]
		}
		if h, port, ok := strings.Cut(authority, ":"); ok {
			if strings.Trim(port, "0123456789") != "" {
				return ""
			}
			authority = h
		}
		host, path = authority, p
	} else if i := strings.IndexByte(url, ':'); i >= 0 && !strings.Contains(url[:i], "/") {
		// scp-like [user@]host:path, recognised as git does: a ':' before
		// any '/'.
		host, path = url[:i], url[i+1:]
		if j := strings.LastIndexByte(host, '@'); j >= 0 {
			host = host[j+1:]
		}
	} else {
		// Already canonical, or a local path whose empty or dotted first
		// element fails the host check below.
		host, path, _ = strings.Cut(url, "/")
	}
	host = strings.ToLower(host)
	if !validHost(host) {
		return ""
	}
	for {
		trimmed := strings.TrimSuffix(strings.TrimRight(path, "/"), ".git")
		if trimmed == path {
			break
		}
		path = trimmed
	}
	path = strings.TrimLeft(path, "/")
	if path == "" {
		return ""
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" || seg == "." || seg == ".." || !validSegment(seg) {
			return ""
		}
	}
	return host + "/" + path
}

// validHost accepts a DNS name or an ssh host alias; the first byte is
// alphanumeric so that a host can never read as an ssh option.
func validHost(h string) bool {
	if h == "" || !isLowerAlnum(h[0]) {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !isLowerAlnum(c) && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func validSegment(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !('0' <= c && c <= '9') && strings.IndexByte("-._~!$&'()*+,;=%", c) < 0 {
			return false
		}
	}
	return true
}
