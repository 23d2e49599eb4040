package runner

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// The test binary doubles as the child program: run with helperFlag as its
// first argument it performs a helper mode instead of the tests. The
// switch is in argv, not in the environment, so that tests can give the
// child any environment at all, an empty one included.
const helperFlag = "-runner-test-helper"

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == helperFlag {
		// A helper waiting for a signal that never comes (the test failed)
		// must not outlive the test run.
		time.AfterFunc(time.Minute, func() { os.Exit(5) })
		// syscall.Exit, not os.Exit: a coverage build would print a
		// warning into the output the tests compare.
		syscall.Exit(helperMain(os.Args[2], os.Args[3:]))
	}
	os.Exit(m.Run())
}

// helperMain runs one helper mode and returns the exit code.
func helperMain(mode string, args []string) int {
	switch mode {
	case "exit":
		code, _ := strconv.Atoi(args[0])
		return code
	case "kill": // die from the signal numbered args[0]
		n, _ := strconv.Atoi(args[0])
		syscall.Kill(os.Getpid(), syscall.Signal(n))
		time.Sleep(10 * time.Second)
		return 100
	case "argv":
		fmt.Print(strings.Join(os.Args, "\x00"))
	case "env":
		fmt.Print(strings.Join(os.Environ(), "\x00"))
	case "stream": // args: stdout bytes, stderr bytes
		outN, _ := strconv.Atoi(args[0])
		errN, _ := strconv.Atoi(args[1])
		return stream(outN, errN)
	case "trap": // args: signal number, exit code on receipt
		n, _ := strconv.Atoi(args[0])
		code, _ := strconv.Atoi(args[1])
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.Signal(n))
		fmt.Println("ready")
		<-sigs
		return code
	case "count-sigint": // exit with the number of SIGINTs seen in a window after the first
		sigs := make(chan os.Signal, 8)
		signal.Notify(sigs, syscall.SIGINT)
		fmt.Println("ready")
		<-sigs
		count := 1
		window := time.After(500 * time.Millisecond)
		for {
			select {
			case <-sigs:
				count++
			case <-window:
				return count
			}
		}
	case "ignored": // report whether args[0] (a signal number) is ignored
		n, _ := strconv.Atoi(args[0])
		fmt.Printf("ignored=%v\n", signal.Ignored(syscall.Signal(n)))
	case "tty":
		fmt.Printf("stdin=%v stdout=%v stderr=%v\n", term.IsTerminal(0), term.IsTerminal(1), term.IsTerminal(2))
	case "winch": // report the size, wait for a resize, report it again
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGWINCH)
		printSize()
		<-sigs
		printSize()
	case "echo-line":
		fmt.Println("ready")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil {
			return 3
		}
		fmt.Printf("got %q\n", strings.TrimRight(line, "\r\n"))
	case "cat":
		if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
			return 3
		}
	case "stdin-id":
		fmt.Print(fileID(0))
	case "sleep":
		fmt.Println("ready")
		time.Sleep(time.Minute)
	case "own-group": // leave the parent's process group, then run mode args[0]
		if err := syscall.Setpgid(0, 0); err != nil {
			return 4
		}
		return helperMain(args[0], args[1:])
	case "nnp": // report no_new_privs and the process group
		status, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return 3
		}
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "NoNewPrivs:") {
				fmt.Printf("nnp=%s\n", strings.TrimSpace(strings.TrimPrefix(line, "NoNewPrivs:")))
			}
		}
		fmt.Printf("own-group=%v\n", syscall.Getpgrp() == os.Getpid())
	case "pgrp": // report our process group
		fmt.Printf("pgrp=%d\n", syscall.Getpgrp())
	case "create": // try to create the file args[0]
		f, err := os.Create(args[0])
		if err != nil {
			fmt.Println("create refused")
			return 0
		}
		f.Close()
		fmt.Println("created")
	case "parent":
		return parentMain(args)
	case "prompt": // a prompt without a line break, then wait for a line
		fmt.Print("Password: ")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return 3
		}
	case "value-then": // print the first part of $V, pause as args[0] says, then the rest
		return valueThen(args[0])
	case "flow-control": // see TestFlowControlStopsIdleRelease
		return flowControlHelper()
	default:
		return 99
	}
	return 0
}

func printSize() {
	width, height, err := term.GetSize(1)
	if err != nil {
		fmt.Println("size error")
		return
	}
	fmt.Printf("size %dx%d\n", height, width)
}

