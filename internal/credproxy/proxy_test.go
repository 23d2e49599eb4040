package credproxy

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// bound is the common case: a value bound to an HTTPS server on 127.0.0.1
// and another HTTPS server on 127.0.0.2 it is not bound to.
type boundRig struct {
	*rig
	api, other *upstream
	b          Binding
	c          canary
}

func newBoundRig(t *testing.T, body bool) *boundRig {
	ca := newTestCA(t)
	api := newUpstream(t, "127.0.0.1", true, ca, nil)
	other := newUpstream(t, "127.0.0.2", true, ca, nil)
	c := newCanary()
	b := binding("API_KEY", api, c)
	b.Body = body
	return &boundRig{rig: newRig(t, ca, Config{Bindings: []Binding{b}}), api: api, other: other, b: b, c: c}
}

// outputs fails the test if the value is in anything the client or the
// audit saw.
func (r *boundRig) clean(t *testing.T, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		absent(t, "client output", o, r.c)
	}
	for _, ref := range r.refusals() {
		absent(t, "audit", fmt.Sprintf("%+v", ref), r.c)
	}
}

func TestHeaderSubstitution(t *testing.T) {
	r := newBoundRig(t, false)
	cases := []struct{ name, header, value, want string }{
		{"bearer", "Authorization", "Bearer " + r.b.Placeholder, "Bearer " + r.c.value},
		{"custom", "X-Api-Key", r.b.Placeholder, r.c.value},
		{"inside", "X-Token", "v1:" + r.b.Placeholder + ";x", "v1:" + r.c.value + ";x"},
	}
	for _, tc := range cases {
		status, hdr, body := r.get("https://"+r.api.target()+"/v1", tc.header, tc.value)
		if status != 200 {
			t.Fatalf("%s: status %d: %s", tc.name, status, body)
		}
		got := r.api.requests()
		if h := got[len(got)-1].Header.Get(tc.header); h != tc.want {
			t.Errorf("%s: the server received %q, want %q", tc.name, h, tc.want)
		}
		if !strings.Contains(body, "[REDACTED:API_KEY]") {
			t.Errorf("%s: the echo is not redacted: %q", tc.name, body)
		}
		r.clean(t, body, dumpHeader(hdr))
	}
}

func TestBasicAuthSwappedInside(t *testing.T) {
	r := newBoundRig(t, false)
	req, _ := http.NewRequest("GET", "https://"+r.api.target()+"/", nil)
	req.SetBasicAuth("user", r.b.Placeholder)
	status, hdr, body := r.do(req)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	got := r.api.requests()[0].Header.Get("Authorization")
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+r.c.value))
	if got != want {
		t.Errorf("the server received %q, want %q", got, want)
	}
	r.clean(t, body, dumpHeader(hdr))
}

func TestURLSubstitution(t *testing.T) {
	r := newBoundRig(t, false)
	status, _, body := r.get("https://" + r.api.target() + "/keys/" + r.b.Placeholder + "/x?key=" + r.b.Placeholder + "&a=b%2Fc")
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	want := "/keys/" + r.c.value + "/x?key=" + r.c.value + "&a=b%2Fc"
	if got := r.api.requests()[0].URI; got != want {
		t.Errorf("the server received %q, want %q", got, want)
	}
	r.clean(t, body)
}

func TestPlainHTTPBound(t *testing.T) {
	ca := newTestCA(t)
	api := newUpstream(t, "127.0.0.1", false, ca, nil)
	c := newCanary()
	b := binding("K", api, c)
	r := newRig(t, ca, Config{Bindings: []Binding{b}})
	status, _, body := r.get("http://"+api.target()+"/?q="+b.Placeholder, "Authorization", "Bearer "+b.Placeholder)
	if status != 200 || api.requests()[0].Header.Get("Authorization") != "Bearer "+c.value {
		t.Fatalf("status %d, server got %+v", status, api.requests())
	}
	absent(t, "client output", body, c)
}

