package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Rule is one parsed allow-list entry.
type Rule struct {
	name string     // a DNS name, or the suffix of a glob (without "*.")
	glob bool       // "*." + name: names with at least one more label
	ip   netip.Addr // an IP literal (name is then "")
	port int        // 0: every port
}

// String is the rule in its canonical spelling, as Parse accepts it.
func (r Rule) String() string {
	var host string
	switch {
	case r.ip.Is6():
		host = "[" + r.ip.String() + "]"
	case r.ip.IsValid():
		host = r.ip.String()
	case r.glob:
		host = "*." + r.name
	default:
		host = r.name
	}
	if r.port != 0 {
		host += ":" + strconv.Itoa(r.port)
	}
	return host
}

// ErrBadSpec wraps every refusal of a spec.
var ErrBadSpec = errors.New("allowed host")

// maxName is the longest DNS name (RFC 1035, without the trailing dot).
const maxName = 253

// ParseSpec parses one HOST[:PORT] rule (see the package doc). A preset
// ("@npm") is expanded by Parse, not here.
func ParseSpec(spec string) (Rule, error) {
	bad := func(format string, a ...any) (Rule, error) {
		return Rule{}, fmt.Errorf("%w %q: %s", ErrBadSpec, spec, fmt.Sprintf(format, a...))
	}
	if spec == "" {
		return bad("empty")
	}
	host, port := spec, ""
	if strings.HasPrefix(spec, "[") {
		end := strings.IndexByte(spec, ']')
		if end < 0 {
			return bad("an IPv6 address needs its closing ]")
		}
		host, port = spec[1:end], spec[end+1:]
		if port != "" {
			if port[0] != ':' {
				return bad("only :PORT may follow ]")
			}
			port = port[1:]
			if port == "" {
				return bad("an empty port")
			}
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() {
			return bad("[…] holds an IPv6 address")
		}
		if ip.Zone() != "" {
			return bad("no zone (%%%s): a link-local address names no host of the internet", ip.Zone())
		}
		if ip.Is4In6() {
			return bad("write the IPv4 address as such: %s", ip.Unmap())
		}
		if ip.String() != host {
			return bad("write it [%s]", ip)
		}
		r := Rule{ip: ip}
		return withPort(r, port, bad)
	}
	if strings.Count(spec, ":") > 1 {
		return bad("an IPv6 address goes in brackets: [ADDRESS] or [ADDRESS]:PORT")
	}
	if h, p, ok := strings.Cut(spec, ":"); ok {
		host, port = h, p
		if port == "" {
			return bad("an empty port")
		}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.String() != host {
			return bad("write it %s", ip)
		}
		return withPort(Rule{ip: ip}, port, bad)
	}
	r := Rule{name: host}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		r.name, r.glob = rest, true
	}
	if err := checkName(r.name); err != nil {
		return bad("%v", err)
	}
	if r.glob && !strings.Contains(r.name, ".") {
		return bad("a glob must keep at least two labels after *. (*.%s would allow every name under .%s)", r.name, r.name)
	}
	return withPort(r, port, bad)
}

func withPort(r Rule, port string, bad func(string, ...any) (Rule, error)) (Rule, error) {
	if port == "" {
		return r, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return bad("the port must be a number from 1 to 65535, without sign or leading zeros")
	}
	r.port = n
	return r, nil
}

// checkName accepts a DNS name in its canonical form: lower-case ASCII
// labels of letters, digits and inner hyphens, 1 to 63 bytes each, at
// most 253 in all, no trailing dot, and a last label that is not a number
// (resolvers read "1.2.3" or "0x7f.1" as an IPv4 address).
func checkName(name string) error {
	if name == "" {
		return errors.New("no host name")
	}
	if len(name) > maxName {
		return fmt.Errorf("longer than %d bytes", maxName)
	}
	if strings.HasSuffix(name, ".") {
		return fmt.Errorf("no trailing dot: write %s", strings.TrimRight(name, "."))
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" {
			return errors.New("an empty label (two dots, or a leading dot)")
		}
		if len(l) > 63 {
			return errors.New("a label longer than 63 bytes")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("the label %q starts or ends with a hyphen", l)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-':
			case 'A' <= c && c <= 'Z':
				return fmt.Errorf("write it in lower case: %s", strings.ToLower(name))
			case c == '*':
				return errors.New("a glob is * as the whole first label, followed by a dot: *.example.com")
			case c >= 0x80:
				return errors.New("write an international name in its ASCII (xn--) form")
			default:
				return fmt.Errorf("the character %q is not allowed in a host name", c)
			}
		}
	}
	if numeric(labels[len(labels)-1]) {
		return errors.New("a name whose last label is a number is read as an IPv4 address: write the address in dotted decimal")
	}
	return nil
}

// numeric: all decimal digits, or a 0x hexadecimal number — what
// inet_aton and URL parsers take as part of an IPv4 address.
func numeric(label string) bool {
	if h, ok := strings.CutPrefix(label, "0x"); ok {
		label = h
		if label == "" {
			return true
		}
		for i := 0; i < len(label); i++ {
			if !strings.ContainsRune("0123456789abcdef", rune(label[i])) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(label); i++ {
		if label[i] < '0' || label[i] > '9' {
			return false
		}
	}
	return true
}
