package main

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/llm-secrets/llms/internal/testca"
)

// goClientName is the test binary as a Go net/http client: GET argv[1]
// with "Authorization: Bearer $API_KEY", print the status and body. Go
// never proxies a loopback address (its ProxyFromEnvironment skips them),
// so it takes the proxy from HTTPS_PROXY itself; the CA comes from
// SSL_CERT_FILE, as for any Go program.
const goClientName = "llms-test-goclient"

func goClient() int {
	proxy, err := url.Parse(os.Getenv("HTTPS_PROXY"))
	if err != nil {
		fmt.Println(err)
		return 1
	}
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
	req, _ := http.NewRequest("GET", os.Args[1], nil)
	req.Header.Set("Authorization", "Bearer "+os.Getenv("API_KEY"))
	resp, err := c.Do(req)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %s", resp.StatusCode, body)
	return 0
}

// proxyServers are the HTTPS servers of a proxy test, with their test CA.
type proxyServers struct {
	caFile      string
	api, other  *recorder
	apiURL      string
	otherURL    string // HTTPS on 127.0.0.2
	plain       *recorder
	plainURL    string // plain HTTP on 127.0.0.2
	apiHostPort string
}

// recorder is a test server that records the Authorization header (or
// X-Auth, git's extra header) and the body of each request, as
// "HEADER|BODY", and echoes them. At /redirect it answers 302 to redirect,
// with what it saw in the query.
type recorder struct {
	mu       sync.Mutex
	auth     []string
	redirect string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	a := req.Header.Get("Authorization")
	if a == "" {
		a = req.Header.Get("X-Auth")
	}
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	r.mu.Lock()
	r.auth = append(r.auth, a+"|"+string(body))
	r.mu.Unlock()
	if r.redirect != "" && req.URL.Path == "/redirect" {
		w.Header().Set("Location", r.redirect+"?got="+url.QueryEscape(a))
		w.WriteHeader(http.StatusFound)
		return
	}
	io.WriteString(w, "server saw: "+a+"\n")
	if len(body) > 0 {
		io.WriteString(w, "body: "+string(body)+"\n")
	}
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auth...)
}

func newProxyServers(t *testing.T) *proxyServers {
	t.Helper()
	ca := testca.New(t, "llms test CA")
	leaf := ca.Leaf(t, "127.0.0.1", "127.0.0.2")
	ps := &proxyServers{caFile: filepath.Join(t.TempDir(), "test-ca.pem"), api: &recorder{}, other: &recorder{}, plain: &recorder{}}
	os.WriteFile(ps.caFile, ca.PEM, 0o600)
	start := func(ip string, h http.Handler, useTLS bool) string {
		ln, err := net.Listen("tcp", ip+":0")
		if err != nil {
			t.Skipf("cannot listen on %s: %v", ip, err)
		}
		srv := httptest.NewUnstartedServer(h)
		srv.Listener.Close()
		srv.Listener = ln
		if useTLS {
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
			srv.StartTLS()
		} else {
			srv.Start()
		}
		t.Cleanup(srv.Close)
		return ln.Addr().String()
	}
	ps.apiHostPort = start("127.0.0.1", ps.api, true)
	ps.apiURL = "https://" + ps.apiHostPort + "/v1/me"
	ps.otherURL = "https://" + start("127.0.0.2", ps.other, true) + "/v1/me"
	ps.plainURL = "http://" + start("127.0.0.2", ps.plain, false) + "/v1/me"
	ps.api.redirect = strings.TrimSuffix(ps.plainURL, "/v1/me") + "/next"
	return ps
}

// httpClients are the real clients, each a shell command that GETs "$1"
// with "Authorization: Bearer $API_KEY" and prints what it got.
var httpClients = []struct{ name, need, script string }{
	{"curl", "curl", `curl -sS -H "Authorization: Bearer $API_KEY" "$1"; echo " curl-exit=$?"`},
	{"python-urllib", "python3", `python3 -c '
import os, sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + os.environ["API_KEY"]})
try:
    print(urllib.request.urlopen(req, timeout=10).read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
' "$1"`},
	{"node-fetch", "node", `node -e '
fetch(process.argv[1], {headers: {Authorization: "Bearer " + process.env.API_KEY}})
  .then(async r => console.log(r.status, await r.text()))
  .catch(e => console.log("error", e.cause ? e.cause.code : e.message))
' "$1"`},
	{"git", "git", `git -c http.extraHeader="X-Auth: Bearer $API_KEY" ls-remote "${1%/v1/me}/repo.git" 2>&1; echo "git-exit=$?"`},
	{"go-net-http", "", goClientName + ` "$1"`},
}

// nodeUsesEnvProxy: Node honours HTTPS_PROXY for fetch with
// NODE_USE_ENV_PROXY=1 from 22.21 and 24.5; an older one ignores it.
func nodeUsesEnvProxy(t *testing.T) bool {
	out, err := exec.Command("node", "-p", "process.versions.node").Output()
	if err != nil {
		return false
	}
	var major, minor int
	fmt.Sscanf(strings.TrimSpace(string(out)), "%d.%d", &major, &minor)
	return major > 24 || major == 24 && minor >= 5 || major == 22 && minor >= 21
}

