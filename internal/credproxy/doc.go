// Package credproxy is the credential proxy: a forward HTTP proxy on
// 127.0.0.1 that lets a program call an API with a placeholder in place of
// a secret, and puts the value in on the wire, only toward the host the
// value is bound to.
//
// It owns the listener, the per-launch CA that terminates TLS for bound
// hosts, the substitution of placeholders in requests, the redaction of
// the answers of bound hosts, and the variables a client needs to use it.
// It is given its bindings, values included, and an egress decision; it
// reads no store and decides no access: the broker authorizes each binding
// and starts the proxy (internal/archtest).
//
// What it does with a request:
//   - CONNECT to a host:port a value is bound to is intercepted: TLS is
//     terminated with a leaf certificate the per-launch CA signs (ECDSA
//     P-256, key only in memory, valid 7 days, name-constrained to the bound
//     hosts), and each request inside is handled like a plain one. CONNECT
//     to any other allowed host is a tunnel the proxy does not look into: a
//     placeholder sent through it reaches that host as a placeholder, which
//     is worth nothing there. Absolute-form http:// requests are handled
//     here, to any host.
//   - Placeholders are looked for in the request target, every header, the
//     credentials inside Basic authorization, and, for a binding that opts
//     in, the body (JSON, form or text, uncompressed, at most MaxBody
//     bytes). One bound to this host:port is replaced by its value (in a
//     body written as the body's type needs: a JSON string's escapes, form
//     encoding); one bound elsewhere refuses the request.
//   - Refused, with a 403 (or 4xx) body naming the rule and reported to
//     Audit: a host the egress decision refuses; a placeholder in the host
//     part, or percent-encoded in the URL; a placeholder in a signed request
//     (AWS SigV4, HTTP message signatures, OAuth 1), which no substitution
//     can keep valid; a protocol upgrade; a Host header that is not the
//     tunnel's; a name that resolves to a loopback address (DNS
//     rebinding); the proxy itself. A header block over 64 KiB is refused
//     by the HTTP server (431).
//   - Nothing is followed for the client: a redirect is relayed as it is,
//     and a Location to another host carries the placeholder, not the
//     value, to wherever the client goes next.
//   - The answer of a bound host is asked for uncompressed and passed
//     through the same redactor as exec output: each header value whole,
//     the body as a stream released by position and after 20 ms without
//     data, never by content. A compressed answer is refused (502).
//     Redaction cannot catch what redaction cannot catch anywhere
//     (internal/redact): a value the host transformed.
//
// Upstream certificates are verified against the system roots plus any
// extra PEM given; HTTP/1.1 and HTTP/2 go upstream over a keep-alive pool.
// Towards the client the proxy speaks HTTP/1.1 only.
package credproxy
