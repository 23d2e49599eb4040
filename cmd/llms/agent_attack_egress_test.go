package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/sandbox"
)

// The egress attacks: the agent tries to reach what is not its own nor
// allowed — a TCP server of the user's on 127.0.0.1 and on ::1, a UDP
// server, the same TCP server by TCP Fast Open, a raw socket, and Node's
// fetch, which ignores the proxy variables; and through a program the
// broker runs for it (the value in its environment) and that program's own
// child, TCP to the user's servers on 127.0.0.1 and ::1, UDP, the user's
// Unix socket, and the ways around the launcher's decision (a Unix
// datagram socket, io_uring, a notifying seccomp filter) — and
// proves that what it may reach still works: its own servers (IPv4 and
// IPv6 loopback; the program's own TCP server, its child's, and its Unix
// socket) and a
// server allowed as an IP literal (--allow-host 127.0.0.2:PORT), for the
// agent and for the program alike. With --allow-net the user's servers are
// reached: the control.
const (
	envEgressUserTCP  = "ATTACK_EGRESS_USER_TCP"  // the user's TCP server, 127.0.0.1:PORT
	envEgressUserTCP6 = "ATTACK_EGRESS_USER_TCP6" // …on [::1]:PORT
	envEgressUserUDP  = "ATTACK_EGRESS_USER_UDP"  // the user's UDP server
	envEgressAllowed  = "ATTACK_EGRESS_ALLOWED"   // a server on 127.0.0.2 the launch allows
	envEgressUserUnix = "ATTACK_EGRESS_USER_UNIX" // the user's Unix socket, by path
	egressPhase       = "egress"
)