// A placeholder headed to a host it is not bound to is refused, whether the
// request is plain HTTP or inside a bound host's tunnel; the other host
// never hears of it.
func TestPlaceholderToOtherHostRefused(t *testing.T) {
	r := newBoundRig(t, false)
	plain := newUpstream(t, "127.0.0.2", false, r.ca, nil)
	status, hdr, body := r.get("http://"+plain.target()+"/", "Authorization", "Bearer "+r.b.Placeholder)
	if status != 403 || hdr.Get("X-Llms-Proxy-Rule") != RuleOtherHost || !strings.Contains(body, "may go only to "+r.api.target()) {
		t.Errorf("plain: got %d %q", status, body)
	}
	if len(plain.requests()) != 0 {
		t.Error("the other host received the request")
	}
	refs := r.refusals()
	if len(refs) != 1 || refs[0].Host != "127.0.0.2" || refs[0].Port != plain.port || refs[0].Rule != RuleOtherHost || refs[0].Keys[0] != "API_KEY" {
		t.Errorf("audit: %+v", refs)
	}

	// A second binding, to the other host, sent to the first.
	c2 := newCanary()
	b2 := binding("OTHER", r.other, c2)
	r2 := newRig(t, r.ca, Config{Bindings: []Binding{r.b, b2}})
	status, _, body = r2.get("https://"+r.api.target()+"/", "X-Key", b2.Placeholder)
	if status != 403 || !strings.Contains(body, "OTHER") {
		t.Errorf("tunnel: got %d %q", status, body)
	}
	r.clean(t, body)
	absent(t, "client output", body, c2)
}

