package redact

import (
	"errors"
	"io"
)

var errClosed = errors.New("redact: Writer is closed")

// A Writer masks one output stream. It is not safe for concurrent use.
//
// What it writes, and when, depends on the number of bytes written to it
// and on calls to Release, never on what the bytes are (see Streaming in
// the package documentation): the engine decides each byte as early as it
// can, but the decided output waits until the stream has gone W bytes
// past it.
type Writer struct {
	stream
	dst    io.Writer
	window int // W: output for input position p is written once the input reaches p+W

	// Input bytes before doneAt are output, queued or written: as they
	// are, or inside a masked run whose replacement is output. held starts
	// at or before doneAt. doneMasked: the byte before doneAt is masked,
	// so a run that reaches back over it goes on without a new
	// replacement.
	doneAt     int
	doneMasked bool

	// out[head:] is the output for input positions [base, doneAt), not
	// written yet: bytes as they are, one for one, and replacements,
	// which reps[first:] locates. Written output is dropped from the
	// front only once it is at least half of out, so that each byte is
	// moved at most once on average.
	out   []byte
	head  int
	reps  []rep
	first int
	base  int
}

// rep is a replacement in Writer.out, standing for input [in, end): it
// ends at out[next]. A replacement belongs to the input position where
// its run starts.
type rep struct{ in, end, next int }

// NewWriter returns a Writer that writes the masked stream to w. Each output
// stream needs its own Writer.
func (r *Redactor) NewWriter(w io.Writer) *Writer {
	wr := &Writer{dst: w, window: r.holdBack}
	wr.stream = stream{r: r, lineStart: true, held: make([]byte, 0, 2*r.longest), join: r.holdBack, closed: errClosed,
		process: func(buf []byte, cut int) error {
			wr.queue(buf, wr.at, wr.at+cut)
			return nil
		}}
	return wr
}

// Write masks p and writes the output for every input position that the
// stream has now passed by W bytes, in one Write to the destination, or
// none when there is nothing new. It holds the rest, whatever it is,
// until later Writes pass it, Release or Close.
//
// Write returns len(p) on success. If the destination fails, Write returns 0
// and that error, now and on every later call: input and output bytes do not
// correspond one to one, so no partial count would be meaningful.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.write(p)
	if err != nil {
		return 0, err
	}
	if err := w.releaseTo(w.end() - w.window); err != nil {
		return 0, err
	}
	return n, nil
}

// Release writes now everything the Writer holds, in one Write to the
// destination: what the engine has decided, masked, and the undecided
// tail with every complete form in it masked, as Close would. Unlike
// Close it keeps that tail as context: if later bytes complete a form
// that began in it, the rest of the form is masked (one replacement
// where the released bytes end), so only the part written before Release
// can show. The runner calls it when the child has gone quiet, so that a
// prompt is not held back (docs/adr/0026-redaction-releases-by-position.md).
func (w *Writer) Release() error {
	if w.err != nil {
		return w.err
	}
	return w.releaseTo(w.end())
}

// Close writes the held tail, masked, as the end of the stream. It does not
// close the destination. Later calls to Write, Release or Close fail.
func (w *Writer) Close() error {
	if err := w.close(); err != nil {
		return err
	}
	return w.releaseTo(w.end())
}

// end is the number of input bytes written so far; positions count from 0.
func (w *Writer) end() int { return w.at + len(w.held) }

// releaseTo writes the output for input positions before upTo. Positions
// the engine has not decided yet are decided now as if the stream ended
// there, without changing the engine's state: a complete form among them
// is masked whole, the rest shown as it is.
func (w *Writer) releaseTo(upTo int) error {
	if upTo <= w.base {
		return nil
	}
	if upTo > w.doneAt {
		w.r.scan(&w.scan, w.held, w.lineStart, true)
		w.queue(w.held, w.at, upTo)
	}
	n, pos, i := w.head, w.base, w.first
	for ; i < len(w.reps) && w.reps[i].in < upTo; i++ {
		n, pos = w.reps[i].next, w.reps[i].end
	}
	if upTo > pos {
		n += upTo - pos
		pos = upTo
	}
	if err := w.flush(w.out[w.head:n]); err != nil {
		w.err = err
		return err
	}
	w.head, w.first, w.base = n, i, pos
	if w.head >= len(w.out)-w.head {
		w.out = w.out[:copy(w.out, w.out[w.head:])]
		for k := w.first; k < len(w.reps); k++ {
			w.reps[k].next -= w.head
		}
		w.head = 0
	}
	if w.first >= len(w.reps)-w.first {
		w.reps = w.reps[:copy(w.reps, w.reps[w.first:])]
		w.first = 0
	}
	return nil
}

// queue appends to out the output for the input before position upTo that
// is not output yet, given the matches scan found in buf, which holds the
// input from position from on. Every maximal run of bytes that matches
// cover becomes the replacement of the run's first match, placed where
// the run starts, or where the output so far ends if the run began in
// bytes already shown. A run that starts before upTo is output whole,
// even where it goes past upTo.
func (w *Writer) queue(buf []byte, from, upTo int) {
	start, end, first := 0, 0, -1 // the current run, relative to buf
	for _, f := range w.scan.found {
		if first >= 0 && f.start < end {
			end = max(end, f.end)
			continue
		}
		if first >= 0 {
			w.run(buf, from, start, end, first)
		}
		if from+f.start >= upTo {
			first = -1
			break
		}
		start, end, first = f.start, f.end, f.pattern
	}
	if first >= 0 {
		w.run(buf, from, start, end, first)
	}
	w.plain(buf, from, upTo)
}

// run outputs the masked run buf[start:end], named by pattern.
func (w *Writer) run(buf []byte, from, start, end, pattern int) {
	start, end = from+start, from+end
	switch {
	case end <= w.doneAt:
		return // output already
	case start < w.doneAt && w.doneMasked:
		// The run goes on from masked bytes whose replacement is output.
		if k := len(w.reps) - 1; k >= w.first {
			w.reps[k].end = end
		} else {
			w.base = end // that replacement is written, and nothing after it
		}
	default:
		at := max(start, w.doneAt)
		w.plain(buf, from, at)
		w.out = append(w.out, w.r.replacements[w.r.owner[pattern]]...)
		w.reps = append(w.reps, rep{at, end, len(w.out)})
	}
	w.doneAt, w.doneMasked = end, true
}

// plain outputs the input from doneAt to position to as it is.
func (w *Writer) plain(buf []byte, from, to int) {
	if to <= w.doneAt {
		return
	}
	w.out = append(w.out, buf[w.doneAt-from:to-from]...)
	w.doneAt, w.doneMasked = to, false
}

// flush writes out to the destination.
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
