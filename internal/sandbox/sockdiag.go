package sandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// The supervisor lets the agent connect to a Unix socket of its own tree
// (its own server, an ssh-agent it started). Whose a socket file or an
// abstract name is, the kernel tells through sock_diag: the listening
// socket bound to that file (its device and inode) or name, by the socket's
// inode; the descriptors of the agent's processes then say whether one of
// them holds it (socket:[INODE]). Nothing is connected to find out, so a
// server outside the sandbox never sees the attempt (a socket-activated
// one would start).

// linux/unix_diag.h
const (
	udiagShowName  = 0x1
	udiagShowVFS   = 0x2
	udiagShowPeer  = 0x4
	unixDiagName   = 0
	unixDiagVFS    = 1
	unixDiagPeer   = 2
	tcpListen      = 10 // the state of a listening socket
	diagReqLen     = 24 // struct unix_diag_req
	diagMsgLen     = 16 // struct unix_diag_msg
	netlinkHdrLen  = unix.SizeofNlMsghdr
	rtattrHdrLen   = 4
	diagRecvBuffer = 1 << 16
)

// unixListener is a Unix socket as sock_diag describes it: its own inode
// (socket:[ino] in a holder's descriptor table), and for a listening one
// either the file it is bound to or its abstract name (leading NUL
// included); for a connected one, its peer's inode. The kernel reports the
// file's inode number in 32 bits: boundTo compares those.
type unixListener struct {
	ino      uint32
	peer     uint32
	fileDev  uint64
	fileIno  uint32
	hasFile  bool
	abstract []byte
}

// boundTo reports whether the socket is bound to the file f.
func (l unixListener) boundTo(f fileID) bool {
	return l.hasFile && l.fileDev == f.dev && uint64(l.fileIno) == f.ino&0xffffffff
}

// fileID names a file: st_dev and st_ino.
type fileID struct{ dev, ino uint64 }

// unixListeners lists the listening Unix sockets of this network
// namespace.
func unixListeners() ([]unixListener, error) {
	return unixDiag(unix.NLM_F_DUMP, 1<<tcpListen, 0, udiagShowName|udiagShowVFS)
}

// unixPeer is the inode of the socket connected to the Unix socket with
// inode ino.
func unixPeer(ino uint32) (uint32, error) {
	ls, err := unixDiag(0, ^uint32(0), ino, udiagShowPeer)
	if err != nil {
		return 0, err
	}
	if len(ls) != 1 || ls[0].peer == 0 {
		return 0, errors.New("sock_diag: no peer")
	}
	return ls[0].peer, nil
}

// unixDiag asks sock_diag about the Unix sockets in states (a bit mask),
// the one with inode ino, or all (flags NLM_F_DUMP), with the attributes
// show names.
func unixDiag(flags uint16, states, ino, show uint32) ([]unixListener, error) {
	d := make([]byte, diagReqLen)
	ne := binary.NativeEndian
	d[0] = unix.AF_UNIX
	ne.PutUint32(d[4:], states)
	ne.PutUint32(d[8:], ino)
	ne.PutUint32(d[12:], show)
	ne.PutUint32(d[16:], ^uint32(0)) // no cookie
	ne.PutUint32(d[20:], ^uint32(0))
	var out []unixListener
	err := sockDiag(flags, d, func(body []byte) {
		if ln, ok := parseDiag(body); ok {
			out = append(out, ln)
		}
	})
	return out, err
}

// sockDiag sends one SOCK_DIAG_BY_FAMILY request (its body req) and calls
// each with the body of every answer: until NLMSG_DONE for a dump (flags
// NLM_F_DUMP), else the one answer.
func sockDiag(flags uint16, req []byte, each func(body []byte)) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	defer unix.Close(fd)
	msg := make([]byte, netlinkHdrLen, netlinkHdrLen+len(req))
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(netlinkHdrLen+len(req)))
	ne.PutUint16(msg[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(msg[6:], unix.NLM_F_REQUEST|flags)
	ne.PutUint32(msg[8:], 1) // sequence
	msg = append(msg, req...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	buf := make([]byte, diagRecvBuffer)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("sock_diag: %w", err)
		}
		msgs := buf[:n]
		for len(msgs) >= netlinkHdrLen {
			l := int(ne.Uint32(msgs[0:]))
			typ := ne.Uint16(msgs[4:])
			if l < netlinkHdrLen || l > len(msgs) {
				return errors.New("sock_diag: a truncated message")
			}
			body := msgs[netlinkHdrLen:l]
			msgs = msgs[min(align4(l), len(msgs)):]
			switch typ {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(body) >= 4 {
					if e := int32(ne.Uint32(body)); e < 0 {
						return fmt.Errorf("sock_diag: %w", unix.Errno(-e))
					}
				}
				return errors.New("sock_diag: an error reply")
			case unix.SOCK_DIAG_BY_FAMILY:
				each(body)
				if flags&unix.NLM_F_DUMP == 0 {
					return nil // one answer, no NLMSG_DONE
				}
			}
		}
	}
}

