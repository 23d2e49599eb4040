package sandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/egress"
)

// netProbe is the probe's network op: tcp ADDR (a connect), tcpserve ADDR
// (a server of its own on ADDR, and a connect to it), udp ADDR (a datagram
// sent without connect), fastopen ADDR (sendto with MSG_FASTOPEN on a TCP
// socket), socket FAMILY/TYPE/PROTO (numbers: is it made?).
func netProbe(op, target string) error {
	switch op {
	case "tcp":
		c, err := net.DialTimeout("tcp", target, 5*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	case "tcpserve":
		l, err := net.Listen("tcp", target)
		if err != nil {
			return err
		}
		defer l.Close()
		go func() {
			if c, err := l.Accept(); err == nil {
				c.Close()
			}
		}()
		c, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	case "udp", "fastopen":
		ap, err := netip.ParseAddrPort(target)
		if err != nil {
			return err
		}
		family, typ, sa := unix.AF_INET, unix.SOCK_DGRAM, unix.Sockaddr(&unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()})
		if ap.Addr().Is6() {
			family, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
		}
		flags := 0
		if op == "fastopen" {
			typ, flags = unix.SOCK_STREAM, unix.MSG_FASTOPEN
		}
		fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Sendto(fd, []byte("x"), flags, sa)
	case "socket":
		var f [3]int
		for i, v := range strings.Split(target, "/") {
			f[i], _ = strconv.Atoi(v)
		}
		fd, err := unix.Socket(f[0], f[1]|unix.SOCK_CLOEXEC, f[2])
		if err == nil {
			unix.Close(fd)
		}
		return err
	}
	return errors.New("unknown op")
}

// egressLauncher plays the launcher for the egress rules: it holds the
// user's TCP servers (on 127.0.0.1, ::1 and this host's own address), a UDP
// server, the proxy's listener (AllowTCP) and a server on 127.0.0.2
// allowed as an IP literal; starts the probe with the agent's filter
// (args[1] "supervised"), a broker child's ("child": Main confines it
// with Restrict, unsupervised) or with the network
// open ("open", --allow-net); and prints the probe's lines, what each
// server received and the refusals reported. args: ABI, mode, then the
// probe's op/target pairs, whose targets may name USER_TCP, USER_TCP6,
// USER_LAN, USER_UDP, PROXY, LITERAL, LITERAL_OTHER_PORT.
func egressLauncher(args []string) int {
	if len(args) < 2 {
		return 2
	}
	abi, _ := strconv.Atoi(args[0])
	mode := args[1]
	dir, err := os.MkdirTemp("", "egress")
	if err != nil {
		return 2
	}
	defer os.RemoveAll(dir)
	counts := map[string]*atomic.Int32{}
	names := []string{}
	serve := func(name, addr string) netip.AddrPort {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return netip.AddrPort{}
		}
		n := &atomic.Int32{}
		counts[name] = n
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				n.Add(1)
				c.Close()
			}
		}()
		ap := l.Addr().(*net.TCPAddr).AddrPort()
		names = append(names, name, ap.String())
		return ap
	}
	serve("USER_TCP", "127.0.0.1:0")
	serve("USER_TCP6", "[::1]:0")
	if lan := lanAddress(); lan.IsValid() {
		serve("USER_LAN", netip.AddrPortFrom(lan, 0).String())
	}
	proxy := serve("PROXY", "127.0.0.1:0")
	literal := serve("LITERAL", "127.0.0.2:0")
	serve("LITERAL_OTHER_PORT", "127.0.0.2:0")
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 2
	}
	defer udp.Close()
	var udpGot atomic.Int32
	go func() {
		buf := make([]byte, 16)
		for {
			if _, _, err := udp.ReadFrom(buf); err != nil {
				return
			}
			udpGot.Add(1)
		}
	}()
	names = append(names, "USER_UDP", udp.LocalAddr().String())
	// Longest first: USER_TCP6 before USER_TCP.
	var pairs [][2]string
	for i := 0; i < len(names); i += 2 {
		pairs = append(pairs, [2]string{names[i], names[i+1]})
	}
	slices.SortFunc(pairs, func(a, b [2]string) int { return len(b[0]) - len(a[0]) })
	var fwd, back []string
	for _, p := range pairs {
		fwd, back = append(fwd, p[0], p[1]), append(back, p[1], p[0])
	}
	repl, unrepl := strings.NewReplacer(fwd...), strings.NewReplacer(back...)

	spec := Spec{Read: []string{"/"}, Write: []string{dir}, Supervised: mode != "child"}
	if mode != "open" {
		spec.Net = &NetRules{TCPPorts: []uint16{proxy.Port()}}
	}
	r, err := BuildFor(spec, abi)
	if err != nil {
		fmt.Println("rules:", err)
		return 2
	}
	var refusals []string
	var mu sync.Mutex
	var sup *Supervisor
	if mode != "child" {
		if sup, err = NewSupervisor(r, nil); err != nil {
			fmt.Println("supervisor:", err)
			return 2
		}
		defer sup.Close()
		list, err := egress.Parse([]string{literal.String(), "localhost", "*.example.com"})
		if err != nil {
			return 2
		}
		sup.AllowTCP(proxy)
		sup.SetEgress(Egress{Open: mode == "open", List: list, Refused: func(ap netip.AddrPort, why string) {
			mu.Lock()
			refusals = append(refusals, ap.String()+" ("+why+")")
			mu.Unlock()
		}})
	}
	probeArgs := []string{}
	for _, a := range args[2:] {
		probeArgs = append(probeArgs, repl.Replace(a))
	}
	bin, _ := os.Executable()
	w, err := Wrap(r, bin, bin, bin, append([]string{bin}, probeArgs...))
	if err != nil {
		return 2
	}
	var probeOut bytes.Buffer
	cmd := &exec.Cmd{Path: w.Path, Args: w.Args, ExtraFiles: w.ExtraFiles(), Stdout: &probeOut, Stderr: os.Stderr,
		Env: []string{probeEnv + "=1", "PATH=/usr/bin:/bin", "GORACE=atexit_sleep_ms=0", "TMPDIR=" + dir}}
	if err := cmd.Start(); err != nil {
		fmt.Println("start:", err)
		return 2
	}
	w.Close()
	if sup != nil {
		if err := sup.Start(w); err != nil {
			fmt.Println("start:", err)
			cmd.Process.Kill()
		}
	}
	if err := cmd.Wait(); err != nil {
		fmt.Println("probe:", err)
	}
	time.Sleep(50 * time.Millisecond) // the servers count what reached them
	for line := range strings.Lines(probeOut.String()) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		fmt.Printf("%s: %s\n", unrepl.Replace(k), v)
	}
	for name, n := range counts {
		fmt.Printf("accepted %s: %d\n", name, n.Load())
	}
	fmt.Printf("received USER_UDP: %d\n", udpGot.Load())
	mu.Lock()
	for _, r := range refusals {
		fmt.Printf("refused %s: reported\n", unrepl.Replace(r))
	}
	mu.Unlock()
	return 0
}