// attackEgress is the in-sandbox phase: one attempt per way out.
func attackEgress(report func(name string, allowed bool, detail string), llms string) int {
	detail := func(err error) string {
		var errno unix.Errno
		if errors.As(err, &errno) {
			return fmt.Sprintf("errno %d (%v)", int(errno), errno)
		}
		if err != nil {
			return "error"
		}
		return "succeeded"
	}
	dial := func(name, addr string) {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err == nil {
			c.Close()
		}
		report(name, err == nil, addr+": "+detail(err))
	}
	// Its own servers: a listener of the agent's tree, then a connect.
	own := func(name, addr string) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			report(name, false, "listen: "+detail(err))
			return
		}
		defer l.Close()
		go func() {
			if c, err := l.Accept(); err == nil {
				c.Close()
			}
		}()
		dial(name, l.Addr().String())
	}
	user, user6, udp, allowed := os.Getenv(envEgressUserTCP), os.Getenv(envEgressUserTCP6), os.Getenv(envEgressUserUDP), os.Getenv(envEgressAllowed)

	dial("tcp-user-server-127.0.0.1", user)
	if user6 != "" {
		dial("tcp-user-server-[::1]", user6)
	} else {
		report("tcp-user-server-[::1]", false, "no IPv6 loopback here")
	}
	own("tcp-own-server-127.0.0.1", "127.0.0.1:0")
	if user6 != "" {
		own("tcp-own-server-[::1]", "[::1]:0")
	} else {
		report("tcp-own-server-[::1]", true, "no IPv6 loopback here")
	}
	dial("tcp-allowed-ip-literal", allowed)
	// The allowed address on another port: a rule names its port.
	if ap, err := netip.ParseAddrPort(allowed); err == nil {
		dial("tcp-allowed-ip-other-port", netip.AddrPortFrom(ap.Addr(), ap.Port()+1).String())
	}
	dial("tcp-internet-192.0.2.1:443", "192.0.2.1:443")

	// A datagram to the user's UDP server, without connect.
	sendto := func(name string, typ, flags int, addr string) {
		ap, err := netip.ParseAddrPort(addr)
		fd := -1
		if err == nil {
			fd, err = unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
		}
		if err == nil {
			err = unix.Sendto(fd, []byte("x"), flags, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()})
			unix.Close(fd)
		}
		report(name, err == nil, addr+": "+detail(err))
	}
	sendto("udp-sendto-user-server", unix.SOCK_DGRAM, 0, udp)
	sendto("tcp-fastopen-sendto-user-server", unix.SOCK_STREAM, unix.MSG_FASTOPEN, user)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
	if err == nil {
		unix.Close(fd)
	}
	report("raw-socket", err == nil, detail(err))
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
	if err == nil {
		unix.Close(fd)
	}
	report("icmp-ping-socket", err == nil, detail(err))
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_MPTCP)
	if err == nil {
		unix.Close(fd)
	}
	report("mptcp-socket", err == nil, detail(err))

	// A program the broker runs for the agent, with the value in its
	// environment: its connects are decided as the agent's are, by the
	// launcher, at every ABI — the user's servers refused, what the agent
	// may reach and what the program itself serves reached.
	child := func(name, code string) {
		cmd := exec.Command(llms, "exec", "-i", "V=K", "--", "python3", "-c", code)
		out, err := cmd.Output()
		report(name, err == nil, strings.TrimSpace(string(out)))
	}
	const pyTry = `import socket,sys
def attempt(f):
    try:
        f(); print("succeeded")
    except OSError as e:
        print("errno", e.errno); sys.exit(1)
`
	childTCP := func(name, addr string) {
		if host, port, err := net.SplitHostPort(addr); err == nil {
			child(name, pyTry+`attempt(lambda: socket.create_connection(("`+host+`", `+port+`), 5).close())`)
		}
	}
	childTCP("child-tcp-user-server", user)
	if user6 != "" {
		childTCP("child-tcp-user-server-[::1]", user6)
	} else {
		report("child-tcp-user-server-[::1]", false, "no IPv6 loopback here")
	}
	childTCP("child-tcp-allowed-ip-literal", allowed)
	child("child-tcp-own-server", pyTry+`l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
attempt(lambda: socket.create_connection(l.getsockname(), 5).close())`)
	// The program's own children: under the same filter (inherited), and
	// its tree's servers its own.
	child("child-tcp-server-of-its-child", pyTry+`import subprocess
p = subprocess.Popen([sys.executable, "-c", "import socket, time\nl = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)\nprint(l.getsockname()[1], flush=True); time.sleep(30)"], stdout=subprocess.PIPE)
try:
    port = int(p.stdout.readline())
    attempt(lambda: socket.create_connection(("127.0.0.1", port), 5).close())
finally:
    p.kill()`)
	if host, port, err := net.SplitHostPort(user); err == nil {
		inner := pyTry + `attempt(lambda: socket.create_connection(("` + host + `", ` + port + `), 5).close())`
		child("child-its-child-tcp-user-server", `import subprocess, sys
r = subprocess.run([sys.executable, "-c", `+strconv.Quote(inner)+`], capture_output=True, text=True)
print("its child:", r.stdout.strip()); sys.exit(r.returncode)`)
	}
	child("child-unix-user-socket", pyTry+`s = socket.socket(socket.AF_UNIX); s.settimeout(5)
attempt(lambda: s.connect("`+os.Getenv(envEgressUserUnix)+`"))`)
	child("child-unix-own-socket", pyTry+`import os, tempfile
p = os.path.join(tempfile.mkdtemp(), "s"); l = socket.socket(socket.AF_UNIX); l.bind(p); l.listen(1)
attempt(lambda: socket.socket(socket.AF_UNIX).connect(p))`)
	// What would go around the launcher's decision: a Unix datagram
	// socket (it sends to a path without connect), io_uring (whose connect
	// no filter sees), a seccomp filter of its own that takes
	// notifications (the kernel sends a call to the newest listener).
	child("child-unix-datagram-socket", pyTry+`attempt(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))`)
	const pySyscall = `import ctypes, os, platform
libc = ctypes.CDLL(None, use_errno=True)
arm = platform.machine() == "aarch64"
def sc(*a):
    if libc.syscall(*a) < 0:
        e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
`
	child("child-io-uring-setup", pyTry+pySyscall+`attempt(lambda: sc(425, 1, ctypes.create_string_buffer(120)))`)
	child("child-seccomp-listener", pyTry+pySyscall+`import struct
insn = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0x7fff0000))  # BPF_RET|BPF_K, SECCOMP_RET_ALLOW
prog = ctypes.create_string_buffer(struct.pack("HxxxxxxQ", 1, ctypes.addressof(insn)))
attempt(lambda: sc(277 if arm else 317, 1, 8, prog))  # SECCOMP_SET_MODE_FILTER, NEW_LISTENER`)
	if host, port, err := net.SplitHostPort(udp); err == nil {
		child("child-udp-sendto-user-server", `import socket,sys
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("`+host+`", `+port+`)); print("sent")
except OSError as e:
    print("errno", e.errno); sys.exit(1)`)
	}

	// Node's fetch ignores HTTP(S)_PROXY (before NODE_USE_ENV_PROXY): a
	// client that goes around the proxy fails closed.
	if node, err := exec.LookPath("node"); err == nil {
		script := `fetch("http://" + process.argv[1] + "/").then(r => { console.log("status " + r.status) }, e => { console.log("failed: " + ((e.cause && e.cause.code) || e.name)); process.exitCode = 1 })`
		cmd := exec.Command(node, "-e", script, user)
		cmd.Env = append(os.Environ(), "HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9")
		out, err := cmd.Output()
		report("node-fetch-ignoring-proxy", err == nil, strings.TrimSpace(string(out)))
	} else {
		report("node-fetch-ignoring-proxy", false, "node not installed")
	}
	return 0
}

