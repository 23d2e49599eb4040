package egress

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// List is a parsed allow-list. The zero List allows nothing.
type List struct {
	rules []Rule
}

// Parse parses specs — HOST[:PORT] rules and @PRESET names — into a List.
// It refuses the whole list at the first bad entry, naming it.
func Parse(specs []string) (*List, error) {
	l := &List{}
	for _, s := range specs {
		if name, ok := strings.CutPrefix(s, "@"); ok {
			hosts, known := Presets[name]
			if !known {
				return nil, fmt.Errorf("%w %q: no preset %q (presets: @%s)", ErrBadSpec, s, name, strings.Join(PresetNames(), ", @"))
			}
			for _, h := range hosts {
				r, err := ParseSpec(h)
				if err != nil {
					return nil, err // a preset of ours: tests keep them valid
				}
				l.add(r)
			}
			continue
		}
		r, err := ParseSpec(s)
		if err != nil {
			return nil, err
		}
		l.add(r)
	}
	return l, nil
}

func (l *List) add(r Rule) {
	if !slices.Contains(l.rules, r) {
		l.rules = append(l.rules, r)
	}
}

// Rules are the list's rules in canonical spelling, in order, presets
// expanded: what a launch prints and audits.
func (l *List) Rules() []string {
	out := make([]string, len(l.rules))
	for i, r := range l.rules {
		out[i] = r.String()
	}
	return out
}

// AddressRules are the IP-literal rules, in canonical spelling: the only
// ones that allow a direct connect.
func (l *List) AddressRules() []string {
	var out []string
	for _, r := range l.rules {
		if r.ip.IsValid() {
			out = append(out, r.String())
		}
	}
	return out
}

// Allowed reports whether a request to host:port may go out: host as a
// request names it (a DNS name, or an IP literal without brackets), port
// 1–65535. Names match case-insensitively and with one trailing dot
// ignored, as DNS does; an IP literal matches only IP rules, a name only
// name rules. Anything that is neither (an empty host, a name with
// characters DNS names do not have, a zoned address) is refused.
func (l *List) Allowed(host string, port int) bool {
	if l == nil || port < 1 || port > 65535 {
		return false
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Zone() == "" && l.AllowedAddr(netip.AddrPortFrom(ip, uint16(port)))
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if checkName(name) != nil {
		return false
	}
	for _, r := range l.rules {
		if r.name == "" || (r.port != 0 && r.port != port) {
			continue
		}
		if r.glob && strings.HasSuffix(name, "."+r.name) || !r.glob && name == r.name {
			return true
		}
	}
	return false
}

// AllowedAddr reports whether an IP-literal rule allows ap. An IPv4
// address written as IPv4-mapped IPv6 (::ffff:a.b.c.d) is that IPv4
// address. Name rules never match: an allowed name does not allow a
// direct connection to whatever it resolves to.
func (l *List) AllowedAddr(ap netip.AddrPort) bool {
	if l == nil || ap.Port() == 0 {
		return false
	}
	ip := ap.Addr().Unmap()
	if ip.Zone() != "" {
		return false
	}
	for _, r := range l.rules {
		if r.ip.IsValid() && r.ip == ip && (r.port == 0 || r.port == int(ap.Port())) {
			return true
		}
	}
	return false
}

// DialAllowed reports whether the proxy, relaying a request to host:port
// that Allowed let through, may dial ip for it. For an IP-literal host,
// ip must be that address. For a name, ip may be any address but this
// host's own (Local), a link-local one (169.254.169.254 is the cloud
// metadata service) or a multicast one, unless that address:port is
// allowed as an IP literal itself: an allowed name that resolves — or is
// rebound — to 127.0.0.1 or to the launcher's own listeners reaches
// nothing.
func (l *List) DialAllowed(host string, ip netip.Addr, port int) bool {
	if !l.Allowed(host, port) || !ip.IsValid() {
		return false
	}
	ip = ip.Unmap()
	ap := netip.AddrPortFrom(ip, uint16(port))
	if lit, err := netip.ParseAddr(host); err == nil {
		return lit.Unmap() == ip
	}
	if l.AllowedAddr(ap) {
		return true
	}
	return !(Local(ip) || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast())
}
