package redact

import (
	"bytes"
	"errors"
)

var errFinderClosed = errors.New("redact: Finder is closed")

// A Found is a Match in a stream: Start and End are offsets from the
// stream's first byte, Line and Column (from 1; the column counts bytes)
// where Start is.
type Found struct {
	Match
	Line, Column int
}

// A Finder reports where secrets are in one stream, with the engine a
// Writer masks with: the matches Find would return for the whole stream,
// however it is split into Writes, in order of Start. It holds back what
// a Writer holds back, and nothing else. It is not safe for concurrent use.
type Finder struct {
	stream
	report    func(Found) error
	line      int // line of held[0]
	lineBegin int // stream offset where that line begins
}

// NewFinder returns a Finder that calls report for each match. An error
// from report stops the Finder: Write and Close return it from then on.
func (r *Redactor) NewFinder(report func(Found) error) *Finder {
	f := &Finder{report: report, line: 1}
	f.stream = stream{r: r, lineStart: true, join: r.holdBack, closed: errFinderClosed, process: f.reportMatches}
	return f
}

// Write reports the matches that p decides. It returns len(p), or 0 and the
// error report returned.
func (f *Finder) Write(p []byte) (int, error) { return f.write(p) }

// Close reports the matches in the rest of the stream. Later calls to
// Write or Close fail.
func (f *Finder) Close() error { return f.close() }

// reportMatches reports the matches scan found in buf[:cut] and counts
// lines up to cut.
func (f *Finder) reportMatches(buf []byte, cut int) error {
	at := 0 // buf[:at] is counted into line and lineBegin
	advance := func(to int) {
		if n := bytes.Count(buf[at:to], []byte{'\n'}); n > 0 {
			f.line += n
			f.lineBegin = f.at + at + bytes.LastIndexByte(buf[at:to], '\n') + 1
		}
		at = to
	}
	for _, m := range f.scan.found {
		advance(m.start)
		if err := f.report(Found{f.r.match(m, f.at), f.line, f.at + m.start - f.lineBegin + 1}); err != nil {
			return err
		}
	}
	advance(cut)
	return nil
}
