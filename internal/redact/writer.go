package redact

import (
	"errors"
	"io"
)

var errClosed = errors.New("redact: Writer is closed")

// A Writer masks one output stream. It is not safe for concurrent Writes.
type Writer struct {
	stream
	dst    io.Writer
	masked int    // held[:masked] lies in a masked run whose replacement is written
	out    []byte // masked output of the current call, when it is not a plain slice of the input
}

// NewWriter returns a Writer that writes the masked stream to w. Each output
// stream needs its own Writer.
func (r *Redactor) NewWriter(w io.Writer) *Writer {
	wr := &Writer{dst: w}
	wr.stream = stream{r: r, lineStart: true, held: make([]byte, 0, 2*r.longest), closed: errClosed,
		process: func(buf []byte, cut int) error { return wr.flush(wr.mask(buf, cut)) }}
	return wr
}

// Write masks p and writes, before returning, every byte that can no longer
// be part of a match. It holds back only a tail of the stream that may still
// become or extend a match (see the package documentation), until a later
// Write or Close decides it.
//
// Write returns len(p) on success. If the destination fails, Write returns 0
// and that error, now and on every later call: input and output bytes do not
// correspond one to one, so no partial count would be meaningful.
func (w *Writer) Write(p []byte) (int, error) { return w.write(p) }

// Close writes the held tail, masked, as the end of the stream. It does not
// close the destination. Later calls to Write or Close fail.
func (w *Writer) Close() error { return w.close() }

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

// flush writes out to the destination (the stream makes a failure sticky).
func (w *Writer) flush(out []byte) error {
	if len(out) == 0 {
		return nil
	}
	n, err := w.dst.Write(out)
	if err == nil && n < len(out) {
		err = io.ErrShortWrite
	}
	return err
}