// lanAddress is a non-loopback address of this host's, if it has one.
func lanAddress() netip.Addr {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			ip, _ := netip.AddrFromSlice(n.IP.To4())
			return ip
		}
	}
	return netip.Addr{}
}

// TestSupervisorEgress: with the network restricted, the agent reaches
// the proxy's listener, an address allowed as an IP literal, and its own
// servers on this host; not the user's servers (on 127.0.0.1, ::1 or the
// host's LAN address), not a name's address, nothing beyond; makes no UDP,
// raw, MPTCP, SCTP or AF_VSOCK socket and sends no TCP Fast Open — at this
// kernel's ABI and at 4. A broker child (unsupervised) gets the same
// sockets and, from ABI 4, Landlock's TCP rule: the proxy's port only.
// With the network open (--allow-net) everything goes.
func TestSupervisorEgress(t *testing.T) {
	requireLandlock(t)
	bin := self(t)
	ops := []string{
		"tcp", "PROXY", "tcp", "LITERAL", "tcp", "LITERAL_OTHER_PORT",
		"tcp", "USER_TCP", "tcp", "USER_TCP6", "tcp", "USER_LAN",
		"tcpserve", "127.0.0.1:0", "tcpserve", "[::1]:0", "tcpserve", "0.0.0.0:0",
		"tcp", "0.0.0.0:1", "tcp", "192.0.2.1:443", "tcp", "[2001:db8::1]:443",
		"udp", "USER_UDP", "fastopen", "USER_TCP",
		"socket", fmt.Sprintf("%d/%d/%d", unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP),
		"socket", fmt.Sprintf("%d/%d/%d", unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_MPTCP),
		"socket", fmt.Sprintf("%d/%d/%d", unix.AF_INET6, unix.SOCK_DGRAM, 0),
		"socket", fmt.Sprintf("%d/%d/%d", unix.AF_VSOCK, unix.SOCK_STREAM, 0),
	}
	eacces, eperm := fmt.Sprintf("denied %d", unix.EACCES), fmt.Sprintf("denied %d", unix.EPERM)
	supervised := map[string]string{
		"tcp PROXY": "ok", "tcp LITERAL": "ok", "tcp LITERAL_OTHER_PORT": eacces,
		"tcp USER_TCP": eacces, "tcp USER_TCP6": eacces, "tcp USER_LAN": eacces,
		"tcpserve 127.0.0.1:0": "ok", "tcpserve [::1]:0": "ok", "tcpserve 0.0.0.0:0": "ok",
		"tcp 0.0.0.0:1":     fmt.Sprintf("denied %d", unix.ECONNREFUSED),
		"tcp 192.0.2.1:443": eacces, "tcp [2001:db8::1]:443": eacces,
		"udp USER_UDP": eperm, "fastopen USER_TCP": eperm,
		"socket 2/3/1": eperm, "socket 2/1/262": fmt.Sprintf("denied %d", unix.EPROTONOSUPPORT),
		"socket 10/2/0": eperm, "socket 40/1/0": fmt.Sprintf("denied %d", unix.EAFNOSUPPORT),
		"accepted USER_TCP": "0", "accepted USER_TCP6": "0", "accepted USER_LAN": "0",
		"accepted LITERAL_OTHER_PORT": "0", "received USER_UDP": "0",
	}
	launch := func(t *testing.T, args ...string) map[string]string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{egressEnv + "=1", "PATH=/usr/bin:/bin", "GORACE=atexit_sleep_ms=0"}
		return launcherLines(t, cmd)
	}
	check := func(t *testing.T, res, want map[string]string) {
		t.Helper()
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if strings.Contains(k, "USER_LAN") && res["accepted USER_LAN"] == "" {
				continue // no LAN address here
			}
			t.Logf("%-40s %s", k, res[k])
			if res[k] != want[k] {
				t.Errorf("%s: %q, want %q", k, res[k], want[k])
			}
		}
	}
	abis := supervisedABIs()
	for _, abi := range abis {
		t.Run(fmt.Sprintf("agent-abi%d", abi), func(t *testing.T) {
			res := launch(t, append([]string{strconv.Itoa(abi), "supervised"}, ops...)...)
			check(t, res, supervised)
			// Every refusal of a connect is reported, with its address.
			for _, k := range []string{"USER_TCP", "USER_TCP6", "LITERAL_OTHER_PORT", "192.0.2.1:443"} {
				found := false
				for line := range res {
					found = found || strings.HasPrefix(line, "refused "+k+" (")
				}
				if !found {
					t.Errorf("the refused connect to %s was not reported: %v", k, res)
				}
			}
		})
	}
	childAt := func(t *testing.T, abi int) {
		if abi < 4 {
			t.Skip("Landlock's TCP rule needs ABI 4")
		}
		res := launch(t, append([]string{strconv.Itoa(abi), "child"}, ops...)...)
		want := map[string]string{
			"tcp PROXY": "ok", "tcp LITERAL": eacces, "tcp USER_TCP": eacces, "tcp USER_TCP6": eacces,
			"tcpserve 127.0.0.1:0": eacces, // its own server's port is not the proxy's
			"udp USER_UDP":         eperm, "fastopen USER_TCP": eperm, "socket 2/1/262": fmt.Sprintf("denied %d", unix.EPROTONOSUPPORT),
			"accepted USER_TCP": "0", "received USER_UDP": "0",
		}
		check(t, res, want)
	}
	for _, abi := range abis {
		t.Run(fmt.Sprintf("child-abi%d", abi), func(t *testing.T) { childAt(t, abi) })
	}
	t.Run("open", func(t *testing.T) {
		res := launch(t, append([]string{strconv.Itoa(ABI()), "open"}, ops...)...)
		want := map[string]string{"tcp USER_TCP": "ok", "tcp USER_TCP6": "ok", "udp USER_UDP": "ok", "fastopen USER_TCP": "ok", "accepted USER_TCP": "2", "received USER_UDP": "1"}
		check(t, res, want)
	})
}

// A sockaddr too short to hold a port is the kernel's EINVAL, not a panic the
// supervisor's handler has to catch.
func TestInetAddrShort(t *testing.T) {
	for _, fam := range []uint16{unix.AF_INET, unix.AF_INET6} {
		for n := 2; n < 4; n++ {
			addr := make([]byte, n)
			binary.NativeEndian.PutUint16(addr, fam)
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("inetAddr(family %d, %d bytes) panicked: %v", fam, n, r)
					}
				}()
				if _, ok := inetAddr(addr); ok {
					t.Errorf("inetAddr(family %d, %d bytes) accepted", fam, n)
				}
			}()
		}
	}
}
