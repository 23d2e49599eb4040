package credproxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llm-secrets/llms/internal/redact"
)

// DefaultMaxBody bounds a request body that is read for substitution.
const DefaultMaxBody = 1 << 20

// maxHeaderBytes bounds a request's header block, in both the proxy's own
// requests and the ones inside an intercepted tunnel.
const maxHeaderBytes = 64 << 10

// Config is what a launcher gives Start.
type Config struct {
	Bindings []Binding
	// Allowed decides egress for every request and tunnel: nil allows
	// every host (no containment: llms exec without a sandbox).
	Allowed func(host string, port int) bool
	// Audit hears every refusal. It must not block for long.
	Audit func(Refusal)
	// ExtraRootsPEM are CA certificates trusted upstream besides the
	// system's (a company's TLS-inspecting proxy, a test CA).
	ExtraRootsPEM []byte
	// MaxBody bounds a body read for substitution (DefaultMaxBody when 0).
	MaxBody int64
	// DialAllowed, when set, decides each address a host resolves to
	// before the proxy dials it (egress.List.DialAllowed), in place of
	// the default rule (a name resolving to a loopback address is
	// refused).
	DialAllowed func(host string, ip netip.Addr, port int) bool
	// Listener is the proxy's, opened by Listen before the launch's rules
	// were built (they name its port); nil opens one. Start serves it (and
	// Close closes it) once it succeeds; until then it is the caller's.
	Listener net.Listener

	// resolve replaces DNS in tests.
	resolve func(ctx context.Context, host string) ([]net.IP, error)
}

// A Refusal is one request or tunnel the proxy turned away. It names hosts,
// rules and secrets, never a value.
type Refusal struct {
	Host   string
	Port   int
	Rule   string   // a stable name (the Rule* constants)
	Keys   []string // the secrets whose placeholders the request carried
	Reason string   // the sentence the client was sent
}

// Rules a refusal names, in audit lines and in the 403 body.
const (
	RuleEgress      = "egress"              // the host is not allowed
	RuleOtherHost   = "placeholder-host"    // a placeholder headed to a host it is not bound to
	RuleInHost      = "placeholder-in-host" // a placeholder in the host part
	RuleEncoded     = "placeholder-encoded" // a placeholder percent-encoded in the URL
	RuleSigned      = "signed-request"      // a placeholder in a signed request
	RuleBody        = "body"                // a body that cannot be substituted
	RuleUpgrade     = "upgrade"             // protocol upgrades (WebSocket, h2c)
	RuleMisdirected = "misdirected"         // a Host header that is not the tunnel's
	RuleRebinding   = "dns-rebinding"       // a name that resolves to an address it may not reach
	RuleLoop        = "loop"                // a request to the proxy itself
	RuleCompressed  = "compressed-response" // a bound host's response that cannot be redacted
	RulePlaintext   = "plaintext"           // a placeholder in plain HTTP to port 443
)

// A Proxy is a running credential proxy.
type Proxy struct {
	cfg       Config
	ln        net.Listener
	front     *http.Server
	inner     *http.Server
	innerLn   *connListener
	ca        *authority // nil without bindings: nothing is intercepted
	bound     map[string][]*Binding
	all       []*Binding
	red       *redact.Redactor
	transport *http.Transport

	mu       sync.Mutex
	hijacked map[net.Conn]bool
	closed   bool
}

