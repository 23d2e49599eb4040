package redact

import (
	"errors"
	"io"
)

var errClosed = errors.New("redact: Writer is closed")

// A Writer masks one output stream. It is not safe for concurrent Writes.
type Writer struct {
	r    *Redactor
	dst  io.Writer
	held []byte // the stream's undecided tail: a proper prefix of a pattern
	out  []byte // masked output of the current call, when it is not a plain slice of the input
	err  error  // sticky: the first error from dst, or errClosed
}

// NewWriter returns a Writer that writes the masked stream to w. Each output
// stream needs its own Writer.
func (r *Redactor) NewWriter(w io.Writer) *Writer {
	// held never exceeds one pattern and briefly grows by one more.
	return &Writer{r: r, dst: w, held: make([]byte, 0, 2*r.longest)}
}

// Write masks p and writes, before returning, every byte that can no longer
// be part of a match. It holds back only a tail of the stream that is a
// proper prefix of some pattern, until a later Write or Close decides it.
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
	w.out = w.out[:0]
	rest, decided := w.resolveHeld(p)
	out := w.out
	if decided {
		out = w.mask(rest, false)
	}
	if err := w.flush(out); err != nil {
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
	w.out = w.out[:0]
	err := w.flush(w.mask(w.held, true))
	w.held = w.held[:0]
	if err == nil {
		w.err = errClosed
	}
	return err
}

// resolveHeld decides the matches that start in the held tail, now that p
// follows it. It returns the part of p that remains to be masked, or false if
// all of p joined a new held tail.
func (w *Writer) resolveHeld(p []byte) (rest []byte, decided bool) {
	n := len(w.held)
	if n == 0 {
		return p, true
	}
	// A match starting in the held tail ends within the longest pattern's
	// length of it, so that much of p is enough to decide every such start.
	k := min(len(p), w.r.longest)
	joined := append(w.held, p[:k]...)
	pos := 0
	for pos < n {
		h := w.r.find(joined, pos, false)
		if h.kind == noHit || h.start >= n {
			// Starts at n and beyond are decided by masking p itself.
			w.out = append(w.out, joined[pos:n]...)
			pos = n
			break
		}
		w.out = append(w.out, joined[pos:h.start]...)
		if h.kind == pending {
			tail := copy(joined, joined[h.start:])
			w.held = append(joined[:tail], p[k:]...)
			return nil, false
		}
		w.out = append(w.out, w.r.replacements[w.r.owner[h.pattern]]...)
		pos = h.start + len(w.r.patterns[h.pattern])
	}
	w.held = joined[:0]
	return p[pos-n:], true
}

// mask masks data and returns what to write. Unless final, an undecided tail
// is not returned but held. The result aliases data when nothing in it was
// replaced and nothing else is pending output, so text without secrets is
// written without a copy.
func (w *Writer) mask(data []byte, final bool) []byte {
	start := 0 // first byte of data not yet in the output
	end := len(data)
	for {
		h := w.r.find(data, start, final)
		if h.kind == noHit {
			break
		}
		if h.kind == pending {
			w.held = append(w.held[:0], data[h.start:]...)
			end = h.start
			break
		}
		w.out = append(w.out, data[start:h.start]...)
		w.out = append(w.out, w.r.replacements[w.r.owner[h.pattern]]...)
		start = h.start + len(w.r.patterns[h.pattern])
	}
	if len(w.out) == 0 {
		return data[start:end]
	}
	w.out = append(w.out, data[start:end]...)
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
