package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// MaxLine bounds one JSON-RPC message read from the client.
const MaxLine = 4 << 20

// Serve runs s over newline-delimited JSON on in and out until in ends.
//
// The SDK's stdio transport ends the session at the first byte that does
// not decode. A line that is not JSON (or is longer than MaxLine) is
// answered here with a JSON-RPC parse error instead and dropped, so one
// bad line cannot take the session down; every other line goes to the
// SDK, which answers malformed requests with JSON-RPC errors itself.
//
// When in ends, the requests already read are answered before the session
// closes (for at most MaxTimeout and a minute), so that
// `llms mcp < requests.jsonl` answers every request.
func Serve(ctx context.Context, s *mcp.Server, in io.Reader, out io.Writer) error {
	w := &lockedWriter{w: out}
	pr, pw := io.Pipe()
	go func() {
		err := filterLines(in, pw, w)
		w.waitAnswered(time.Duration(MaxTimeout)*time.Second + time.Minute)
		pw.CloseWithError(err)
	}()
	return s.Run(ctx, &mcp.IOTransport{Reader: pr, Writer: w})
}

// The JSON-RPC answers to a line that is not JSON, and to JSON that is
// not one JSON-RPC 2.0 message (batches included: the current protocol
// has none). Their id is null: the request's cannot be trusted.
var (
	parseError     = []byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error: a message must be one line of JSON, at most 4 MiB"}}` + "\n")
	invalidRequest = []byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: not one JSON-RPC 2.0 message"}}` + "\n")
)

// answer returns nil when line may go to the SDK, else the error to send.
func answer(line []byte) []byte {
	if !json.Valid(line) {
		return parseError
	}
	if line[0] != '{' {
		return invalidRequest
	}
	if _, err := jsonrpc.DecodeMessage(line); err != nil {
		return invalidRequest
	}
	return nil
}

// isCall reports whether line is a request that expects an answer.
func isCall(line []byte) bool {
	m, err := jsonrpc.DecodeMessage(line)
	r, ok := m.(*jsonrpc.Request)
	return err == nil && ok && r.ID.IsValid()
}

// filterLines copies each JSON line of in to pass and answers every other
// line on reply. It returns nil at the end of in.
func filterLines(in io.Reader, pass io.Writer, reply io.Writer) error {
	r := bufio.NewReaderSize(in, 64<<10)
	var line []byte
	tooLong := false
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > MaxLine+2 {
			tooLong, line = true, line[:0]
		} else if !tooLong {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 || tooLong {
			bad := parseError
			if !tooLong {
				bad = answer(trimmed)
			}
			w, msg := reply, bad
			if bad == nil {
				w, msg = pass, append(trimmed, '\n')
				if lw, ok := reply.(*lockedWriter); ok && isCall(trimmed) {
					lw.pending.Add(1)
				}
			}
			if _, werr := w.Write(msg); werr != nil {
				return werr
			}
		}
		line, tooLong = line[:0], false
		if err != nil {
			return nil
		}
	}
}

// lockedWriter makes each Write whole with respect to the others: the SDK
// and filterLines both answer on it. It counts the calls passed to the
// SDK that it has not yet seen answered.
type lockedWriter struct {
	mu      sync.Mutex
	w       io.Writer
	pending atomic.Int64
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	if m, err := jsonrpc.DecodeMessage(bytes.TrimSpace(p)); err == nil {
		if _, ok := m.(*jsonrpc.Response); ok {
			l.pending.Add(-1)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// waitAnswered waits until every call passed on has been answered, or
// for at most limit.
func (l *lockedWriter) waitAnswered(limit time.Duration) {
	for deadline := time.Now().Add(limit); l.pending.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *lockedWriter) Close() error { return nil }