// Start checks the bindings, makes the CA and starts listening on an
// ephemeral port of 127.0.0.1.
func Start(cfg Config) (*Proxy, error) {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	p := &Proxy{cfg: cfg, bound: map[string][]*Binding{}, hijacked: map[net.Conn]bool{}}
	var hosts []string
	var secrets []redact.Secret
	seenVar := map[string]bool{}
	for i := range cfg.Bindings {
		b := &cfg.Bindings[i]
		if err := checkBinding(b); err != nil {
			return nil, err
		}
		if seenVar[b.Var] {
			return nil, fmt.Errorf("variable %s is bound twice", b.Var)
		}
		seenVar[b.Var] = true
		hp := hostPort(b.Host, b.Port)
		if len(p.bound[hp]) == 0 {
			hosts = append(hosts, b.Host)
		}
		p.bound[hp] = append(p.bound[hp], b)
		p.all = append(p.all, b)
		secrets = append(secrets, redact.Secret{Name: b.Key, Value: b.Value})
	}
	if len(p.all) > 0 {
		ca, err := newAuthority(hosts, time.Now())
		if err != nil {
			return nil, err
		}
		p.ca = ca
		p.red = redact.New(secrets)
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if len(cfg.ExtraRootsPEM) > 0 && !roots.AppendCertsFromPEM(cfg.ExtraRootsPEM) {
		return nil, errors.New("the extra upstream CA file holds no PEM certificate")
	}
	p.transport = &http.Transport{
		DialContext:            p.dial,
		TLSClientConfig:        &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    15 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		// The client's Accept-Encoding goes upstream as it is (or as
		// identity, toward a bound host); the proxy never decompresses.
		DisableCompression: true,
	}
	ln := cfg.Listener
	if ln == nil {
		if ln, err = Listen(); err != nil {
			return nil, err
		}
	}
	p.ln = ln
	quiet := log.New(io.Discard, "", 0)
	p.front = &http.Server{Handler: http.HandlerFunc(p.serveFront), ReadHeaderTimeout: 30 * time.Second,
		MaxHeaderBytes: maxHeaderBytes, ErrorLog: quiet}
	p.innerLn = newConnListener(ln.Addr())
	p.inner = &http.Server{Handler: http.HandlerFunc(p.serveInner), ReadHeaderTimeout: 30 * time.Second,
		MaxHeaderBytes: maxHeaderBytes, ErrorLog: quiet,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if ic, ok := c.(*interceptConn); ok {
				return context.WithValue(ctx, targetKey{}, ic.target)
			}
			return ctx
		}}
	go p.front.Serve(ln)
	go p.inner.Serve(p.innerLn)
	return p, nil
}

// Listen opens a proxy's listener on an ephemeral port of 127.0.0.1, for
// a launcher that must know the port before Start (Config.Listener).
func Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("credential proxy: %w", err)
	}
	return ln, nil
}

func checkBinding(b *Binding) error {
	switch {
	case b.Key == "" || b.Var == "":
		return errors.New("a binding needs a variable and a secret")
	case !strings.HasPrefix(b.Placeholder, PlaceholderPrefix+b.Key+"-"):
		return fmt.Errorf("the placeholder for %s is not one NewPlaceholder made", b.Key)
	case b.Port < 1 || b.Port > 65535 || !validHost(b.Host) || canonicalHost(b.Host) != b.Host:
		return fmt.Errorf("the binding for %s names no valid host and port", b.Key)
	case len(b.Value) == 0:
		return fmt.Errorf("the value of %s is empty", b.Key)
	}
	return nil
}

// Addr is the proxy's listening address, 127.0.0.1:PORT.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is the proxy's address as the proxy variables want it.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// CACert returns the per-launch CA certificate in PEM, nil when there are
// no bindings and so nothing is intercepted.
func (p *Proxy) CACert() []byte {
	if p.ca == nil {
		return nil
	}
	return append([]byte(nil), p.ca.certPEM...)
}

// Close stops the proxy: its listener, every connection it serves, and its
// tunnels.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	conns := p.hijacked
	p.hijacked = map[net.Conn]bool{}
	p.mu.Unlock()
	err := p.front.Close()
	p.inner.Close()
	for c := range conns {
		c.Close()
	}
	p.transport.CloseIdleConnections()
	return err
}

// track remembers a hijacked connection so that Close can end it; it
// returns false (and closes c) once the proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.hijacked[c] = true
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.hijacked, c)
	p.mu.Unlock()
}

// target is where a request goes.
type target struct {
	host string
	port int
	tls  bool
}

func (t target) String() string { return hostPort(t.host, t.port) }

type targetKey struct{}

// serveFront serves the proxy's own listener: CONNECT and absolute-form
// http:// requests.
func (p *Proxy) serveFront(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.connect(w, r)
		return
	}
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "llms credential proxy: send absolute-form http:// requests, or CONNECT for https", http.StatusBadRequest)
		return
	}
	t, ref := p.parseTarget(r.URL.Host, 80)
	if ref != nil {
		p.refuse(w, ref)
		return
	}
	p.serve(w, r, t)
}

