package redact

import (
	"errors"
	"io"
)

var errClosed = errors.New("redact: Writer is closed")

// A Writer masks one output stream. It is not safe for concurrent Writes.
type Writer struct {
	r         *Redactor
	dst       io.Writer
	held      []byte // the stream's undecided tail
	masked    int    // held[:masked] lies in a masked run whose replacement is written
	lineStart bool   // held[0], or the next byte, starts a line
	scan      scanner
	out       []byte // masked output of the current call, when it is not a plain slice of the input
	err       error  // sticky: the first error from dst, or errClosed
}

// NewWriter returns a Writer that writes the masked stream to w. Each output
// stream needs its own Writer.
func (r *Redactor) NewWriter(w io.Writer) *Writer {
	return &Writer{r: r, dst: w, lineStart: true, held: make([]byte, 0, 2*r.longest)}
}

// Write masks p and writes, before returning, every byte that can no longer
// be part of a match. It holds back only a tail of the stream that may still
// become or extend a match (see the package documentation), until a later
// Write or Close decides it.
//
// Write returns len(p) on success. If the destination fails, Write returns 0
// and that error, now and on every later call: input and output bytes do not
// correspond one to one, so no partial count would be meaningful.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	buf := p
	if len(w.held) > 0 {
		w.held = append(w.held, p...)
		buf = w.held
	}
	if err := w.process(buf, false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close writes the held tail, masked, as the end of the stream. It does not
// close the destination. Later calls to Write or Close fail.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	err := w.process(w.held, true)
	if err == nil {
		w.err = errClosed
	}
	return err
}

// process masks buf, the held tail followed by new bytes, writes what is
// decided and holds the rest.
func (w *Writer) process(buf []byte, final bool) error {
	cut := w.r.scan(&w.scan, buf, w.lineStart, final)
	if err := w.flush(w.mask(buf, cut)); err != nil {
		return err
	}
	if cut > 0 {
		w.lineStart = buf[cut-1] == '\n'
	}
	// buf may be w.held itself; append copies the tail down.
	w.held = append(w.held[:0], buf[cut:]...)
	return nil
}

// mask returns the output for buf[:cut], given the matches scan found:
// every maximal run of bytes that matches cover becomes the replacement of
// the run's first match. The result aliases buf when nothing in it is
// replaced, so text without secrets is written without a copy.
func (w *Writer) mask(buf []byte, cut int) []byte {
	end := w.masked // the end of the current masked run
	if len(w.scan.found) == 0 {
		w.masked = max(0, end-cut)
		return buf[min(end, cut):cut]
	}
	w.out = w.out[:0]
	for _, f := range w.scan.found {
		if f.start < end {
			end = max(end, f.end)
			continue
		}
		w.out = append(w.out, buf[end:f.start]...)
		w.out = append(w.out, w.r.replacements[w.r.owner[f.pattern]]...)
		end = f.end
	}
	if end < cut {
		w.out = append(w.out, buf[end:cut]...)
	}
	w.masked = max(0, end-cut)
	return w.out
}

// flush writes out to the destination and makes any failure sticky.
func (w *Writer) flush(out []byte) error {
	if len(out) == 0 {
		return nil
	}
	n, err := w.dst.Write(out)
	if err == nil && n < len(out) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
	}
	return err
}
