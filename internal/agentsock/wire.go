package agentsock

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/broker"
)

// Version is the protocol version this package speaks. Every frame
// carries it; a frame of another version is refused with an error.
const Version = 1

// MaxFrame bounds one frame's body. A request carries an argv and an
// environment, which execve itself bounds to a few MiB together.
const MaxFrame = 4 << 20

// headerLen: one version byte, then the body's length as a big-endian
// uint32.
const headerLen = 5

// stdioFds is the number of descriptors an exec request passes: the
// child's stdin, stdout and stderr.
const stdioFds = 3

// Ops a request may name.
const (
	OpExec = "exec"
	OpPeek = "peek"
	OpList = "list"
	// The MCP front end's requests about the caller's own token.
	OpDescribe = "describe"
	OpAudit    = "audit"
	OpAsk      = "ask" // request_secret: ask the human for a secret
)

// ViaMCP marks a request made by `llms mcp`: the broker then acts only
// under a delegated token and records the call as event "mcp".
const ViaMCP = "mcp"

// Request is the first frame a client sends. An exec request passes its
// stdin, stdout and stderr with it (SCM_RIGHTS); the others pass nothing.
type Request struct {
	Op         string `json:"op"`
	Token      string `json:"token,omitempty"`
	TokenGiven bool   `json:"token_given,omitempty"`
	// Cwd is the client's working directory: absolute. The child starts
	// there, and repository caveats are judged there.
	Cwd  string    `json:"cwd"`
	Exec *ExecArgs `json:"exec,omitempty"`
	Peek *PeekArgs `json:"peek,omitempty"`
	List *ListArgs `json:"list,omitempty"`
	// Via names the front end: "" for the CLI, ViaMCP for `llms mcp`.
	Via      string        `json:"via,omitempty"`
	Describe *DescribeArgs `json:"describe,omitempty"`
	Audit    *AuditArgs    `json:"audit,omitempty"`
	Ask      *AskArgs      `json:"ask,omitempty"`
}

// DescribeArgs are describe's: none.
type DescribeArgs struct{}

// AuditArgs are audit's: how many of the token's latest entries.
type AuditArgs struct {
	Limit int `json:"limit"`
}

// AskArgs are ask's: the secret asked for, and why.
type AskArgs struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// ExecArgs are exec's: what `llms exec` was asked.
type ExecArgs struct {
	Inject []Injection `json:"inject,omitempty"`
	Argv   []string    `json:"argv"`
	// Env is the environment meant for the child, to which the values are
	// added (the broker drops the token variables).
	Env []string `json:"env"`
	// PTY asks for a pseudo-terminal; the broker gives one only when the
	// passed stdout is a terminal.
	PTY      bool `json:"pty,omitempty"`
	NoRedact bool `json:"no_redact,omitempty"`
	// Dir, when set, is where the child starts instead of Cwd; it must
	// lie inside Cwd's repository (run_with_secrets' cwd).
	Dir string `json:"dir,omitempty"`
}

// Injection is broker.Injection on the wire: secret Secret as variable
// Var.
type Injection struct {
	Var    string `json:"var"`
	Secret string `json:"secret"`
}

// PeekArgs are peek's.
type PeekArgs struct {
	Name string `json:"name"`
}

// ListArgs are list's.
type ListArgs struct {
	Times bool `json:"times,omitempty"`
}

// Control is what a client sends while its child runs: a signal it
// received, to relay.
type Control struct {
	Signal int `json:"signal"`
}

// Reply is what the server sends. Warn and InYourGroup may come during an
// exec; exactly one of the others ends the exchange.
type Reply struct {
	Warn string `json:"warn,omitempty"`
	// InYourGroup says, before the child starts, that it will run in the
	// client's process group (it reads the client's terminal): the client
	// then does not relay a keyboard signal the kernel already delivered.
	InYourGroup bool       `json:"in_your_group,omitempty"`
	Exit        *int       `json:"exit,omitempty"`
	Error       *Error     `json:"error,omitempty"`
	Peek        *PeekReply `json:"peek,omitempty"`
	List        *[]Entry   `json:"list,omitempty"`

	Describe *DescribeReply `json:"describe,omitempty"`
	Audit    *[]AuditReply  `json:"audit,omitempty"`
	Ask      *AskReply      `json:"ask,omitempty"`
}

// Error kinds: they map to the CLI's exit statuses.
const (
	KindBadRequest    = "bad_request"    // exit 2: nothing was started
	KindDenied        = "denied"         // exit 3
	KindNotFound      = "not_found"      // exit 127: no such program
	KindNotExecutable = "not_executable" // exit 126
	KindProtocol      = "protocol"       // a malformed frame or request, a refused peer
	KindFailed        = "failed"         // exit 1: anything else
)

// Error is a request's failure, as the broker phrased it: broker errors
// never hold a value.
type Error struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Unwrap gives the broker's sentinel for the kind, so that a front end
// maps a remote failure to the exit status of the same local one.
func (e *Error) Unwrap() error {
	switch e.Kind {
	case KindBadRequest, KindProtocol:
		return broker.ErrBadRequest
	case KindDenied:
		return broker.ErrDenied
	case KindNotFound:
		return broker.ErrCommandNotFound
	case KindNotExecutable:
		return broker.ErrCommandNotExecutable
	}
	return nil
}