// TestExecHTTPRealClients: `llms exec --http API_KEY=K@127.0.0.1:PORT`
// with curl, Python's urllib, Node's fetch, git and Go's net/http. The
// bound server receives the value; the client holds and prints only the
// placeholder and the redacted echo. Sent to 127.0.0.2 the placeholder
// stays a placeholder: over HTTPS it goes through a tunnel the proxy does
// not open, and arrives as it is; over plain HTTP the proxy sees it and
// refuses the request, which never arrives.
func TestExecHTTPRealClients(t *testing.T) {
	t.Parallel()
	ps := newProxyServers(t)
	bin := llmsBin(t)
	if err := os.Symlink(bin, filepath.Join(filepath.Dir(bin), goClientName)); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	env := append(llmsEnv(filepath.Join(root, "store")), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"),
		// The store's llms trusts the test CA as a system root, and so
		// does the bundle the child gets.
		"SSL_CERT_FILE="+ps.caFile)
	canary := "cnry-" + randomHex(16)
	if _, errs, code := run(t, bin, env, "", "init"); code != 0 {
		t.Fatal(errs)
	}
	if _, errs, code := run(t, bin, env, canary, "set", "--stdin", "K"); code != 0 {
		t.Fatal(errs)
	}
	nodeProxied := nodeUsesEnvProxy(t)
	for _, c := range httpClients {
		t.Run(c.name, func(t *testing.T) {
			if c.need != "" {
				if _, err := exec.LookPath(c.need); err != nil {
					// .ci/run installs every client: in CI a missing one fails.
					if os.Getenv("CI") != "" {
						t.Fatalf("%s is not installed", c.need)
					}
					t.Skipf("%s is not installed", c.need)
				}
			}
			targets := []struct {
				url   string
				srv   *recorder
				bound bool
			}{{ps.apiURL, ps.api, true}, {ps.otherURL, ps.other, false}, {ps.plainURL, ps.plain, false}}
			if c.name != "curl" && c.name != "go-net-http" {
				targets = targets[:1] // what the proxy does with the others does not depend on the client
			}
			for _, to := range targets {
				before := len(to.srv.seen())
				out, errs, code := run(t, bin, env, "", "exec", "--http", "API_KEY=K@"+ps.apiHostPort,
					"--", "sh", "-c", c.script, "sh", to.url)
				t.Logf("%s → %s: exit %d: %s%s", c.name, to.url, code, out, errs)
				assertNoCanary(t, out+errs, canary)
				got := to.srv.seen()[before:]
				switch {
				case c.name == "node-fetch" && !nodeProxied:
					// This Node ignores the proxy variables: it reaches
					// the server itself, with the placeholder only.
					for _, a := range got {
						if strings.Contains(a, canary) || !strings.Contains(a, "llms-placeholder-K-") {
							t.Errorf("node without the proxy: the server saw %q", a)
						}
					}
				case to.bound:
					if len(got) == 0 || !strings.Contains(got[len(got)-1], "Bearer "+canary) {
						t.Errorf("the bound server saw %q, want the value", got)
					}
					if c.name != "git" && !strings.Contains(out, "server saw: Bearer [REDACTED:K]") {
						t.Errorf("the client did not see the redacted echo: %q", out)
					}
				case to.srv == ps.other:
					for _, a := range got {
						if !strings.Contains(a, "llms-placeholder-K-") {
							t.Errorf("through the tunnel the server saw %q, want the placeholder", a)
						}
					}
				default:
					if len(got) != 0 {
						t.Errorf("the plain server received %q", got)
					}
					if !strings.Contains(out+errs, "403") && !strings.Contains(out, "placeholder-host") {
						t.Errorf("no refusal shown: %q", out)
					}
				}
			}
		})
	}
	// The audit records the binding and the refusals, and never the value.
	out, errs, _ := run(t, bin, env, "", "audit", "-n", "200")
	if !strings.Contains(out, "http-bind") || !strings.Contains(out, "http-refused") {
		t.Errorf("audit lacks the proxy's lines:\n%s", out)
	}
	assertNoCanary(t, out+errs, canary)
	data, _ := os.ReadFile(filepath.Join(root, "store", "audit.jsonl"))
	assertNoCanary(t, string(data), canary)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func assertNoCanary(t *testing.T, s, canary string) {
	t.Helper()
	for _, f := range []string{canary, base64.StdEncoding.EncodeToString([]byte(canary)),
		base64.RawURLEncoding.EncodeToString([]byte(canary)), hex.EncodeToString([]byte(canary))} {
		if strings.Contains(s, f) {
			t.Errorf("the output holds a form of the value: %q", s)
			return
		}
	}
}