// fileID names the file open on fd by device and inode.
func fileID(fd int) string {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return "error"
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

// stream writes patternStream(outN) to stdout and patternStream(errN) to
// stderr, alternating chunks so that both pipes are busy at once.
func stream(outN, errN int) int {
	out, errs := newPattern(outN), newPattern(errN)
	buf := make([]byte, 48<<10)
	for out.remaining() > 0 || errs.remaining() > 0 {
		for _, s := range []struct {
			p *pattern
			f *os.File
		}{{out, os.Stdout}, {errs, os.Stderr}} {
			if n := s.p.read(buf); n > 0 {
				if _, err := s.f.Write(buf[:n]); err != nil {
					return 3
				}
			}
		}
	}
	return 0
}

// pattern is a deterministic byte stream in which every 4 KiB block holds
// its own index, so a lost, repeated or reordered block changes its hash.
type pattern struct {
	pos, size int
}

func newPattern(size int) *pattern { return &pattern{size: size} }

func (p *pattern) remaining() int { return p.size - p.pos }

func (p *pattern) read(buf []byte) int {
	n := 0
	var block [4096]byte
	for n < len(buf) && p.remaining() > 0 {
		index := p.pos / len(block)
		for i := 0; i < len(block); i += 8 {
			binary.BigEndian.PutUint64(block[i:], uint64(index)*0x9e3779b97f4a7c15)
		}
		start := p.pos % len(block)
		end := min(len(block), start+p.remaining())
		copied := copy(buf[n:], block[start:end])
		n += copied
		p.pos += copied
	}
	return n
}

// patternHash is the SHA-256 of the first size bytes of the pattern.
func patternHash(size int) [32]byte {
	h := sha256.New()
	p := newPattern(size)
	buf := make([]byte, 64<<10)
	for p.remaining() > 0 {
		h.Write(buf[:p.read(buf)])
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// parentMain plays llms: it runs the helper mode in args[1:] through Run,
// in PTY mode if args[0] is "pty", with our stdio, and exits with the
// returned code. Options before the mode:
//
//	ignore-hup   ignore SIGHUP first, as nohup would
//	then-term    after Run, send SIGTERM to itself (it must now be fatal)
func parentMain(args []string) int {
	usePTY := args[0] == "pty"
	args = args[1:]
	thenTerm := false
options:
	for len(args) > 0 {
		switch args[0] {
		case "ignore-hup":
			signal.Ignore(syscall.SIGHUP)
		case "then-term":
			thenTerm = true
		default:
			break options
		}
		args = args[1:]
	}
	self, err := os.Executable()
	if err != nil {
		return 98
	}
	code, err := Run(context.Background(), Spec{
		Path:   self,
		Args:   append([]string{"child", helperFlag}, args...),
		Env:    os.Environ(),
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		PTY:    usePTY,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "parent:", err)
		return 97
	}
	if thenTerm {
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		time.Sleep(10 * time.Second)
		return 96
	}
	return code
}

// valueThen prints half of $V, pauses, and prints the rest and a line
// break. The pause is "spin" (run without sleeping for 400 ms),
// "close-stderr" (close stderr, then spin) or "line" (read a line of
// input).
func valueThen(pause string) int {
	v := os.Getenv("V")
	fmt.Print(v[:len(v)/2])
	switch pause {
	case "close-stderr":
		os.Stderr.Close()
		fallthrough
	case "spin":
		for end := time.Now().Add(400 * time.Millisecond); time.Now().Before(end); {
		}
	case "line":
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return 3
		}
	}
	fmt.Println(v[len(v)/2:])
	return 0
}

// flowControlHelper says "ready", waits for a line, turns IXON on on its
// terminal, then does valueThen("line"). A terminal in line mode hands
// over one line per read, so the second reader misses nothing.
func flowControlHelper() int {
	in := bufio.NewReader(os.Stdin)
	fmt.Println("ready")
	if _, err := in.ReadString('\n'); err != nil {
		return 3
	}
	attrs, err := unix.IoctlGetTermios(0, unix.TCGETS)
	if err != nil {
		return 4
	}
	attrs.Iflag |= unix.IXON
	if err := unix.IoctlSetTermios(0, unix.TCSETS, attrs); err != nil {
		return 4
	}
	return valueThen("line")
}
