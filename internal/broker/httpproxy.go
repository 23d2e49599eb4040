package broker

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/credproxy"
	"github.com/llm-secrets/llms/internal/names"
	"github.com/llm-secrets/llms/internal/redact"
)

// HTTPBinding asks for secret Secret to go to Host:Port, on the wire,
// wherever the program writes the placeholder it finds in Var
// (internal/credproxy). Body opts request bodies in.
type HTTPBinding struct {
	Var, Secret string
	Host        string
	Port        int
	Body        bool
}

// ParseHTTPBinding reads "VAR=KEY@HOST[:PORT]" ("KEY@HOST" is short for
// "KEY=KEY@HOST"); the port is 443 when none is given.
func ParseHTTPBinding(spec string, body bool) (HTTPBinding, error) {
	left, where, ok := strings.Cut(spec, "@")
	if !ok || left == "" || where == "" {
		return HTTPBinding{}, fmt.Errorf("%w: --http %q: want VAR=KEY@HOST[:PORT]", ErrBadRequest, spec)
	}
	v, k, ok := strings.Cut(left, "=")
	if !ok {
		k = v
	}
	host, port, err := credproxy.ParseTarget(where)
	if err != nil {
		return HTTPBinding{}, fmt.Errorf("%w: --http %v", ErrBadRequest, err)
	}
	return HTTPBinding{Var: v, Secret: k, Host: host, Port: port, Body: body}, nil
}

// String is "VAR=SECRET@HOST:PORT", an IPv6 host in brackets.
func (h HTTPBinding) String() string {
	return h.Var + "=" + h.Secret + "@" + net.JoinHostPort(h.Host, strconv.Itoa(h.Port))
}

// HTTPBindingsEnv names the variable in which a launcher tells the program
// its bindings, names only: "VAR=SECRET@HOST:PORT" joined with ",".
const HTTPBindingsEnv = "LLMS_HTTP_BINDINGS"

// DescribeHTTPBindings is the value of HTTPBindingsEnv for bindings.
func DescribeHTTPBindings(bindings []HTTPBinding) string {
	s := make([]string, len(bindings))
	for i, h := range bindings {
		s[i] = h.String()
	}
	return strings.Join(s, ",")
}

// ProxyRequest starts a credential proxy for a program.
type ProxyRequest struct {
	HTTP []HTTPBinding
	// Allowed decides egress (nil: every host; see credproxy.Config), and
	// DialAllowed each address a host resolves to (nil: names resolving
	// to loopback addresses are refused).
	Allowed     func(host string, port int) bool
	DialAllowed func(host string, ip netip.Addr, port int) bool
	// Listener is the proxy's, from ListenHTTPProxy (nil: one is opened).
	// StartHTTPProxy takes it over, and closes it when it fails.
	Listener net.Listener
	// Refused, when set, is told of each refusal's destination first and
	// says whether it gets an http-refused line: a launch bounds those
	// lines as it bounds its refused connects.
	Refused func(dest string) bool
	// UpstreamCA is PEM of CAs trusted upstream besides the system's.
	UpstreamCA []byte
	// BundleDir is where the CA bundle for the program is written: a
	// directory it can read and not write. "" makes a private temporary
	// one, removed by Close.
	BundleDir string
	// Program is what the values are granted for, as caveats and policy
	// judge it: the agent's program, for a launch.
	Program string
	// TokenID names, in the http-bind and http-refused lines, the token
	// of the program the proxy serves (the agent's).
	TokenID string
}

// ListenHTTPProxy opens a proxy's listener, for a launch whose sandbox
// rules name its port before the proxy starts.
func ListenHTTPProxy() (net.Listener, error) { return credproxy.Listen() }

// StartHTTPProxy is a launch's proxy (agent mode): the launcher, the human,
// is the caller, and each binding is decided as an exec of Program would
// be — policy, audit — but the secrets do not enter the agent's token:
// the agent holds placeholders and cannot have a bound value injected
// into a program of its own. Without bindings it only decides egress.
// Close stops it.
func (b *Broker) StartHTTPProxy(c *Caller, req ProxyRequest) (*HTTPProxy, error) {
	h, err := b.startHTTPProxy(c, req)
	if err != nil && req.Listener != nil {
		req.Listener.Close()
	}
	return h, err
}

func (b *Broker) startHTTPProxy(c *Caller, req ProxyRequest) (*HTTPProxy, error) {
	if err := checkHTTPBindings(req.HTTP, map[string]bool{}); err != nil {
		return nil, err
	}
	var values [][]byte
	if len(req.HTTP) > 0 {
		a := access{op: caveat.OpExec, caller: c, program: req.Program, http: true}
		for _, h := range req.HTTP {
			a.secrets = append(a.secrets, h.Secret)
		}
		var err error
		if _, values, err = b.grantValues(a); err != nil {
			return nil, err
		}
	}
	var known []redact.Secret
	for i, h := range req.HTTP {
		known = append(known, redact.Secret{Name: h.Secret, Value: values[i]})
	}
	return b.startProxy(c, req.TokenID, req, values, known)
}

// HTTPProxy is a running credential proxy. It holds the values; it gives
// out only placeholders and addresses.
type HTTPProxy struct {
	p       *credproxy.Proxy
	bundle  string
	tempDir string
}

// Env is what the program's environment gets: each binding's placeholder
// and the proxy and CA variables.
func (h *HTTPProxy) Env() []string { return h.p.Env(h.bundle) }

// Addr is the proxy's listening address (127.0.0.1:PORT).
func (h *HTTPProxy) Addr() string { return h.p.Addr() }

// Close stops the proxy and removes the bundle it wrote.
func (h *HTTPProxy) Close() error {
	err := h.p.Close()
	if h.tempDir != "" {
		os.RemoveAll(h.tempDir)
	} else if h.bundle != "" {
		os.Remove(h.bundle)
	}
	return err
}

// checkHTTPBindings validates the variables of bindings next to injected
// ones (seen), as exec validates an injection's.
func checkHTTPBindings(bindings []HTTPBinding, seen map[string]bool) error {
	for _, h := range bindings {
		if !names.EnvVar(h.Var) {
			return fmt.Errorf("%w: %q is not a valid environment variable name", ErrBadRequest, h.Var)
		}
		if seen[h.Var] {
			return fmt.Errorf("%w: variable %s is given twice", ErrBadRequest, h.Var)
		}
		if err := checkInjectable(h.Var); err != nil {
			return err
		}
		for _, n := range credproxy.EnvNames() {
			if strings.EqualFold(n, h.Var) {
				return fmt.Errorf("%w: %s is one of the proxy's own variables", ErrBadRequest, h.Var)
			}
		}
		if h.Host == "" || h.Port < 1 || h.Port > 65535 {
			return fmt.Errorf("%w: the binding of %s names no host and port", ErrBadRequest, h.Var)
		}
		seen[h.Var] = true
	}
	return nil
}

// startProxy starts the proxy for granted values (values[i] is bindings[i]'s)
// and records one http-bind line per binding first; a refusal of the
// proxy's becomes an http-refused line. Its reason quotes the host the
// program asked for, which is masked with every value the program may
// hold (known), in any case: the proxy lower-cases host names.
func (b *Broker) startProxy(c *Caller, tokenID string, req ProxyRequest, values [][]byte, known []redact.Secret) (*HTTPProxy, error) {
	mask := maskAnyCase(known)
	cfg := credproxy.Config{Allowed: req.Allowed, DialAllowed: req.DialAllowed, Listener: req.Listener, ExtraRootsPEM: req.UpstreamCA}
	if tokenID == "" {
		tokenID = req.TokenID
	}
	var lines []audit.Record
	for i, h := range req.HTTP {
		cfg.Bindings = append(cfg.Bindings, credproxy.Binding{Var: h.Var, Key: h.Secret, Host: h.Host, Port: h.Port,
			Placeholder: credproxy.NewPlaceholder(h.Secret), Value: values[i], Body: h.Body})
		reason := h.String()
		if h.Body {
			reason += ", bodies too"
		}
		lines = append(lines, audit.Record{Event: "http-bind", Decision: "allow", Secrets: []string{h.Secret}, TokenID: tokenID,
			Reason: reason})
	}
	if err := b.recordAll(lines, c); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	cfg.Audit = func(r credproxy.Refusal) {
		if req.Refused != nil && !req.Refused(net.JoinHostPort(r.Host, strconv.Itoa(r.Port))) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		// An audit line that cannot be written cannot undo a refusal;
		// the request was refused either way.
		_ = b.record(audit.Record{Event: "http-refused", Decision: "deny", Secrets: r.Keys, TokenID: tokenID,
			Reason: mask(fmt.Sprintf("%s: %s", r.Rule, r.Reason))}, c)
	}
	p, err := credproxy.Start(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	h := &HTTPProxy{p: p}
	bundle, err := p.CABundle()
	if err != nil {
		p.Close()
		return nil, err
	}
	if bundle != nil {
		dir := req.BundleDir
		if dir == "" {
			if dir, err = os.MkdirTemp("", "llms-proxy-"); err != nil {
				p.Close()
				return nil, err
			}
			h.tempDir = dir
		}
		h.bundle = filepath.Join(dir, "llms-proxy-ca.pem")
		if err := writeNew(h.bundle, bundle); err != nil {
			h.bundle = ""
			h.Close()
			return nil, err
		}
	}
	return h, nil
}

// maskAnyCase returns a function that masks every form of each secret, and
// of its lower-case copy, in a string.
func maskAnyCase(secrets []redact.Secret) func(string) string {
	all := slices.Clone(secrets)
	for _, s := range secrets {
		all = append(all, redact.Secret{Name: s.Name, Value: bytes.ToLower(s.Value)})
	}
	r := redact.New(all)
	return func(s string) string {
		var buf bytes.Buffer
		w := r.NewWriter(&buf)
		w.Write([]byte(s))
		w.Close()
		return buf.String()
	}
}

// writeNew writes a file that must not exist yet: nothing already there,
// a link included, is followed or overwritten.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