// errorOf classifies an error for the wire.
func errorOf(err error) *Error {
	kind := KindFailed
	switch {
	case errors.Is(err, broker.ErrDenied):
		kind = KindDenied
	case errors.Is(err, broker.ErrBadRequest), errors.Is(err, broker.ErrInvalidName), errors.Is(err, broker.ErrNotFound):
		kind = KindBadRequest
	case errors.Is(err, broker.ErrCommandNotFound):
		kind = KindNotFound
	case errors.Is(err, broker.ErrCommandNotExecutable):
		kind = KindNotExecutable
	case errors.Is(err, errProtocol):
		kind = KindProtocol
	}
	return &Error{Kind: kind, Message: err.Error()}
}

// errProtocol marks a frame or request this package refuses.
var errProtocol = errors.New("agent-mode protocol")

func protocolf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errProtocol, fmt.Sprintf(format, args...))
}

// encode makes one frame of v.
func encode(v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(body) > MaxFrame {
		return nil, protocolf("a frame of %d bytes exceeds the limit of %d", len(body), MaxFrame)
	}
	frame := make([]byte, headerLen, headerLen+len(body))
	frame[0] = Version
	binary.BigEndian.PutUint32(frame[1:], uint32(len(body)))
	return append(frame, body...), nil
}

// writeFrame sends v, passing files with its first byte.
func writeFrame(conn *net.UnixConn, v any, files ...*os.File) error {
	frame, err := encode(v)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		// The header alone carries the rights: a short sendmsg of a large
		// frame would otherwise need care; Write then sends the rest whole.
		if _, _, err := conn.WriteMsgUnix(frame[:headerLen], unix.UnixRights(fds...), nil); err != nil {
			return err
		}
		frame = frame[headerLen:]
	}
	_, err = conn.Write(frame)
	return err
}

// readHeader reads a frame header, collecting any descriptors passed with
// it (close-on-exec). More than maxFds descriptors, or truncated control
// data, is refused, and every descriptor received is then closed.
func readHeader(conn *net.UnixConn, maxFds int) (n int, files []*os.File, err error) {
	var hdr [headerLen]byte
	oob := make([]byte, unix.CmsgSpace((stdioFds+1)*4))
	got := 0
	var fds []int
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, nil, err
	}
	for got < headerLen && err == nil {
		var nr, noob, flags int
		var rerr error
		err = raw.Read(func(fd uintptr) bool {
			nr, noob, flags, _, rerr = unix.Recvmsg(int(fd), hdr[got:], oob, unix.MSG_CMSG_CLOEXEC)
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			break
		}
		if noob > 0 {
			more, perr := parseRights(oob[:noob])
			fds = append(fds, more...)
			if perr != nil {
				err = perr
			}
		}
		if flags&unix.MSG_CTRUNC != 0 {
			err = protocolf("more descriptors were passed than a request may carry")
		}
		if nr == 0 && err == nil {
			err = io.EOF
			if got > 0 {
				err = io.ErrUnexpectedEOF
			}
		}
		got += nr
	}
	if err == nil && len(fds) > maxFds {
		err = protocolf("%d descriptors were passed; a request carries %d or none", len(fds), maxFds)
	}
	if err == nil && hdr[0] != Version {
		err = protocolf("version %d is not spoken here (this llms speaks version %d)", hdr[0], Version)
	}
	n = int(binary.BigEndian.Uint32(hdr[1:]))
	if err == nil && n > MaxFrame {
		err = protocolf("a frame of %d bytes exceeds the limit of %d", n, MaxFrame)
	}
	if err != nil {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return 0, nil, err
	}
	for _, fd := range fds {
		files = append(files, os.NewFile(uintptr(fd), "passed"))
	}
	return n, files, nil
}

// parseRights returns every descriptor in control messages; anything but
// SCM_RIGHTS is refused (its descriptors, if any, still returned to be
// closed).
func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, protocolf("control data: %v", err)
	}
	var fds []int
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_RIGHTS {
			continue
		}
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			return fds, protocolf("control data: %v", err)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// readFrame reads one frame into v, strictly: unknown fields and trailing
// data are refused. Descriptors are accepted only when maxFds > 0.
func readFrame(conn *net.UnixConn, v any, maxFds int) ([]*os.File, error) {
	n, files, err := readHeader(conn, maxFds)
	if err != nil {
		return nil, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(conn, body); err != nil {
		closeAll(files)
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		closeAll(files)
		return nil, protocolf("malformed frame: %v", err)
	}
	if dec.More() {
		closeAll(files)
		return nil, protocolf("malformed frame: data after the message")
	}
	return files, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// check refuses a request that is not well-formed, before anything is
// decided.
func (r *Request) check() error {
	want := map[string]bool{OpExec: r.Exec != nil, OpPeek: r.Peek != nil, OpList: r.List != nil,
		OpDescribe: r.Describe != nil, OpAudit: r.Audit != nil, OpAsk: r.Ask != nil}
	set := 0
	for _, p := range want {
		if p {
			set++
		}
	}
	has, known := want[r.Op]
	switch {
	case !known:
		return protocolf("unknown op %q", r.Op)
	case !has || set != 1:
		return protocolf("op %q needs its arguments, and only those", r.Op)
	case r.Via != "" && r.Via != ViaMCP:
		return protocolf("unknown front end %q", r.Via)
	case r.Exec != nil && r.Exec.Dir != "" && !filepath.IsAbs(r.Exec.Dir):
		return protocolf("exec's directory must be an absolute path")
	case !filepath.IsAbs(r.Cwd):
		return protocolf("the working directory must be an absolute path")
	case r.Exec != nil && len(r.Exec.Argv) == 0:
		return protocolf("exec needs a command")
	}
	return nil
}