func align4(n int) int { return (n + 3) &^ 3 }

// parseDiag reads one unix_diag_msg and its attributes.
func parseDiag(b []byte) (unixListener, bool) {
	if len(b) < diagMsgLen {
		return unixListener{}, false
	}
	ne := binary.NativeEndian
	ln := unixListener{ino: ne.Uint32(b[4:])}
	attrs := b[diagMsgLen:]
	for len(attrs) >= rtattrHdrLen {
		l := int(ne.Uint16(attrs[0:]))
		typ := ne.Uint16(attrs[2:])
		if l < rtattrHdrLen || l > len(attrs) {
			break
		}
		data := attrs[rtattrHdrLen:l]
		switch typ {
		case unixDiagName:
			if len(data) > 0 && data[0] == 0 {
				ln.abstract = bytes.Clone(data)
			}
		case unixDiagPeer:
			if len(data) >= 4 {
				ln.peer = ne.Uint32(data)
			}
		case unixDiagVFS:
			// struct unix_diag_vfs: the inode, then the device in the
			// kernel's own encoding (major << 20 | minor).
			if len(data) >= 8 {
				kdev := ne.Uint32(data[4:])
				ln.fileDev, ln.fileIno, ln.hasFile = unix.Mkdev(kdev>>20, kdev&0xfffff), ne.Uint32(data[0:]), true
			}
		}
		if align4(l) > len(attrs) {
			break
		}
		attrs = attrs[align4(l):]
	}
	return ln, true
}

// A TCP listening socket as sock_diag (INET_DIAG) describes it: the
// address and port it is bound to, and its inode.
type tcpListener struct {
	addr netip.Addr // as bound: 0.0.0.0 or :: for every address
	port uint16
	ino  uint32
}

// linux/inet_diag.h: struct inet_diag_req_v2 and inet_diag_msg.
const (
	inetReqLen   = 56
	inetMsgLen   = 72
	inetMsgSport = 4
	inetMsgSrc   = 8
	inetMsgInode = 68
)

// tcpListeners lists the listening TCP sockets (IPv4 and IPv6) of this
// network namespace bound to port.
func tcpListeners(port uint16) ([]tcpListener, error) {
	var out []tcpListener
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		req := make([]byte, inetReqLen)
		req[0], req[1] = family, unix.IPPROTO_TCP
		binary.NativeEndian.PutUint32(req[4:], 1<<tcpListen)
		err := sockDiag(unix.NLM_F_DUMP, req, func(b []byte) {
			if len(b) < inetMsgLen || binary.BigEndian.Uint16(b[inetMsgSport:]) != port {
				return
			}
			var addr netip.Addr
			if b[0] == unix.AF_INET {
				addr = netip.AddrFrom4([4]byte(b[inetMsgSrc : inetMsgSrc+4]))
			} else {
				addr = netip.AddrFrom16([16]byte(b[inetMsgSrc : inetMsgSrc+16]))
			}
			out = append(out, tcpListener{addr: addr, port: port, ino: binary.NativeEndian.Uint32(b[inetMsgInode:])})
		})
		if err != nil && !(family == unix.AF_INET6 && errors.Is(err, unix.ENOENT)) {
			return nil, err // ENOENT: no IPv6 in this kernel
		}
	}
	return out, nil
}

// takes reports whether a connection to dest (IPv4 as such, never
// mapped) could be taken by the listener l: bound to dest itself, to its
// IPv4-mapped form, or to every address of a family that carries it. An
// IPv6 socket bound to :: may be IPV6_V6ONLY; counting it anyway only
// refuses more.
func (l tcpListener) takes(dest netip.Addr) bool {
	a := l.addr
	if dest.Is4() {
		return a == dest || a == netip.IPv4Unspecified() || a == netip.IPv6Unspecified() ||
			a.Is4In6() && a.Unmap() == dest
	}
	return a == dest || a == netip.IPv6Unspecified()
}
