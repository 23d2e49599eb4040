package credproxy

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llm-secrets/llms/internal/testca"
)

// testCA is the CA of the test servers, which the proxy trusts through
// ExtraRootsPEM.
type testCA struct{ *testca.CA }

func newTestCA(t testing.TB) *testCA { return &testCA{testca.New(t, "test CA")} }

func (ca *testCA) leaf(t testing.TB, hosts ...string) tls.Certificate { return ca.Leaf(t, hosts...) }

// seen is one request as an upstream test server received it.
type seen struct {
	Method, URI, Proto string
	Header             http.Header
	Body               string
}

// upstream is a test server on 127.0.0.1 or 127.0.0.2 that records what it
// receives and answers with handle (by default: 200 and the request echoed).
type upstream struct {
	srv  *httptest.Server
	host string
	port int
	mu   sync.Mutex
	got  []seen
}

func echo(w http.ResponseWriter, r *http.Request, s seen) {
	io.WriteString(w, s.Method+" "+s.URI+"\n")
	for k, v := range s.Header {
		io.WriteString(w, k+": "+strings.Join(v, ",")+"\n")
	}
	io.WriteString(w, "\n"+s.Body)
}

func newUpstream(t testing.TB, ip string, useTLS bool, ca *testCA, handle func(http.ResponseWriter, *http.Request, seen)) *upstream {
	t.Helper()
	if handle == nil {
		handle = echo
	}
	u := &upstream{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := seen{Method: r.Method, URI: r.RequestURI, Proto: r.Proto, Header: r.Header.Clone(), Body: string(body)}
		u.mu.Lock()
		u.got = append(u.got, s)
		u.mu.Unlock()
		handle(w, r, s)
	}))
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	srv.Listener.Close()
	srv.Listener = ln
	if useTLS {
		srv.EnableHTTP2 = true
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, ip, "api.test", "localhost")}}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	u.srv = srv
	u.host = ip
	u.port = ln.Addr().(*net.TCPAddr).Port
	return u
}

func (u *upstream) requests() []seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seen(nil), u.got...)
}

func (u *upstream) target() string { return hostPort(u.host, u.port) }

// canary is a unique random test value, with the forms it must never
// appear in.
type canary struct {
	value string
}

func newCanary() canary {
	b := make([]byte, 18)
	rand.Read(b)
	return canary{"cnry" + base64.RawURLEncoding.EncodeToString(b)}
}

func (c canary) forms() []string {
	v := []byte(c.value)
	return []string{c.value, base64.StdEncoding.EncodeToString(v), base64.RawStdEncoding.EncodeToString(v),
		hex.EncodeToString(v), strings.ToUpper(hex.EncodeToString(v)), url.QueryEscape(c.value)}
}

// absent fails the test if any form of any canary is in what.
func absent(t testing.TB, where, what string, cs ...canary) {
	t.Helper()
	for _, c := range cs {
		for _, f := range c.forms() {
			if strings.Contains(what, f) {
				t.Errorf("%s holds a form of the value: %q", where, what)
				return
			}
		}
	}
}

// rig is a proxy with its audit record and a client that uses it.
type rig struct {
	t      testing.TB
	p      *Proxy
	ca     *testCA
	mu     sync.Mutex
	audit  []Refusal
	client *http.Client
}

func newRig(t testing.TB, ca *testCA, cfg Config) *rig {
	t.Helper()
	r := &rig{t: t, ca: ca}
	cfg.ExtraRootsPEM = ca.PEM
	cfg.Audit = func(ref Refusal) {
		r.mu.Lock()
		r.audit = append(r.audit, ref)
		r.mu.Unlock()
	}
	p, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	r.p = p
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	if c := p.CACert(); c != nil {
		roots.AppendCertsFromPEM(c)
	}
	proxyURL, _ := url.Parse(p.URL())
	r.client = &http.Client{
		Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: roots},
			DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	return r
}

func (r *rig) refusals() []Refusal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Refusal(nil), r.audit...)
}

// do sends req through the proxy and returns the status and body.
func (r *rig) do(req *http.Request) (int, http.Header, string) {
	r.t.Helper()
	resp, err := r.client.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func (r *rig) get(rawURL string, header ...string) (int, http.Header, string) {
	r.t.Helper()
	req, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return r.do(req)
}

func binding(key string, u *upstream, c canary) Binding {
	return Binding{Var: key, Key: key, Host: u.host, Port: u.port, Placeholder: NewPlaceholder(key), Value: []byte(c.value)}
}

func dumpHeader(h http.Header) string {
	var b bytes.Buffer
	h.Write(&b)
	return b.String()
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }
