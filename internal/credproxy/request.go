package credproxy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// A refusal is a request the proxy answers itself, with a reason that
// names hosts, rules and secrets, never a value.
type refusal struct {
	t      target
	status int
	rule   string
	keys   []string
	reason string
}

// refuse answers with the refusal's status and a body naming the rule, and
// reports it.
func (p *Proxy) refuse(w http.ResponseWriter, ref *refusal) {
	if p.cfg.Audit != nil {
		p.cfg.Audit(Refusal{Host: ref.t.host, Port: ref.t.port, Rule: ref.rule, Keys: ref.keys, Reason: ref.reason})
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Llms-Proxy-Rule", ref.rule)
	w.Header().Set("Connection", "close")
	w.WriteHeader(ref.status)
	fmt.Fprintf(w, "llms credential proxy refused this request (rule %s): %s\n", ref.rule, ref.reason)
}

// upstreamError answers a request the proxy could not forward. A refusal
// by the dialer is a refusal; any other error is a 502 whose text is
// redacted, since an error may quote the URL it was asked for.
func (p *Proxy) upstreamError(w http.ResponseWriter, t target, err error) {
	var ref *refusal
	if errors.As(err, &ref) {
		p.refuse(w, ref)
		return
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadGateway)
	fmt.Fprintf(w, "llms credential proxy: %s: %s\n", t, p.redactString(err.Error()))
}

func (r *refusal) Error() string { return r.reason }

// unescapeValid decodes each valid %XX escape and '+' in s and leaves an
// invalid escape as it is: a server decodes each parameter on its own, so
// one bad escape must not hide an encoded placeholder beside it.
func unescapeValid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '+':
			b.WriteByte(' ')
		case s[i] == '%' && i+2 < len(s) && validEscape(s[i+1:i+3]):
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(v))
			i += 2
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func validEscape(hh string) bool {
	_, err := strconv.ParseUint(hh, 16, 8)
	return err == nil
}

// placeholdersIn returns the keys of the placeholders s holds.
func (p *Proxy) placeholdersIn(s string) []string {
	if !strings.Contains(s, PlaceholderPrefix) {
		return nil
	}
	var keys []string
	for _, b := range p.all {
		if strings.Contains(s, b.Placeholder) && !slices.Contains(keys, b.Key) {
			keys = append(keys, b.Key)
		}
	}
	return keys
}

// hopHeaders are the connection's own and go no further (RFC 9110 7.6.1),
// with the proxy's own credentials.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization",
	"Proxy-Authenticate", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// serve forwards one request to t and relays the answer.
func (p *Proxy) serve(w http.ResponseWriter, r *http.Request, t target) {
	out, ref := p.prepare(r, t)
	if ref != nil {
		p.refuse(w, ref)
		return
	}
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		p.upstreamError(w, t, err)
		return
	}
	defer resp.Body.Close()
	p.respond(w, resp, t)
}

// scan is what one request carries: the placeholders found and where.
type scan struct {
	keys []string
	// signed: the request carries a signature over its contents, which
	// a substitution would break.
	signed bool
}

func (s *scan) add(keys []string) {
	for _, k := range keys {
		if !slices.Contains(s.keys, k) {
			s.keys = append(s.keys, k)
		}
	}
}

// prepare checks a request and builds the one that goes upstream, with
// every placeholder bound to t replaced.
func (p *Proxy) prepare(r *http.Request, t target) (*http.Request, *refusal) {
	if r.Header.Get("Upgrade") != "" {
		return nil, &refusal{t: t, status: http.StatusNotImplemented, rule: RuleUpgrade,
			reason: "protocol upgrades (WebSocket, h2c) are not relayed"}
	}
	bound := p.bound[t.String()]
	var found scan

	uri := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		uri += "?" + r.URL.RawQuery
	}
	found.add(p.placeholdersIn(uri))
	if keys := p.placeholdersIn(unescapeValid(uri)); len(keys) > len(p.placeholdersIn(uri)) {
		return nil, &refusal{t: t, status: http.StatusBadRequest, rule: RuleEncoded, keys: keys,
			reason: "a placeholder is percent-encoded in the URL; write it as it is (it needs no escaping)"}
	}
	for name, vals := range r.Header {
		for _, v := range vals {
			found.add(p.placeholdersIn(name))
			found.add(p.placeholdersIn(v))
			if name == "Authorization" {
				if user, pass, ok := basicAuth(v); ok {
					found.add(p.placeholdersIn(user + ":" + pass))
				}
			}
		}
	}
	found.signed = isSigned(r)

	body, ref := p.readBody(r, t, bound, &found)
	if ref != nil {
		return nil, ref
	}
	if len(found.keys) > 0 {
		var elsewhere []string
		for _, k := range found.keys {
			if !slices.ContainsFunc(bound, func(b *Binding) bool { return b.Key == k }) {
				elsewhere = append(elsewhere, k)
			}
		}
		if len(elsewhere) > 0 {
			return nil, &refusal{t: t, status: http.StatusForbidden, rule: RuleOtherHost, keys: elsewhere,
				reason: fmt.Sprintf("the placeholder for %s may go only to %s; this request is to %s",
					strings.Join(elsewhere, ", "), p.boundTo(elsewhere), t)}
		}
		// Port 443 is HTTPS's: a value bound there is not sent in
		// cleartext because the program wrote http://.
		if !t.tls && t.port == 443 {
			return nil, &refusal{t: t, status: http.StatusForbidden, rule: RulePlaintext, keys: found.keys,
				reason: fmt.Sprintf("a placeholder in plain HTTP to %s, an HTTPS port: use https://, so that the value is not sent in cleartext", t)}
		}
		if found.signed {
			return nil, &refusal{t: t, status: http.StatusForbidden, rule: RuleSigned, keys: found.keys,
				reason: "the request is signed (AWS SigV4, HTTP message signatures, OAuth 1): a signature covers the placeholder, so no substitution can keep it valid; give such a program the secret with --inject"}
		}
	}

	scheme := "http"
	if t.tls {
		scheme = "https"
	}
	u, err := url.Parse(scheme + "://" + t.String() + replaceAll(uri, bound, plain))
	if err != nil {
		return nil, &refusal{t: t, status: http.StatusBadRequest, rule: RuleEncoded,
			reason: "the request target is not a valid URL"}
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), body)
	if err != nil {
		return nil, &refusal{t: t, status: http.StatusBadRequest, rule: RuleEncoded,
			reason: "the request cannot be forwarded"}
	}
	out.URL = u
	out.Host = r.Host
	if !t.tls {
		out.Host = u.Host
	}
	if body == nil {
		out.Body, out.ContentLength = r.Body, r.ContentLength
		if r.ContentLength == 0 {
			out.Body = http.NoBody
		}
	}
	for name, vals := range r.Header {
		if slices.Contains(hopHeaders, name) {
			continue
		}
		for _, v := range vals {
			if name == "Authorization" {
				v = replaceBasic(v, bound)
			}
			out.Header.Add(name, replaceAll(v, bound, plain))
		}
	}
	if len(bound) > 0 {
		// A bound host's answer is redacted, which a compressed body
		// would slip past.
		out.Header.Set("Accept-Encoding", "identity")
	}
	return out, nil
}

// boundTo names where keys may go.
func (p *Proxy) boundTo(keys []string) string {
	var where []string
	for _, b := range p.all {
		if slices.Contains(keys, b.Key) {
			where = append(where, hostPort(b.Host, b.Port))
		}
	}
	slices.Sort(where)
	return strings.Join(slices.Compact(where), ", ")
}

// isSigned recognises the signature schemes a substitution would break.
func isSigned(r *http.Request) bool {
	auth := strings.ToUpper(r.Header.Get("Authorization"))
	for _, scheme := range []string{"AWS4-HMAC-SHA256", "AWS ", "OAUTH ", "HMAC", "SIGNATURE "} {
		if strings.HasPrefix(auth, scheme) {
			return true
		}
	}
	for name := range r.Header {
		if strings.HasPrefix(name, "X-Amz-") || name == "Signature" || name == "Signature-Input" {
			return true
		}
	}
	q := strings.ToLower(r.URL.RawQuery)
	return strings.Contains(q, "x-amz-signature") || strings.Contains(q, "oauth_signature")
}

// basicAuth decodes "Basic base64(user:pass)".
func basicAuth(v string) (user, pass string, ok bool) {
	scheme, enc, found := strings.Cut(v, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	return user, pass, ok
}

// replaceBasic swaps placeholders inside Basic credentials and encodes
// them again; any other Authorization value is returned as it is.
func replaceBasic(v string, bound []*Binding) string {
	user, pass, ok := basicAuth(v)
	if !ok {
		return v
	}
	cred := replaceAll(user+":"+pass, bound, plain)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
}

// An encoder writes a value as it must appear where the placeholder was.
type encoder func([]byte) []byte

func plain(v []byte) []byte { return v }

func jsonString(v []byte) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(string(v))
	s := bytes.TrimSpace(buf.Bytes())
	return s[1 : len(s)-1]
}

func formValue(v []byte) []byte { return []byte(url.QueryEscape(string(v))) }

func replaceAll(s string, bound []*Binding, enc encoder) string {
	if !strings.Contains(s, PlaceholderPrefix) {
		return s
	}
	for _, b := range bound {
		s = strings.ReplaceAll(s, b.Placeholder, string(enc(b.Value)))
	}
	return s
}

// readBody reads a body that must be substituted, and scans it. It returns
// nil when the body streams through as it is: no binding for t opts into
// bodies, or the body is of a type that is not substituted.
func (p *Proxy) readBody(r *http.Request, t target, bound []*Binding, found *scan) (io.Reader, *refusal) {
	if r.ContentLength == 0 || !slices.ContainsFunc(bound, func(b *Binding) bool { return b.Body }) {
		return nil, nil
	}
	enc := bodyEncoder(r.Header.Get("Content-Type"))
	if enc == nil {
		return nil, nil
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, &refusal{t: t, status: http.StatusUnsupportedMediaType, rule: RuleBody,
			reason: fmt.Sprintf("the body is compressed (%s); a body is substituted only uncompressed", ce)}
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, p.cfg.MaxBody+1))
	if err != nil {
		return nil, &refusal{t: t, status: http.StatusBadRequest, rule: RuleBody, reason: "the body could not be read"}
	}
	if int64(len(data)) > p.cfg.MaxBody {
		return nil, &refusal{t: t, status: http.StatusRequestEntityTooLarge, rule: RuleBody,
			reason: fmt.Sprintf("the body is larger than %d bytes, the most read for substitution", p.cfg.MaxBody)}
	}
	s := string(data)
	found.add(p.placeholdersIn(s))
	var subst []*Binding
	for _, b := range bound {
		if b.Body {
			subst = append(subst, b)
		}
	}
	return strings.NewReader(replaceAll(s, subst, enc)), nil
}

// bodyEncoder picks how a value is written into a body of content type ct;
// nil for a type that is not substituted.
func bodyEncoder(ct string) encoder {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return jsonString
	case mt == "application/x-www-form-urlencoded":
		return formValue
	case strings.HasPrefix(mt, "text/"):
		return plain
	}
	return nil
}