// TestAgentModeAttacksEgress launches `llms agent` around the attack agent
// at each Landlock ABI with the network restricted, and at the kernel's
// with --allow-net (the control: the same attempts reach the user's
// servers).
func TestAgentModeAttacksEgress(t *testing.T) { atEachAttackABI(t, agentModeAttacksEgress) }

// egressServers are the user's servers the attacks aim at, counting what
// reaches them.
type egressServers struct {
	tcp, tcp6, allowed, unix net.Listener
	udp                      net.PacketConn
	accepted, datagrams, acc atomic.Int32
	unixAccepted             atomic.Int32
}

func startEgressServers(t *testing.T) *egressServers {
	s := &egressServers{}
	serve := func(network, addr string, n *atomic.Int32) net.Listener {
		l, err := net.Listen(network, addr)
		if err != nil {
			return nil
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				n.Add(1)
				// An HTTP answer, for the fetch that gets through.
				c.Write([]byte("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"))
				c.Close()
			}
		}()
		return l
	}
	if s.unix = serve("unix", filepath.Join(t.TempDir(), "user.sock"), &s.unixAccepted); s.unix == nil {
		t.Fatal("no Unix listener")
	}
	if s.tcp = serve("tcp", "127.0.0.1:0", &s.accepted); s.tcp == nil {
		t.Fatal("no TCP listener on 127.0.0.1")
	}
	s.tcp6 = serve("tcp", "[::1]:0", &s.accepted)
	if s.allowed = serve("tcp", "127.0.0.2:0", &s.acc); s.allowed == nil {
		t.Fatal("no TCP listener on 127.0.0.2")
	}
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { udp.Close() })
	s.udp = udp
	go func() {
		buf := make([]byte, 64)
		for {
			if _, _, err := udp.ReadFrom(buf); err != nil {
				return
			}
			s.datagrams.Add(1)
		}
	}()
	return s
}

func (s *egressServers) env() []string {
	env := []string{envEgressUserTCP + "=" + s.tcp.Addr().String(), envEgressUserUDP + "=" + s.udp.LocalAddr().String(),
		envEgressAllowed + "=" + s.allowed.Addr().String(), envEgressUserUnix + "=" + s.unix.Addr().String()}
	if s.tcp6 != nil {
		env = append(env, envEgressUserTCP6+"="+s.tcp6.Addr().String())
	}
	return env
}

