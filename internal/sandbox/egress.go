package sandbox

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/egress"
	"github.com/llm-secrets/llms/internal/supervise"
)

// The agent's network egress (docs/adr/0033). Every connect of the
// agent's tree is the supervisor's; a TCP/IP one reaches:
//
//   - an address:port the launcher named (AllowTCP: the credential
//     proxy's listener);
//   - an address:port an IP-literal rule of the allow-list allows
//     (--allow-host 127.0.0.2:5432): a name rule never allows a direct
//     connect, whatever the name resolves to;
//   - this host's own address (egress.Local) when every listening socket
//     that could take the connection is held by a process of the agent's
//     tree (or, for a program the broker runs, of that program's own
//     tree: children.go): its own test servers keep working, the user's database, docker
//     TCP API or dev server do not (and neither does a listener of the
//     agent's in the SO_REUSEPORT group of one of the user's).
//
// Anything else is refused with EACCES, and reported (Egress.Refused).
// A local address on which nothing listens gets ECONNREFUSED, as the
// kernel would say: a test that waits for its own server to come up
// retries on it. A destination of 0.0.0.0 or :: (which the kernel takes
// for this host) is decided and connected as the loopback address. Only
// TCP sockets are connected: the filter lets no other internet socket be
// made where the network is restricted, and one that exists anyway (an
// inherited descriptor) is refused.

// Egress is what the agent's tree may reach over TCP/IP besides the
// supervisor's own defaults (its own servers).
type Egress struct {
	// Open: every address, as asked (--allow-net).
	Open bool
	// List: the allow-list; only its IP-literal rules apply here.
	List *egress.List
	// Refused, when set, is told of each refused connect (the launcher
	// audits it, bounded). It must not block for long: the caller waits.
	Refused func(addr netip.AddrPort, why string)
}

// SetEgress sets what the agent may reach over TCP/IP; before Start.
// Without it, nothing but the tree's own servers (and AllowTCP's).
func (s *Supervisor) SetEgress(e Egress) { s.egress = e }

// AllowTCP lets the agent connect to ap (the proxy's listener); before
// Start.
func (s *Supervisor) AllowTCP(ap netip.AddrPort) {
	s.tcp = append(s.tcp, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
}

// Lengths of struct sockaddr_in and sockaddr_in6 (the kernel's minimum
// for an IPv6 address is the RFC 2133 size, without the scope id).
const (
	sockaddrIn4Len = 16
	sockaddrIn6Len = 24
)

// connectInet decides an AF_INET or AF_INET6 address, and connects what
// it decided on; also: as connectFor.
func (s *Supervisor) connectInet(sock int, addr []byte, also *procTree) supervise.Reply {
	if s.egress.Open {
		return connectRaw(sock, addr)
	}
	ap, ok := inetAddr(addr)
	if !ok {
		return supervise.Fail(unix.EINVAL)
	}
	typ, err1 := unix.GetsockoptInt(sock, unix.SOL_SOCKET, unix.SO_TYPE)
	proto, err2 := unix.GetsockoptInt(sock, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	if err1 != nil || err2 != nil || typ != unix.SOCK_STREAM || proto != unix.IPPROTO_TCP {
		return s.refuse(ap, "not a TCP socket")
	}
	dest := ap.Addr()
	if dest.IsUnspecified() {
		// The kernel would connect to this host: say which address.
		loop4 := netip.AddrFrom4([4]byte{127, 0, 0, 1})
		addr = slices.Clone(addr)
		switch {
		case binary.NativeEndian.Uint16(addr) == unix.AF_INET:
			dest = loop4
			copy(addr[4:8], dest.AsSlice())
		case dest.Is4(): // ::ffff:0.0.0.0
			dest = loop4
			mapped := dest.As16()
			copy(addr[8:24], mapped[:])
		default:
			dest = netip.IPv6Loopback()
			copy(addr[8:24], dest.AsSlice())
		}
		ap = netip.AddrPortFrom(dest, ap.Port())
	}
	if slices.Contains(s.tcp, ap) || s.egress.List.AllowedAddr(ap) {
		return connectRaw(sock, addr)
	}
	if !egress.Local(dest) {
		return s.refuse(ap, "not allowed")
	}
	ls, err := tcpListeners(ap.Port())
	if err != nil {
		return s.refuse(ap, "listeners unknown")
	}
	listening := false
	for _, l := range ls {
		if !l.takes(dest) {
			continue
		}
		listening = true
		if !s.holdsSocket(l.ino, also) {
			return s.refuse(ap, "a local server outside the agent's tree")
		}
	}
	if !listening {
		return supervise.Fail(unix.ECONNREFUSED)
	}
	return connectRaw(sock, addr)
}

// refuse reports a refused connect and answers EACCES.
func (s *Supervisor) refuse(ap netip.AddrPort, why string) supervise.Reply {
	if s.egress.Refused != nil {
		s.egress.Refused(ap, why)
	}
	return supervise.Fail(unix.EACCES)
}

// inetAddr reads a sockaddr_in or sockaddr_in6 as the kernel would (an
// IPv4-mapped IPv6 address is its IPv4 address); false when it is too
// short to be one.
func inetAddr(addr []byte) (netip.AddrPort, bool) {
	if len(addr) < 4 { // the family and the port, before any address
		return netip.AddrPort{}, false
	}
	port := binary.BigEndian.Uint16(addr[2:4])
	switch binary.NativeEndian.Uint16(addr) {
	case unix.AF_INET:
		if len(addr) < sockaddrIn4Len {
			return netip.AddrPort{}, false
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(addr[4:8])), port), true
	case unix.AF_INET6:
		if len(addr) < sockaddrIn6Len {
			return netip.AddrPort{}, false
		}
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(addr[8:24])).Unmap(), port), true
	}
	return netip.AddrPort{}, false
}
