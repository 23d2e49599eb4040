package credproxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// quietRelease is how long a bound host's response may pause before the
// redactor releases what it holds, so that a streamed answer (server-sent
// events) is not held back; as in the runner, the moment depends on time
// alone, never on what the bytes are.
const quietRelease = 20 * time.Millisecond

// respond relays resp to the client: as it is from a host no value is bound
// to, redacted from one that is.
func (p *Proxy) respond(w http.ResponseWriter, resp *http.Response, t target) {
	redacting := len(p.bound[t.String()]) > 0
	if redacting {
		if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
			p.refuse(w, &refusal{t: t, status: http.StatusBadGateway, rule: RuleCompressed,
				reason: fmt.Sprintf("%s answered with a %s body although asked for identity; it cannot be redacted", t, ce)})
			return
		}
	}
	h := w.Header()
	for name, vals := range resp.Header {
		if slices.Contains(hopHeaders, name) || redacting && name == "Content-Length" {
			continue
		}
		for _, v := range vals {
			if redacting {
				v = p.redactString(v)
			}
			h.Add(name, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	if !redacting {
		copyFlushing(w, rc, resp.Body)
		return
	}
	p.copyRedacted(w, rc, resp.Body)
}

// copyFlushing copies body to w, flushing after each read so that a
// streamed answer keeps its pace.
func copyFlushing(w io.Writer, rc *http.ResponseController, body io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// copyRedacted copies body to w through a redact.Writer: a reader
// goroutine hands chunks over, and when none has come for quietRelease the
// redactor releases what it holds.
func (p *Proxy) copyRedacted(w io.Writer, rc *http.ResponseController, body io.Reader) {
	// The response writer's buffer is flushed when the body pauses or
	// ends, not after each write: a write per chunk would cost a TLS
	// record and a system call each.
	rw := p.red.NewWriter(w)
	type chunk struct {
		b   []byte
		err error
	}
	chunks := make(chan chunk)
	free := make(chan []byte, 2)
	free <- make([]byte, 64<<10)
	free <- make([]byte, 64<<10)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			n, err := body.Read(buf)
			select {
			case chunks <- chunk{buf[:n], err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	timer := time.NewTimer(quietRelease)
	defer timer.Stop()
	held := false
	for {
		select {
		case c := <-chunks:
			if len(c.b) > 0 {
				if _, err := rw.Write(c.b); err != nil {
					return
				}
				held = true
			}
			if c.err != nil {
				rw.Close()
				return
			}
			free <- c.b[:cap(c.b)]
			timer.Reset(quietRelease)
		case <-timer.C:
			if held {
				if rw.Release() != nil || rc.Flush() != nil {
					return
				}
				held = false
			}
		}
	}
}

// redactString masks every value bound here, in every form, in s.
func (p *Proxy) redactString(s string) string {
	if p.red == nil {
		return s
	}
	var buf bytes.Buffer
	rw := p.red.NewWriter(&buf)
	rw.Write([]byte(s))
	rw.Close()
	return buf.String()
}