// An allowed host no value is bound to is a tunnel: the client sees the
// server's own certificate, and a placeholder goes through as it is.
func TestUnboundHostIsATunnel(t *testing.T) {
	r := newBoundRig(t, false)
	resp, err := r.client.Get("https://" + r.other.target() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if issuer := resp.TLS.PeerCertificates[0].Issuer.CommonName; issuer != "test CA" {
		t.Errorf("the unbound host's certificate was issued by %q: intercepted", issuer)
	}
	resp, err = r.client.Get("https://" + r.api.target() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if issuer := resp.TLS.PeerCertificates[0].Issuer.CommonName; !strings.Contains(issuer, "llms credential proxy") {
		t.Errorf("the bound host's certificate was issued by %q: not intercepted", issuer)
	}
}

func TestPlaceholderInHostRefused(t *testing.T) {
	r := newBoundRig(t, false)
	for _, u := range []string{"https://" + r.b.Placeholder + ".evil.test/", "http://" + r.b.Placeholder + ".evil.test/"} {
		req, _ := http.NewRequest("GET", u, nil)
		resp, err := r.client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 403 || resp.Header.Get("X-Llms-Proxy-Rule") != RuleInHost {
				t.Errorf("%s: %d %q", u, resp.StatusCode, body)
			}
		} else if !strings.Contains(err.Error(), "Forbidden") {
			t.Errorf("%s: %v", u, err)
		}
	}
	refs := r.refusals()
	if len(refs) != 2 || refs[0].Rule != RuleInHost || refs[1].Rule != RuleInHost {
		t.Errorf("audit: %+v", refs)
	}
}

func TestPercentEncodedPlaceholderRefused(t *testing.T) {
	// An invalid escape beside it does not hide it: a server decodes
	// each parameter on its own.
	for _, query := range []string{"?k=", "?x=%zz&k="} {
		r := newBoundRig(t, false)
		enc := strings.ReplaceAll(r.b.Placeholder, "-", "%2D")
		status, _, body := r.get("https://" + r.api.target() + "/" + query + enc)
		if status != 400 || !strings.Contains(body, RuleEncoded) {
			t.Errorf("%s: got %d %q", query, status, body)
		}
		if len(r.api.requests()) != 0 {
			t.Errorf("%s: the request went upstream", query)
		}
	}
}

// A base64 form of the placeholder outside Basic credentials is not
// decoded: it reaches the bound host as it is, and so no value does.
func TestBase64PlaceholderPassesUnchanged(t *testing.T) {
	r := newBoundRig(t, false)
	enc := base64.StdEncoding.EncodeToString([]byte(r.b.Placeholder))
	status, _, _ := r.get("https://"+r.api.target()+"/", "X-Enc", enc)
	if status != 200 || r.api.requests()[0].Header.Get("X-Enc") != enc {
		t.Errorf("got %d, server saw %q", status, r.api.requests()[0].Header.Get("X-Enc"))
	}
}

func TestSignedRequestRefused(t *testing.T) {
	r := newBoundRig(t, false)
	cases := [][]string{
		{"Authorization", "AWS4-HMAC-SHA256 Credential=" + r.b.Placeholder + "/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc"},
		{"X-Amz-Security-Token", r.b.Placeholder},
		{"Signature-Input", "sig1=()", "X-Key", r.b.Placeholder},
	}
	for _, h := range cases {
		status, _, body := r.get("https://"+r.api.target()+"/", h...)
		if status != 403 || !strings.Contains(body, "signed") {
			t.Errorf("%v: got %d %q", h, status, body)
		}
	}
	status, _, body := r.get("https://" + r.api.target() + "/?X-Amz-Signature=00&X-Amz-Credential=" + r.b.Placeholder)
	if status != 403 || !strings.Contains(body, RuleSigned) {
		t.Errorf("presigned URL: got %d %q", status, body)
	}
	if len(r.api.requests()) != 0 {
		t.Error("a signed request went upstream")
	}
	// A signed request without a placeholder is none of the proxy's business.
	if status, _, _ := r.get("https://"+r.api.target()+"/", "Authorization", "AWS4-HMAC-SHA256 x"); status != 200 {
		t.Errorf("a signed request without a placeholder: %d", status)
	}
}

// The proxy follows no redirect: a 30x is relayed as it is, with a value
// the server echoed into Location redacted; the client following it to
// another host sends the placeholder, which is refused there.
func TestRedirectNotFollowed(t *testing.T) {
	ca := newTestCA(t)
	other := newUpstream(t, "127.0.0.2", false, ca, nil)
	api := newUpstream(t, "127.0.0.1", true, ca, func(w http.ResponseWriter, r *http.Request, s seen) {
		w.Header().Set("Location", "http://"+other.target()+"/next?"+r.URL.RawQuery)
		w.WriteHeader(http.StatusFound)
	})
	c := newCanary()
	b := binding("K", api, c)
	r := newRig(t, ca, Config{Bindings: []Binding{b}})
	status, hdr, _ := r.get("https://" + api.target() + "/?key=" + b.Placeholder)
	loc := hdr.Get("Location")
	if status != 302 || !strings.Contains(loc, "[REDACTED:K]") {
		t.Errorf("got %d, Location %q", status, loc)
	}
	absent(t, "Location", loc, c)
	if len(other.requests()) != 0 {
		t.Error("the proxy followed the redirect")
	}
	// The client follows with its placeholder: refused.
	status, _, body := r.get("http://" + other.target() + "/next?key=" + b.Placeholder)
	if status != 403 || len(other.requests()) != 0 {
		t.Errorf("following with the placeholder: %d %q", status, body)
	}
}

func TestBodySubstitution(t *testing.T) {
	r := newBoundRig(t, true)
	post := func(ct, body string, extra ...string) (int, string) {
		req, _ := http.NewRequest("POST", "https://"+r.api.target()+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		for i := 0; i+1 < len(extra); i += 2 {
			req.Header.Set(extra[i], extra[i+1])
		}
		status, _, out := r.do(req)
		r.clean(t, out)
		return status, out
	}
	if s, _ := post("application/json", `{"key":"`+r.b.Placeholder+`"}`); s != 200 {
		t.Fatalf("json: %d", s)
	}
	if got := r.api.requests()[0].Body; got != `{"key":"`+r.c.value+`"}` {
		t.Errorf("json body upstream: %q", got)
	}
	if s, _ := post("application/x-www-form-urlencoded", "a=1&key="+r.b.Placeholder); s != 200 {
		t.Fatalf("form: %d", s)
	}
	if got := r.api.requests()[1].Body; got != "a=1&key="+r.c.value {
		t.Errorf("form body upstream: %q", got)
	}
	// Not a text type: passed on as it is.
	if s, _ := post("application/octet-stream", r.b.Placeholder); s != 200 || r.api.requests()[2].Body != r.b.Placeholder {
		t.Errorf("octet-stream: %d %q", s, r.api.requests()[2].Body)
	}
	// Compressed: refused.
	if s, out := post("application/json", "\x1f\x8b....", "Content-Encoding", "gzip"); s != 415 || !strings.Contains(out, RuleBody) {
		t.Errorf("gzip body: %d %q", s, out)
	}
	// Larger than the bound: refused.
	if s, _ := post("application/json", strings.Repeat("x", DefaultMaxBody+1)); s != 413 {
		t.Errorf("huge body: %d", s)
	}
	if n := len(r.api.requests()); n != 3 {
		t.Errorf("%d requests went upstream, want 3", n)
	}
}

// Values go into a body as the body's type needs them.
func TestBodyEncoders(t *testing.T) {
	v := []byte("a\"b\\c<d>&e f+g/\x01")
	if got := string(jsonString(v)); got != `a\"b\\c<d>&e f+g/\u0001` {
		t.Errorf("json: %q", got)
	}
	if got := string(formValue(v)); got != "a%22b%5Cc%3Cd%3E%26e+f%2Bg%2F%01" {
		t.Errorf("form: %q", got)
	}
}

func TestBodyNotOptedIn(t *testing.T) {
	r := newBoundRig(t, false)
	req, _ := http.NewRequest("POST", "https://"+r.api.target()+"/", strings.NewReader(`{"key":"`+r.b.Placeholder+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if status, _, _ := r.do(req); status != 200 {
		t.Fatal(status)
	}
	if got := r.api.requests()[0].Body; strings.Contains(got, r.c.value) || !strings.Contains(got, r.b.Placeholder) {
		t.Errorf("the body upstream is %q: substituted without opting in", got)
	}
}

// A placeholder split across chunks of a chunked body is found: the body is
// read whole before it is searched.
func TestPlaceholderSplitAcrossChunks(t *testing.T) {
	r := newBoundRig(t, true)
	pr, pw := io.Pipe()
	go func() {
		half := len(r.b.Placeholder) / 2
		io.WriteString(pw, `{"key":"`+r.b.Placeholder[:half])
		time.Sleep(20 * time.Millisecond)
		io.WriteString(pw, r.b.Placeholder[half:]+`"}`)
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", "https://"+r.api.target()+"/", pr)
	req.Header.Set("Content-Type", "application/json")
	if status, _, _ := r.do(req); status != 200 {
		t.Fatal(status)
	}
	if got := r.api.requests()[0].Body; got != `{"key":"`+r.c.value+`"}` {
		t.Errorf("upstream body %q", got)
	}
}

func TestHugeHeaderRefused(t *testing.T) {
	r := newBoundRig(t, false)
	status, _, _ := r.get("https://"+r.api.target()+"/", "X-Big", strings.Repeat("a", 70<<10))
	if status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", status)
	}
	status, _, _ = r.get("http://"+r.other.target()+"/", "X-Big", strings.Repeat("a", 70<<10))
	if status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("plain: status %d, want 431", status)
	}
	if len(r.api.requests()) != 0 {
		t.Error("a huge header went upstream")
	}
}

// HTTP/2 toward the proxy is not spoken: a prior-knowledge preface on the
// listener gets an HTTP/1.1 error, and a client that offers only h2 in a
// bound tunnel fails its handshake. So HTTP/2 CONTINUATION frames never
// reach a parser here.
func TestHTTP2ToProxyRefused(t *testing.T) {
	r := newBoundRig(t, false)
	conn, err := net.Dial("tcp", r.p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 4") && !strings.HasPrefix(line, "HTTP/1.1 5") {
		t.Errorf("h2 preface answered %q", line)
	}

	conn2, err := net.Dial("tcp", r.p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	fmt.Fprintf(conn2, "CONNECT %s HTTP/1.1\r\nHost: %[1]s\r\n\r\n", r.api.target())
	br := bufio.NewReader(conn2)
	if line, _ := br.ReadString('\n'); !strings.Contains(line, "200") {
		t.Fatalf("CONNECT: %q", line)
	}
	br.ReadString('\n')
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(r.p.CACert())
	tc := tls.Client(conn2, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"h2"}})
	if err := tc.Handshake(); err == nil {
		t.Errorf("an h2-only client completed a handshake (ALPN %q)", tc.ConnectionState().NegotiatedProtocol)
	}
}

func TestUpstreamHTTP2(t *testing.T) {
	r := newBoundRig(t, false)
	if status, _, _ := r.get("https://"+r.api.target()+"/", "Authorization", "Bearer "+r.b.Placeholder); status != 200 {
		t.Fatal(status)
	}
	if p := r.api.requests()[0].Proto; p != "HTTP/2.0" {
		t.Errorf("upstream protocol %s, want HTTP/2.0", p)
	}
}

// An allowed name that resolves to a loopback address is refused before
// any connection; the client is told which rule.
func TestDNSRebindingRefused(t *testing.T) {
	ca := newTestCA(t)
	api := newUpstream(t, "127.0.0.1", true, ca, nil)
	c := newCanary()
	b := Binding{Var: "K", Key: "K", Host: "api.test", Port: api.port, Placeholder: NewPlaceholder("K"), Value: []byte(c.value)}
	r := newRig(t, ca, Config{Bindings: []Binding{b}, resolve: func(context.Context, string) ([]net.IP, error) {
		return []net.IP{net.ParseIP("127.0.0.1")}, nil
	}})
	for _, u := range []string{"https://api.test:%d/", "http://api.test:%d/"} {
		status, hdr, body := r.get(fmt.Sprintf(u, api.port), "Authorization", "Bearer "+b.Placeholder)
		if status != 403 || hdr.Get("X-Llms-Proxy-Rule") != RuleRebinding {
			t.Errorf("%s: %d %q", u, status, body)
		}
		absent(t, "client output", body, c)
	}
	if len(api.requests()) != 0 {
		t.Error("the rebound name reached the local server")
	}
}

// With DialAllowed (agent mode), each resolved address is the launcher's
// to judge: a name resolving to 127.0.0.2 is refused when it says no, on
// the listener opened before Start, and reached when it says yes.
func TestDialAllowedDecides(t *testing.T) {
	ca := newTestCA(t)
	plain := newUpstream(t, "127.0.0.2", false, ca, nil)
	ln, err := Listen()
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	allow := false
	r := newRig(t, ca, Config{Listener: ln,
		resolve: func(context.Context, string) ([]net.IP, error) { return []net.IP{net.ParseIP("127.0.0.2")}, nil },
		DialAllowed: func(host string, ip netip.Addr, port int) bool {
			asked = append(asked, fmt.Sprintf("%s %s %d", host, ip, port))
			return allow
		}})
	if r.p.Addr() != ln.Addr().String() {
		t.Fatalf("the proxy listens on %s, not on the listener it was given (%s)", r.p.Addr(), ln.Addr())
	}
	u := fmt.Sprintf("http://name.test:%d/", plain.port)
	if status, hdr, _ := r.get(u); status != 403 || hdr.Get("X-Llms-Proxy-Rule") != RuleRebinding || len(plain.requests()) != 0 {
		t.Errorf("refused address: %d %q, %d request(s) reached", status, hdr.Get("X-Llms-Proxy-Rule"), len(plain.requests()))
	}
	allow = true
	if status, _, _ := r.get(u); status != 200 || len(plain.requests()) != 1 {
		t.Errorf("allowed address: %d", status)
	}
	if want := fmt.Sprintf("name.test 127.0.0.2 %d", plain.port); len(asked) == 0 || asked[0] != want {
		t.Errorf("DialAllowed asked %q, want %q", asked, want)
	}
}

func TestProxyItselfRefused(t *testing.T) {
	r := newBoundRig(t, false)
	status, hdr, _ := r.get("http://" + r.p.Addr() + "/")
	if status != 403 || hdr.Get("X-Llms-Proxy-Rule") != RuleLoop {
		t.Errorf("got %d %q", status, hdr.Get("X-Llms-Proxy-Rule"))
	}
}

func TestEgressRefused(t *testing.T) {
	ca := newTestCA(t)
	api := newUpstream(t, "127.0.0.1", true, ca, nil)
	other := newUpstream(t, "127.0.0.2", true, ca, nil)
	plain := newUpstream(t, "127.0.0.2", false, ca, nil)
	c := newCanary()
	b := binding("K", api, c)
	r := newRig(t, ca, Config{Bindings: []Binding{b}, Allowed: func(host string, port int) bool {
		return host == api.host && port == api.port
	}})
	if status, _, _ := r.get("https://" + api.target() + "/"); status != 200 {
		t.Errorf("allowed host: %d", status)
	}
	if _, err := r.client.Get("https://" + other.target() + "/"); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("CONNECT to a host not allowed: %v", err)
	}
	status, _, body := r.get("http://" + plain.target() + "/")
	if status != 403 || !strings.Contains(body, "egress") || !strings.Contains(body, plain.target()) {
		t.Errorf("plain request to a host not allowed: %d %q", status, body)
	}
	refs := r.refusals()
	if len(refs) != 2 || refs[0].Rule != RuleEgress || refs[0].Host != "127.0.0.2" || refs[0].Port != other.port || refs[1].Port != plain.port {
		t.Errorf("audit: %+v", refs)
	}
	if len(other.requests())+len(plain.requests()) != 0 {
		t.Error("a host not allowed was reached")
	}
}

func TestUpgradeRefused(t *testing.T) {
	r := newBoundRig(t, false)
	status, _, body := r.get("https://"+r.api.target()+"/", "Connection", "Upgrade", "Upgrade", "websocket")
	if status != 501 || !strings.Contains(body, RuleUpgrade) {
		t.Errorf("got %d %q", status, body)
	}
}

func TestMisdirectedHostRefused(t *testing.T) {
	r := newBoundRig(t, false)
	req, _ := http.NewRequest("GET", "https://"+r.api.target()+"/", nil)
	req.Host = "evil.test"
	req.Header.Set("Authorization", "Bearer "+r.b.Placeholder)
	status, _, body := r.do(req)
	if status != 421 || len(r.api.requests()) != 0 {
		t.Errorf("got %d %q", status, body)
	}
}

func TestUpstreamCertificateVerified(t *testing.T) {
	r := newBoundRig(t, false)
	stranger := newTestCA(t) // a CA the proxy does not trust
	api := newUpstream(t, "127.0.0.2", true, stranger, nil)
	b := binding("K2", api, newCanary())
	r2 := newRig(t, r.ca, Config{Bindings: []Binding{b}}) // trusts r.ca, not stranger
	status, _, body := r2.get("https://"+api.target()+"/", "Authorization", "Bearer "+b.Placeholder)
	if status != 502 || !strings.Contains(body, "certificate") {
		t.Errorf("got %d %q", status, body)
	}
	if len(api.requests()) != 0 {
		t.Error("the unverified server received the request")
	}
}

// An upstream error may quote the URL it was asked for, value and all; the
// 502 body carries it redacted.
func TestUpstreamErrorRedacted(t *testing.T) {
	r := newBoundRig(t, false)
	rec := httptest.NewRecorder()
	err := &url.Error{Op: "Get", URL: "https://" + r.api.target() + "/?k=" + r.c.value,
		Err: fmt.Errorf("refused %s", base64.StdEncoding.EncodeToString([]byte(r.c.value)))}
	r.p.upstreamError(rec, target{host: r.api.host, port: r.api.port}, err)
	if rec.Code != 502 || !strings.Contains(rec.Body.String(), "[REDACTED:API_KEY]") {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
	absent(t, "502 body", rec.Body.String(), r.c)
}

func TestCompressedResponseRefused(t *testing.T) {
	ca := newTestCA(t)
	api := newUpstream(t, "127.0.0.1", true, ca, func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.Header.Get("Accept-Encoding") != "identity" {
			t.Errorf("a bound host was asked for %q", s.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		io.WriteString(gz, s.Header.Get("Authorization"))
		gz.Close()
	})
	c := newCanary()
	b := binding("K", api, c)
	r := newRig(t, ca, Config{Bindings: []Binding{b}})
	status, _, body := r.get("https://"+api.target()+"/", "Authorization", "Bearer "+b.Placeholder, "Accept-Encoding", "gzip")
	if status != 502 || !strings.Contains(body, RuleCompressed) {
		t.Errorf("got %d %q", status, body)
	}
}

// A response streamed in pieces is redacted across them, and a pause
// releases what is held, so a streamed answer keeps flowing.
func TestStreamedResponseRedacted(t *testing.T) {
	ca := newTestCA(t)
	c := newCanary()
	api := newUpstream(t, "127.0.0.1", true, ca, func(w http.ResponseWriter, r *http.Request, s seen) {
		fl := w.(http.Flusher)
		io.WriteString(w, "data: hello\n")
		fl.Flush()
		time.Sleep(300 * time.Millisecond)
		for _, part := range []string{c.value[:5], c.value[5:12], c.value[12:]} {
			io.WriteString(w, part)
			fl.Flush()
			time.Sleep(5 * time.Millisecond)
		}
		io.WriteString(w, "\n"+base64.StdEncoding.EncodeToString([]byte(c.value))+"\nend\n")
	})
	b := binding("K", api, c)
	r := newRig(t, ca, Config{Bindings: []Binding{b}})
	resp, err := r.client.Get("https://" + api.target() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	start := time.Now()
	first, _ := br.ReadString('\n')
	if first != "data: hello\n" || time.Since(start) > 250*time.Millisecond {
		t.Errorf("first line %q after %v: held back", first, time.Since(start))
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "[REDACTED:K]\n[REDACTED:K]\nend\n" {
		t.Errorf("rest %q", rest)
	}
}

// The per-launch CA vouches only for the bound hosts.
func TestCANameConstrained(t *testing.T) {
	a, err := newAuthority([]string{"api.test", "127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(a.cert)
	for host, ok := range map[string]bool{"api.test": true, "127.0.0.1": true, "evil.test": false, "127.0.0.2": false, "test": false} {
		leaf, err := a.leaf(host)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(leaf.Certificate[0])
		_, err = cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: host})
		if (err == nil) != ok {
			t.Errorf("%s: verify error %v, want ok=%v", host, err, ok)
		}
	}
	if time.Until(a.cert.NotAfter) > caValidity {
		t.Error("the CA outlives its validity")
	}
}

func TestPlaceholders(t *testing.T) {
	a, b := NewPlaceholder("API_KEY"), NewPlaceholder("API_KEY")
	if a == b || !strings.HasPrefix(a, "llms-placeholder-API_KEY-") || len(a) != len("llms-placeholder-API_KEY-")+32 {
		t.Errorf("placeholders %q %q", a, b)
	}
}

func TestParseTarget(t *testing.T) {
	good := map[string]string{"api.example.com": "api.example.com:443", "API.Example.com.:8443": "api.example.com:8443",
		"127.0.0.1:80": "127.0.0.1:80", "[::1]:8080": "[::1]:8080", "[::1]": "[::1]:443"}
	for in, want := range good {
		h, p, err := ParseTarget(in)
		if err != nil || hostPort(h, p) != want {
			t.Errorf("%q: %s %d %v, want %s", in, h, p, err, want)
		}
	}
	for _, in := range []string{"", ":443", "a:0", "a:65536", "a:x", "a b", "a/b", "*.example.com", "a..b", "-a.com", "a:1:2", "user@host"} {
		if _, _, err := ParseTarget(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestStartRefusesBadBindings(t *testing.T) {
	ok := Binding{Var: "V", Key: "K", Host: "api.test", Port: 443, Placeholder: NewPlaceholder("K"), Value: []byte("value")}
	bad := []func(*Binding){
		func(b *Binding) { b.Placeholder = "guessable" },
		func(b *Binding) { b.Host = "API.test" },
		func(b *Binding) { b.Port = 0 },
		func(b *Binding) { b.Value = nil },
		func(b *Binding) { b.Var = "" },
	}
	for i, f := range bad {
		b := ok
		f(&b)
		if p, err := Start(Config{Bindings: []Binding{b}}); err == nil {
			p.Close()
			t.Errorf("bad binding %d accepted", i)
		} else if strings.Contains(err.Error(), "value") && strings.Contains(err.Error(), string(ok.Value)+"\"") {
			t.Errorf("the error quotes the value: %v", err)
		}
	}
	if p, err := Start(Config{Bindings: []Binding{ok, ok}}); err == nil {
		p.Close()
		t.Error("a variable bound twice was accepted")
	}
}

func TestEnv(t *testing.T) {
	r := newBoundRig(t, false)
	env := strings.Join(r.p.Env("/tmp/bundle.pem"), "\n")
	for _, want := range []string{"API_KEY=" + r.b.Placeholder, "HTTPS_PROXY=" + r.p.URL(), "https_proxy=" + r.p.URL(),
		"\nNO_PROXY=\n", "\nno_proxy=\n", "NODE_USE_ENV_PROXY=1", "SSL_CERT_FILE=/tmp/bundle.pem", "NODE_EXTRA_CA_CERTS=/tmp/bundle.pem",
		"REQUESTS_CA_BUNDLE=/tmp/bundle.pem", "CURL_CA_BUNDLE=/tmp/bundle.pem", "GIT_SSL_CAINFO=/tmp/bundle.pem"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %q", want)
		}
	}
	absent(t, "env", env, r.c)
	t.Setenv("SSL_CERT_FILE", writeTemp(t, r.ca.PEM))
	bundle, err := r.p.CABundle()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) || !strings.HasPrefix(string(bundle), string(r.ca.PEM[:40])) || !strings.HasSuffix(string(bundle), string(r.p.CACert())) {
		t.Error("the bundle is not the system bundle followed by the proxy's CA")
	}
}

func writeTemp(t *testing.T, data []byte) string {
	f := t.TempDir() + "/ca.PEM"
	if err := writeFile(f, data); err != nil {
		t.Fatal(err)
	}
	return f
}

// A value bound to port 443 is meant for TLS: a plain http:// request to
// that port carrying its placeholder is refused, so that the program cannot
// have the value sent in cleartext.
func TestPlainHTTPToTLSPortRefused(t *testing.T) {
	ca := newTestCA(t)
	c := newCanary()
	b := Binding{Var: "K", Key: "K", Host: "127.0.0.1", Port: 443, Placeholder: NewPlaceholder("K"), Value: []byte(c.value)}
	r := newRig(t, ca, Config{Bindings: []Binding{b}})
	status, hdr, body := r.get("http://127.0.0.1:443/", "Authorization", "Bearer "+b.Placeholder)
	if status != 403 || hdr.Get("X-Llms-Proxy-Rule") != RulePlaintext {
		t.Errorf("got %d %q %q", status, hdr.Get("X-Llms-Proxy-Rule"), body)
	}
	absent(t, "client output", body, c)
	if refs := r.refusals(); len(refs) != 1 || refs[0].Rule != RulePlaintext || refs[0].Keys[0] != "K" {
		t.Errorf("audit: %+v", refs)
	}
}
