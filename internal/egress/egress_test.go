package egress

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestParseSpecCanonical(t *testing.T) {
	for _, s := range []string{
		"api.github.com", "api.github.com:443", "*.github.com", "*.github.com:8443",
		"localhost", "db", "127.0.0.2:5432", "10.0.0.1", "[::1]", "[::1]:8080",
		"[2001:db8::1]:443", "xn--bcher-kva.example", "a-b.c-d.example", "0.0.0.0",
		"1a.example", "example.0xg", // a last label that is not a number
	} {
		r, err := ParseSpec(s)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", s, err)
			continue
		}
		if r.String() != s {
			t.Errorf("ParseSpec(%q).String() = %q", s, r.String())
		}
	}
}

func TestParseSpecRefuses(t *testing.T) {
	for _, c := range []struct{ spec, says string }{
		{"", "empty"},
		{"API.github.com", "lower case: api.github.com"},
		{"api.github.com.", "no trailing dot"},
		{"api..github.com", "empty label"},
		{".github.com", "empty label"},
		{"*.com", "at least two labels"},
		{"*", "glob"},
		{"example.0x", "IPv4"},
		{"*.", "no host name"},
		{"**.github.com", "glob"},
		{"*github.com", "glob"},
		{"api.*.com", "glob"},
		{"a.*", "glob"},
		{"-a.example", "hyphen"},
		{"a-.example", "hyphen"},
		{"a_b.example", "not allowed"},
		{"bücher.example", "xn--"},
		{"a.example:", "empty port"},
		{"a.example:0", "port"},
		{"a.example:65536", "port"},
		{"a.example:+443", "port"},
		{"a.example:0443", "port"},
		{"a.example:https", "port"},
		{"a.example:443:1", "brackets"},
		{"::1", "brackets"},
		{"[::1", "closing ]"},
		{"[::1]443", "only :PORT"},
		{"[::1]:", "empty port"},
		{"[127.0.0.1]", "IPv6"},
		{"[fe80::1%eth0]", "zone"},
		{"[::ffff:127.0.0.1]", "write the IPv4 address as such: 127.0.0.1"},
		{"[0:0::1]", "write it [::1]"},
		{"[2001:DB8::1]", "write it [2001:db8::1]"},
		{"1.2.3", "IPv4"},
		{"127.1", "IPv4"},
		{"0x7f.1", "IPv4"},
		{"a.0x7f", "IPv4"},
		{"example.123", "IPv4"},
		{"127.000.0.1", "IPv4"}, // netip refuses leading zeros: a name with a numeric last label
		{strings.Repeat("a", 64) + ".example", "63"},
		{strings.Repeat("a.", 127) + "ab", "253"},
		{"a b.example", "not allowed"},
		{"a/b.example", "not allowed"},
		{"user@a.example", "not allowed"},
	} {
		_, err := ParseSpec(c.spec)
		if err == nil {
			t.Errorf("ParseSpec(%q) accepted", c.spec)
			continue
		}
		if !errors.Is(err, ErrBadSpec) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("ParseSpec(%q) = %v, want an ErrBadSpec saying %q", c.spec, err, c.says)
		}
	}
}

func TestParsePresets(t *testing.T) {
	l, err := Parse([]string{"@npm", "api.anthropic.com", "@npm"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(l.Rules(), " "); got != "registry.npmjs.org:443 api.anthropic.com" {
		t.Errorf("rules = %q (a preset twice adds nothing)", got)
	}
	if got := strings.Join(l.AddressRules(), " "); got != "" {
		t.Errorf("address rules of a list of names: %q", got)
	}
	if l2, _ := Parse([]string{"a.example", "127.0.0.2:5432", "[::1]"}); strings.Join(l2.AddressRules(), " ") != "127.0.0.2:5432 [::1]" {
		t.Errorf("address rules: %q", l2.AddressRules())
	}
	if _, err := Parse([]string{"ok.example", "@nope"}); err == nil || !strings.Contains(err.Error(), "@npm") {
		t.Errorf("an unknown preset: %v, want the list of presets", err)
	}
	for name, hosts := range Presets {
		for _, h := range hosts {
			if r, err := ParseSpec(h); err != nil || r.String() != h || r.port != 443 {
				t.Errorf("preset %s: %q: %v", name, h, err)
			}
		}
	}
	for id, hosts := range agentHosts {
		for _, h := range hosts {
			if r, err := ParseSpec(h); err != nil || r.String() != h {
				t.Errorf("agent %s: %q: %v", id, h, err)
			}
		}
	}
	if h := AgentHosts("claude-code"); len(h) == 0 || h[0] != "api.anthropic.com:443" {
		t.Errorf("claude-code's hosts: %v", h)
	}
	if h := AgentHosts("unknown"); len(h) != 0 {
		t.Errorf("an unknown agent's hosts: %v", h)
	}
}

func TestAllowed(t *testing.T) {
	l, err := Parse([]string{"api.anthropic.com:443", "*.github.com", "127.0.0.2:5432", "[::1]:8080", "10.1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		host string
		port int
		want bool
	}{
		{"api.anthropic.com", 443, true},
		{"API.Anthropic.COM", 443, true},
		{"api.anthropic.com.", 443, true},
		{"api.anthropic.com..", 443, false},
		{"api.anthropic.com", 80, false},
		{"anthropic.com", 443, false},
		{"evil-api.anthropic.com", 443, false},
		{"api.anthropic.com.evil.example", 443, false},
		{"xapi.anthropic.com", 443, false},
		{"api.github.com", 443, true},
		{"a.b.github.com", 22, true},
		{"github.com", 443, false}, // *. needs one more label
		{"evilgithub.com", 443, false},
		{"github.com.evil.example", 443, false},
		{".github.com", 443, false},
		{"127.0.0.2", 5432, true},
		{"127.0.0.2", 5433, false},
		{"::ffff:127.0.0.2", 5432, true},
		{"127.0.0.1", 5432, false},
		{"::1", 8080, true},
		{"::1", 8081, false},
		{"10.1.2.3", 1, true},
		{"10.1.2.3", 0, false},
		{"10.1.2.3", 65536, false},
		{"fe80::1%eth0", 80, false},
		{"", 443, false},
		{"api.anthropic.com:443", 443, false},
		{"api.anthropic.com/x", 443, false},
		{"api%2eanthropic.com", 443, false},
		{"0x7f.1", 443, false},
	} {
		if got := l.Allowed(c.host, c.port); got != c.want {
			t.Errorf("Allowed(%q, %d) = %v, want %v", c.host, c.port, got, c.want)
		}
	}
	var none *List
	if none.Allowed("api.anthropic.com", 443) || (&List{}).Allowed("api.anthropic.com", 443) {
		t.Error("an empty list allows")
	}
}

func TestAllowedAddrOnlyIPRules(t *testing.T) {
	l, _ := Parse([]string{"localhost", "*.example.com", "127.0.0.2:5432", "[2001:db8::1]"})
	for _, c := range []struct {
		ap   string
		want bool
	}{
		{"127.0.0.2:5432", true},
		{"[::ffff:127.0.0.2]:5432", true},
		{"127.0.0.2:5431", false},
		{"127.0.0.1:5432", false}, // "localhost" is a name: no direct connect
		{"[2001:db8::1]:9", true},
		{"[2001:db8::2]:9", false},
	} {
		if got := l.AllowedAddr(netip.MustParseAddrPort(c.ap)); got != c.want {
			t.Errorf("AllowedAddr(%s) = %v, want %v", c.ap, got, c.want)
		}
	}
}

func TestDialAllowedRefusesRebinding(t *testing.T) {
	l, _ := Parse([]string{"api.example.com:443", "*.example.org", "127.0.0.2:5432", "10.9.9.9"})
	own := ownAddress(t)
	for _, c := range []struct {
		host string
		ip   string
		port int
		want bool
	}{
		{"api.example.com", "93.184.215.14", 443, true},
		{"api.example.com", "10.0.0.7", 443, true}, // a private (LAN) address that is not this host's
		{"api.example.com", "127.0.0.1", 443, false},
		{"api.example.com", "127.1.2.3", 443, false},
		{"api.example.com", "::1", 443, false},
		{"api.example.com", "::ffff:127.0.0.1", 443, false},
		{"api.example.com", "0.0.0.0", 443, false},
		{"api.example.com", "::", 443, false},
		{"api.example.com", "0.1.2.3", 443, false},
		{"api.example.com", "169.254.169.254", 443, false}, // cloud metadata
		{"api.example.com", "fe80::1", 443, false},
		{"api.example.com", "224.0.0.1", 443, false},
		{"api.example.com", "ff02::1", 443, false},
		{"api.example.com", own, 443, false}, // this host's LAN address
		{"api.example.com", "93.184.215.14", 80, false},
		{"other.example.com", "93.184.215.14", 443, false},
		{"x.example.org", "10.9.9.9", 22, true},
		{"x.example.org", "127.0.0.2", 5432, true}, // allowed as an IP literal itself
		{"x.example.org", "127.0.0.2", 5433, false},
		{"127.0.0.2", "127.0.0.2", 5432, true},
		{"127.0.0.2", "127.0.0.3", 5432, false},
		{"10.9.9.9", "10.9.9.9", 1, true},
	} {
		if c.ip == "" {
			continue
		}
		if got := l.DialAllowed(c.host, netip.MustParseAddr(c.ip), c.port); got != c.want {
			t.Errorf("DialAllowed(%q, %s, %d) = %v, want %v", c.host, c.ip, c.port, got, c.want)
		}
	}
	if l.DialAllowed("api.example.com", netip.Addr{}, 443) {
		t.Error("an invalid address is dialed")
	}
}

// ownAddress is a non-loopback address of one of this host's interfaces,
// or "" when it has none.
func ownAddress(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			if !Local(netip.MustParseAddr(n.IP.String())) {
				t.Errorf("Local(%s) = false for an address of this host", n.IP)
			}
			return n.IP.String()
		}
	}
	t.Log("no non-loopback address: the LAN-address case is skipped")
	return ""
}

func TestLocal(t *testing.T) {
	for _, c := range []struct {
		ip   string
		want bool
	}{
		{"127.0.0.1", true}, {"127.255.0.9", true}, {"::1", true}, {"::ffff:127.0.0.1", true},
		{"0.0.0.0", true}, {"::", true}, {"0.0.0.9", true},
		{"93.184.215.14", false}, {"2001:db8::1", false},
	} {
		if got := Local(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("Local(%s) = %v, want %v", c.ip, got, c.want)
		}
	}
}

// FuzzParseSpec: no input panics; an accepted spec is in its canonical
// spelling (String gives it back) and matches what it names.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"api.github.com:443", "*.github.com", "[::1]:8080", "127.0.0.2:5432", "@npm", "[fe80::1%eth0]", "0x7f.1", "A.b", "a..b", "*.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseSpec(s)
		if err != nil {
			if !errors.Is(err, ErrBadSpec) {
				t.Fatalf("ParseSpec(%q): an error that is not ErrBadSpec: %v", s, err)
			}
			return
		}
		if r.String() != s {
			t.Fatalf("ParseSpec(%q) accepted a spelling that is not canonical (%q)", s, r.String())
		}
		l := &List{rules: []Rule{r}}
		port := r.port
		if port == 0 {
			port = 443
		}
		switch {
		case r.ip.IsValid():
			if !l.Allowed(r.ip.String(), port) || !l.AllowedAddr(netip.AddrPortFrom(r.ip, uint16(port))) {
				t.Fatalf("%q does not allow its own address", s)
			}
		case r.glob:
			if !l.Allowed("x."+r.name, port) || l.Allowed(r.name, port) {
				t.Fatalf("%q: glob match wrong", s)
			}
		default:
			if !l.Allowed(r.name, port) || l.Allowed("x."+r.name, port) {
				t.Fatalf("%q: name match wrong", s)
			}
		}
	})
}