func agentModeAttacksEgress(t *testing.T, abi int) {
	l := newAttackLaunch(t, egressPhase)
	canary, work, bin, agent, env := l.canary, l.work, l.bin, l.agent, l.env

	restricted := map[string]string{
		"tcp-user-server-127.0.0.1": "refused", "tcp-user-server-[::1]": "refused",
		"tcp-own-server-127.0.0.1": "allowed", "tcp-own-server-[::1]": "allowed",
		"tcp-allowed-ip-literal": "allowed", "tcp-allowed-ip-other-port": "refused",
		"tcp-internet-192.0.2.1:443": "refused",
		"udp-sendto-user-server":     "refused", "tcp-fastopen-sendto-user-server": "refused",
		"raw-socket": "refused", "icmp-ping-socket": "refused", "mptcp-socket": "refused",
		"node-fetch-ignoring-proxy": "refused", "child-udp-sendto-user-server": "refused",
		"child-tcp-user-server": "refused", "child-tcp-user-server-[::1]": "refused",
		"child-tcp-allowed-ip-literal": "allowed", "child-tcp-own-server": "allowed",
		"child-unix-user-socket": "refused", "child-unix-own-socket": "allowed",
		"child-tcp-server-of-its-child": "allowed", "child-its-child-tcp-user-server": "refused",
		"child-unix-datagram-socket": "refused", "child-io-uring-setup": "refused", "child-seccomp-listener": "refused",
	}
	// The control needs one level: the kernel's.
	modes := []bool{false}
	if abi == sandbox.ABI() {
		modes = append(modes, true)
	}
	for _, open := range modes {
		name := "restricted"
		if open {
			name = "allow-net"
		}
		t.Run(name, func(t *testing.T) {
			s := startEgressServers(t)
			args := []string{"agent", "--agent", "claude-code", "--landlock-abi", strconv.Itoa(abi), "--secret", "K", "--ttl", "10m"}
			want := restricted
			if !open {
				args = append(args, "--allow-host", s.allowed.Addr().String())
			} else {
				args = append(args, "--allow-net")
				// The control: what the rules refuse is reached. (A raw
				// socket needs CAP_NET_RAW, which the agent never has;
				// 192.0.2.1 is TEST-NET-1, routed nowhere; an ICMP socket
				// depends on net.ipv4.ping_group_range; MPTCP on the
				// kernel.)
				want = map[string]string{"tcp-user-server-127.0.0.1": "allowed", "udp-sendto-user-server": "allowed",
					"tcp-fastopen-sendto-user-server": "allowed", "node-fetch-ignoring-proxy": "allowed",
					"tcp-own-server-127.0.0.1": "allowed", "tcp-allowed-ip-literal": "allowed"}
				if s.tcp6 != nil {
					want["tcp-user-server-[::1]"] = "allowed"
				}
			}
			cmd := exec.Command(bin, append(args, "--", agent)...)
			cmd.Env, cmd.Dir = append(env, s.env()...), work
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Fatalf("llms agent: %v\nstderr: %s", err, errb.String())
			}
			seen := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				f := strings.SplitN(line, " ", 4)
				if len(f) < 4 || f[0] != "ATTEMPT" {
					t.Errorf("unexpected agent output line %q", line)
					continue
				}
				seen[f[1]] = true
				w, judged := want[f[1]]
				mark := "ok  "
				if !judged {
					mark = "    "
				} else if w != f[2] {
					mark = "FAIL"
					t.Errorf("%s: %s (%s), want %s", f[1], f[2], f[3], w)
				}
				t.Logf("%s %-34s %-8s %s", mark, f[1], f[2], f[3])
			}
			for name := range want {
				if !seen[name] {
					t.Errorf("attempt %s was not made", name)
				}
			}
			if !open {
				if n := s.accepted.Load(); n != 0 {
					t.Errorf("the user's TCP servers accepted %d connection(s)", n)
				}
				if n := s.unixAccepted.Load(); n != 0 {
					t.Errorf("the user's Unix socket accepted %d connection(s)", n)
				}
				if n := s.datagrams.Load(); n != 0 {
					t.Errorf("the user's UDP server received %d datagram(s)", n)
				}
			}
			if s.acc.Load() == 0 {
				t.Error("the allowed server was never reached")
			}
			checkEgressLaunch(t, bin, env, errb.String(), s, open)
			if strings.Contains(out.String()+errb.String(), canary) {
				t.Error("the canary appears in the output")
			}
		})
	}
}

// checkEgressLaunch: the launch said what stays open (or warned of
// --allow-net), and the audit log holds what it decided — the refused
// connects with their addresses, at most once per destination, or the
// open network in the agent-start line.
func checkEgressLaunch(t *testing.T, bin string, env []string, stderr string, s *egressServers, open bool) {
	t.Helper()
	audit := mustRun(t, bin, env, "", "audit", "-n", "0", "--json")
	var starts, refusals []string
	for _, line := range strings.Split(strings.TrimSpace(audit), "\n") {
		var e struct{ Event, Reason string }
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		switch e.Event {
		case "agent-start":
			starts = append(starts, e.Reason)
		case "egress-refused":
			refusals = append(refusals, e.Reason)
		}
	}
	if len(starts) == 0 {
		t.Fatal("no agent-start line in the audit log")
	}
	start := starts[len(starts)-1]
	if open {
		outcome(t, "allow-net-warned", strings.Contains(stderr, "WARNING: --allow-net"), firstLineWith(stderr, "--allow-net"))
		outcome(t, "allow-net-audited", strings.Contains(start, "network: open (--allow-net)"), start)
		return
	}
	for _, want := range []string{"network: the agent reaches api.anthropic.com:443", s.allowed.Addr().String(), "no name lookups inside the sandbox"} {
		outcome(t, "launch-says-"+want, strings.Contains(stderr, want), firstLineWith(stderr, want))
	}
	outcome(t, "start-audited-with-allow-list", strings.Contains(start, "network: api.anthropic.com:443") && strings.Contains(start, s.allowed.Addr().String()), start)
	count := func(dest string) int {
		n := 0
		for _, r := range refusals {
			if strings.HasPrefix(r, dest+": ") {
				n++
			}
		}
		return n
	}
	user := s.tcp.Addr().String()
	// The agent tried it twice (connect and Fast Open, the latter refused
	// before any address was seen) and Node's fetch once more.
	outcome(t, "refused-connect-audited-once", count(user) == 1, fmt.Sprintf("%d line(s) for %s", count(user), user))
	outcome(t, "refused-internet-audited", count("192.0.2.1:443") == 1, fmt.Sprintf("%d line(s) for 192.0.2.1:443", count("192.0.2.1:443")))
}

// firstLineWith is the first line of s that contains want, for a log.
func firstLineWith(s, want string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, want) {
			return strings.TrimSpace(line)
		}
	}
	return "(no line says " + want + ")"
}
