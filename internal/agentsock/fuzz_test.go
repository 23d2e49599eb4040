package agentsock

import (
	"encoding/binary"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// socketPair is a connected pair of Unix stream sockets.
func socketPair(t testing.TB) (a, b *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	a, b = conn(fds[0]), conn(fds[1])
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// FuzzReadRequest: whatever bytes arrive, reading a request never panics,
// never takes more than MaxFrame, and what it accepts is well-formed.
func FuzzReadRequest(f *testing.F) {
	frame := func(body string) []byte {
		h := []byte{Version, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(h[1:], uint32(len(body)))
		return append(h, body...)
	}
	f.Add(frame(`{"op":"list","cwd":"/","list":{}}`))
	f.Add(frame(`{"op":"peek","cwd":"/tmp","peek":{"name":"k"},"token":"x","token_given":true}`))
	f.Add(frame(`{"op":"exec","cwd":"/","exec":{"argv":["true"],"env":["A=b"],"inject":[{"var":"X","secret":"k"}]}}`))
	f.Add(frame(`{"op":"list","cwd":"/","list":{},"list":{}}`))
	f.Add([]byte{Version, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{2, 0, 0, 0, 2, '{', '}'})
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := socketPair(t)
		go func() {
			client.Write(data)
			client.CloseWrite()
		}()
		_ = server.SetReadDeadline(time.Now().Add(5 * time.Second))
		var req Request
		files, err := readFrame(server, &req, stdioFds)
		closeAll(files)
		if err != nil {
			return
		}
		if len(data) > headerLen+MaxFrame {
			t.Fatalf("accepted a frame longer than MaxFrame")
		}
		if err := req.check(); err == nil {
			if req.Cwd == "" || (req.Exec != nil && len(req.Exec.Argv) == 0) {
				t.Fatalf("check accepted %+v", req)
			}
		}
	})
}