// serveInner serves the requests inside an intercepted tunnel.
func (p *Proxy) serveInner(w http.ResponseWriter, r *http.Request) {
	t, ok := r.Context().Value(targetKey{}).(target)
	if !ok {
		http.Error(w, "llms credential proxy: no tunnel", http.StatusInternalServerError)
		return
	}
	host, port := r.Host, t.port
	if h, pt, err := net.SplitHostPort(r.Host); err == nil {
		host = h
		port, _ = strconv.Atoi(pt)
	}
	if canonicalHost(host) != t.host || port != t.port {
		p.refuse(w, &refusal{t: t, status: http.StatusMisdirectedRequest, rule: RuleMisdirected,
			reason: fmt.Sprintf("the Host header names %q but the tunnel is to %s", r.Host, t)})
		return
	}
	p.serve(w, r, t)
}

// parseTarget reads an authority (host:port, or host with def as the port)
// and applies the checks every target meets: no placeholder in it, egress
// allowed.
func (p *Proxy) parseTarget(authority string, def int) (target, *refusal) {
	host, portText, err := net.SplitHostPort(authority)
	if err != nil {
		host, portText = strings.TrimSuffix(strings.TrimPrefix(authority, "["), "]"), strconv.Itoa(def)
	}
	t := target{host: canonicalHost(host)}
	t.port, err = strconv.Atoi(portText)
	if keys := p.placeholdersIn(authority); len(keys) > 0 {
		return t, &refusal{t: t, status: http.StatusForbidden, rule: RuleInHost, keys: keys,
			reason: "a placeholder is in the host part of the address: it is never replaced there"}
	}
	if err != nil || t.port < 1 || t.port > 65535 || !validHost(t.host) {
		return t, &refusal{t: t, status: http.StatusBadRequest, rule: RuleEgress,
			reason: fmt.Sprintf("%q is not a host and port", authority)}
	}
	if p.cfg.Allowed != nil && !p.cfg.Allowed(t.host, t.port) {
		return t, &refusal{t: t, status: http.StatusForbidden, rule: RuleEgress,
			reason: fmt.Sprintf("%s is not on the egress allow-list", t)}
	}
	return t, nil
}

// connect answers CONNECT: a bound host's tunnel is intercepted, any other
// allowed host's is passed through as it is.
func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	t, ref := p.parseTarget(r.Host, 443)
	if ref != nil {
		p.refuse(w, ref)
		return
	}
	_, intercept := p.bound[t.String()]
	var upstream net.Conn
	if !intercept {
		c, err := p.dial(r.Context(), "tcp", t.String())
		if err != nil {
			p.upstreamError(w, t, err)
			return
		}
		upstream = c
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		if upstream != nil {
			upstream.Close()
		}
		return
	}
	if !p.track(conn) {
		if upstream != nil {
			upstream.Close()
		}
		return
	}
	var client net.Conn = conn
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		client = &prefixConn{Conn: conn, prefix: append([]byte(nil), early...)}
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		p.untrack(conn)
		if upstream != nil {
			upstream.Close()
		}
		return
	}
	if !intercept {
		p.tunnel(conn, client, upstream)
		return
	}
	t.tls = true
	tc := tls.Server(client, &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return p.ca.leaf(t.host)
		},
	})
	ic := &interceptConn{Conn: tc, target: t, done: func() { p.untrack(conn) }}
	if !p.innerLn.push(ic) {
		ic.Close()
	}
}

// tunnel copies both ways until either side ends.
func (p *Proxy) tunnel(conn, client, upstream net.Conn) {
	defer p.untrack(conn)
	done := make(chan struct{}, 2)
	go func() {
		io.Copy(upstream, client)
		if tc, ok := upstream.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	go func() {
		io.Copy(conn, upstream)
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	<-done
	<-done
	conn.Close()
	upstream.Close()
}

// prefixConn is a connection with bytes already read from it in front.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// interceptConn is a TLS connection of an intercepted tunnel, with where
// it leads.
type interceptConn struct {
	net.Conn
	target target
	once   sync.Once
	done   func()
}

func (c *interceptConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.done)
	return err
}

// connListener hands the inner server the connections connect pushes.
type connListener struct {
	addr   net.Addr
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *connListener) push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.closed:
		return false
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }
