package egress

import (
	"net"
	"net/netip"
)

// Local reports whether ip is one of this host's own addresses: loopback
// (127.0.0.0/8, ::1), unspecified (0.0.0.0 and ::, which a connect takes
// for this host), in 0.0.0.0/8 ("this network"), or assigned to one of its
// interfaces now (a server listening on every address is reached through
// the LAN address too). An IPv4-mapped IPv6 address is its IPv4 address.
// When the interfaces cannot be listed, every address counts as local:
// fail closed.
func Local(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if ip.IsLoopback() || ip.IsUnspecified() || ip.Is4() && ip.As4()[0] == 0 {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return true
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if own, ok := netip.AddrFromSlice(n.IP); ok && own.Unmap() == ip {
				return true
			}
		}
	}
	return false
}
