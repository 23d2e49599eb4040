package credproxy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
)

// dial connects to an upstream host for a tunnel or a forwarded request. It
// resolves the name itself and connects to the addresses it checked, so
// that a name cannot resolve once for the check and again for the
// connection:
//   - each address is judged by Config.DialAllowed where the launcher gives
//     one (agent mode: no address of this host's own, link-local or
//     multicast for a name, unless allowed as an IP literal); without it, a
//     name (anything but an IP literal or "localhost") that resolves to a
//     loopback or unspecified address is refused: an allowed name rebound
//     to 127.0.0.1 would otherwise reach the user's local services;
//   - the proxy's own listener is refused (a loop).
func (p *Proxy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(portText)
	t := target{host: canonicalHost(host), port: port}
	var ips []net.IP
	literal := net.ParseIP(host)
	switch {
	case literal != nil:
		ips = []net.IP{literal}
	case p.cfg.resolve != nil:
		ips, err = p.cfg.resolve(ctx, host)
	default:
		var addrs []net.IPAddr
		addrs, err = net.DefaultResolver.LookupIPAddr(ctx, host)
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%s has no address", host)
	}
	own := p.ln.Addr().(*net.TCPAddr)
	for _, ip := range ips {
		if p.cfg.DialAllowed != nil {
			a, ok := netip.AddrFromSlice(ip)
			if !ok || !p.cfg.DialAllowed(t.host, a.Unmap(), port) {
				return nil, &refusal{t: t, status: http.StatusForbidden, rule: RuleRebinding,
					reason: fmt.Sprintf("%s resolves to %s, an address of this host's own or one that is not allowed; allow it as an address (--allow-host IP:PORT) to reach a local service", host, ip)}
			}
		} else if literal == nil && t.host != "localhost" && (ip.IsLoopback() || ip.IsUnspecified()) {
			return nil, &refusal{t: t, status: http.StatusForbidden, rule: RuleRebinding,
				reason: fmt.Sprintf("%s resolves to %s, a loopback address; name it as an address to reach a local service", host, ip)}
		}
		if port == own.Port && (ip.IsLoopback() || ip.IsUnspecified()) {
			return nil, &refusal{t: t, status: http.StatusForbidden, rule: RuleLoop,
				reason: "the request is to the proxy itself"}
		}
	}
	var d net.Dialer
	var last error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), portText))
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}