// A loop of refused connects reports each destination once, and at most
// max of them.
func TestRefusalsAreBounded(t *testing.T) {
	var lines []string
	r := NewRefusals(3, func(a netip.AddrPort, why string) { lines = append(lines, a.String()+" "+why) })
	for i := range 1000 {
		r.Refused(netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(1+i%10)), "not allowed")
	}
	if len(lines) != 3 || lines[0] != "192.0.2.1:1 not allowed" {
		t.Fatalf("reported %q", lines)
	}
	total, reported, unreported := r.Summary()
	if total != 1000 || reported != 3 || unreported != 700 {
		t.Errorf("summary %d %d %d, want 1000 3 700", total, reported, unreported)
	}
}

// The proxy's refusals share the bound and the counts with the connects'.
func TestRefusalsAdmitSharesTheBound(t *testing.T) {
	var lines []string
	r := NewRefusals(2, func(a netip.AddrPort, why string) { lines = append(lines, a.String()) })
	r.Refused(netip.MustParseAddrPort("192.0.2.1:443"), "not allowed")
	if !r.Admit("example.com:443") || r.Admit("example.com:443") || r.Admit("example.org:443") {
		t.Error("Admit: want the first refusal to a destination reported, within the bound")
	}
	r.Refused(netip.MustParseAddrPort("192.0.2.2:443"), "not allowed")
	if total, reported, unreported := r.Summary(); len(lines) != 1 || total != 5 || reported != 2 || unreported != 2 {
		t.Errorf("lines %q, summary %d %d %d, want 1 line, 5 2 2", lines, total, reported, unreported)
	}
}
