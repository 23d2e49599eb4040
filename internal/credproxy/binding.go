package credproxy

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// A Binding lets requests to Host:Port carry Value where the client wrote
// Placeholder.
type Binding struct {
	Var  string // the child's variable that holds Placeholder
	Key  string // the secret's name: audit lines and [REDACTED:Key]
	Host string // lower case, no trailing dot: a DNS name or an IP literal
	Port int
	// Placeholder is what the client holds instead of Value (see
	// NewPlaceholder).
	Placeholder string
	Value       []byte
	// Body opts this binding into substitution in request bodies (JSON,
	// form and text, bounded). Off, a body is passed on as it is.
	Body bool
}

// PlaceholderPrefix starts every placeholder, so that one is recognisable in
// a log or an error message as what it is.
const PlaceholderPrefix = "llms-placeholder-"

// NewPlaceholder returns a fresh placeholder for secret key: the prefix, the
// key, and 128 bits from crypto/rand in hex. It names the secret, never the
// value, and only characters that no URL, header, JSON or form encoder
// escapes, so that it reaches the proxy as it was written.
func NewPlaceholder(key string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return PlaceholderPrefix + key + "-" + hex.EncodeToString(b)
}

// ParseTarget reads "HOST[:PORT]" (an IPv6 literal in brackets): the host
// lower-cased without a trailing dot, the port 443 when none is given.
func ParseTarget(s string) (host string, port int, err error) {
	host, portText := s, ""
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		if h, p, e := net.SplitHostPort(s); e == nil {
			host, portText = h, p
		} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			host = s[1 : len(s)-1]
		} else {
			return "", 0, fmt.Errorf("%q: want HOST[:PORT]", s)
		}
	}
	port = 443
	if portText != "" {
		port, err = strconv.Atoi(portText)
		if err != nil || port < 1 || port > 65535 {
			return "", 0, fmt.Errorf("%q: the port must be a number from 1 to 65535", s)
		}
	}
	host = canonicalHost(host)
	if !validHost(host) {
		return "", 0, fmt.Errorf("%q: %q is not a host name or IP address", s, host)
	}
	return host, port, nil
}

func canonicalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// validHost accepts an IP literal or a DNS name of letters, digits, '-'
// and '.', no label empty: nothing a URL or a certificate would read
// differently.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
