package audit

import (
	"github.com/llm-secrets/llms/internal/durable"

	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// MinKeySize is the shortest audit key Append and Verify accept.
const MinKeySize = 32

// Log is an audit log file and the key that chains it. Its methods may be
// called from many goroutines and processes at once.
type Log struct {
	path string
	key  []byte
}

// Open returns the log at path, keyed by key. It does no I/O: the file is
// created, with mode 0600, by the first Append. Open copies key.
func Open(path string, key []byte) *Log {
	return &Log{path: path, key: bytes.Clone(key)}
}

// BadLineError names the first line of a log that fails a check.
type BadLineError struct {
	Path string
	// Line counts from 1.
	Line   int
	Reason string
}

func (e *BadLineError) Error() string {
	return fmt.Sprintf("audit: %s: line %d: %s", e.Path, e.Line, e.Reason)
}

func (l *Log) newMAC() (hash.Hash, error) {
	if len(l.key) < MinKeySize {
		return nil, fmt.Errorf("audit: %s: key is %d bytes, want at least %d", l.path, len(l.key), MinKeySize)
	}
	return hmac.New(sha256.New, l.key), nil
}

// Append writes r as the next line of the log, holding an exclusive lock on
// the file from reading the tail to fsync. If r.Time is zero it is set to the
// current time inside the lock, so times follow file order on one clock.
//
// Any error means the record may not be durable and the caller must deny the
// access it describes. Append refuses to chain onto a last line that is torn,
// not canonical, or whose MAC does not verify under the key (a wrong key, or a
// forged or altered line): see Recovery in the package documentation.
func (l *Log) Append(r Record) error { return l.AppendAll([]Record{r}) }

// AppendAll is Append for many records, one line each, chained in order:
// one lock, one write and one fsync for them all, so that a change made of
// thousands of steps (an import) is recorded at the cost of one. Nothing is
// written when one of them is invalid.
func (l *Log) AppendAll(rs []Record) error {
	h, err := l.newMAC()
	if err != nil {
		return err
	}
	for i := range rs {
		if err := rs[i].validate(); err != nil {
			return fmt.Errorf("audit: %s: record not written: %w", l.path, err)
		}
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	if err := flock(f, syscall.LOCK_EX); err != nil {
		return fmt.Errorf("audit: %s: lock: %w", l.path, err)
	}
	size, err := regularSize(f)
	if err != nil {
		return fmt.Errorf("audit: %s: %w", l.path, err)
	}
	seq, prev, err := tailState(f, size, h)
	if err != nil {
		return fmt.Errorf("audit: %s: cannot append: %w; `llms audit verify` names the bad line", l.path, err)
	}
	if seq > ^uint64(0)-uint64(len(rs)) {
		return fmt.Errorf("audit: %s: seq would overflow", l.path)
	}
	now := time.Now()
	var lines []byte
	for _, r := range rs {
		if r.Time.IsZero() {
			r.Time = now
		}
		seq++
		start := len(lines)
		lines = appendLine(lines, h, &prev, &Entry{Record: r, Seq: seq})
		if n := len(lines) - start; n > maxLineBytes {
			return fmt.Errorf("audit: %s: record not written: line would be %d bytes, limit %d", l.path, n, maxLineBytes)
		}
	}
	if err := writeOnce(f, lines); err != nil {
		return fmt.Errorf("audit: %s: write: %w", l.path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("audit: %s: fsync: %w", l.path, err)
	}
	if size == 0 {
		// The file may be new: make its directory entry durable as well.
		if err := durable.SyncDir(filepath.Dir(l.path)); err != nil {
			return fmt.Errorf("audit: %s: %w", l.path, err)
		}
	}
	// Closing releases the lock.
	if err := f.Close(); err != nil {
		return fmt.Errorf("audit: %s: close: %w", l.path, err)
	}
	return nil
}

// tailState returns the seq and MAC of the last line of the first size bytes
// of f, after checking that line's MAC against the line before it (or the
// genesis value). An empty log gives seq 0 and the genesis value.
func tailState(f io.ReaderAt, size int64, h hash.Hash) (uint64, [sha256.Size]byte, error) {
	lines, _, err := lastLines(f, size, 2)
	if err != nil || len(lines) == 0 {
		return 0, genesis, err
	}
	last, err := parseLine(lines[len(lines)-1])
	if err != nil {
		return 0, genesis, fmt.Errorf("last line is not canonical: %w", err)
	}
	prevSeq, prevMAC := uint64(0), genesis
	if len(lines) == 2 {
		before, err := parseLine(lines[0])
		if err != nil {
			return 0, genesis, fmt.Errorf("next-to-last line is not canonical: %w", err)
		}
		prevSeq, prevMAC = before.Seq, before.mac
	}
	if last.Seq != prevSeq+1 {
		return 0, genesis, fmt.Errorf("last line has seq %d after %d", last.Seq, prevSeq)
	}
	if !chainsOnto(h, &prevMAC, lines[len(lines)-1], &last) {
		return 0, genesis, errors.New("last line's mac does not verify (wrong key, or the line was forged or altered)")
	}
	return last.Seq, last.mac, nil
}

// chainsOnto reports whether pl, parsed from line, carries the MAC that
// chains it onto prev.
func chainsOnto(h hash.Hash, prev *[sha256.Size]byte, line []byte, pl *parsedLine) bool {
	sum := chainMAC(h, prev, line[:pl.bodyLen])
	return hmac.Equal(sum[:], pl.mac[:])
}

// Verify reads the whole log and checks that every line is canonical and ends
// in '\n', that seq runs 1, 2, 3… and that every MAC chains under the key. It
// returns the number of lines that passed; when a line fails, err is a
// *BadLineError naming the first such line and why. An empty file verifies
// with 0 lines. Verify reads the file as it was when Verify began and does
// not block appends for longer than it takes to learn the file's size.
func (l *Log) Verify() (lines int, err error) {
	h, err := l.newMAC()
	if err != nil {
		return 0, err
	}
	return readLog(l.path, h, nil)
}

// Scan calls fn with each entry of the log at path, first to last, checking
// what Verify checks except the MACs, which need the key: only Verify says
// the log is authentic. It stops at the first bad line with a *BadLineError,
// or at the first error from fn, which it returns as is.
func Scan(path string, fn func(Entry) error) error {
	_, err := readLog(path, nil, fn)
	return err
}

// readLog streams the log at path, checking lines as Verify documents; it
// checks MACs when h is not nil and calls fn, when not nil, for each entry.
func readLog(path string, h hash.Hash, fn func(Entry) error) (int, error) {
	f, size, err := openForRead(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return readChain(io.NewSectionReader(f, 0, size), size, path, h, fn)
}

// readChain reads a log of size bytes from r; see readLog.
func readChain(r io.Reader, size int64, path string, h hash.Hash, fn func(Entry) error) (int, error) {
	// The buffer holds the longest line, so that ReadSlice sees each line
	// whole, but no more than the file, so small logs read cheaply.
	br := bufio.NewReaderSize(r, int(min(size+1, maxLineBytes)))
	prev := genesis
	n := 0
	bad := func(reason string) (int, error) {
		return n, &BadLineError{Path: path, Line: n + 1, Reason: reason}
	}
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case err == io.EOF && len(line) == 0:
			return n, nil
		case err == io.EOF:
			return bad("incomplete line: no trailing newline (a torn write?)")
		case err == bufio.ErrBufferFull:
			return bad("line is longer than " + strconv.Itoa(maxLineBytes-1) + " bytes")
		case err != nil:
			return n, fmt.Errorf("audit: %s: read: %w", path, err)
		}
		line = line[:len(line)-1]
		pl, err := parseLine(line)
		if err != nil {
			return bad("not canonical: " + err.Error())
		}
		if want := uint64(n) + 1; pl.Seq != want {
			return bad(fmt.Sprintf("seq %d, want %d (a line is missing, repeated or out of order)", pl.Seq, want))
		}
		if h != nil {
			if !chainsOnto(h, &prev, line, &pl) {
				return bad("mac does not verify (wrong key, or this line was forged or altered)")
			}
			prev = pl.mac
		}
		if fn != nil {
			if err := fn(pl.Entry); err != nil {
				return n, err
			}
		}
		n++
	}
}

// openForRead opens the log and returns the size it had while no Append was
// in progress. Appends are whole lines written under an exclusive lock, so
// the bytes up to that size are stable; reading them needs no lock, and a
// long read does not hold up the broker.
func openForRead(path string) (*os.File, int64, error) {
	// O_NONBLOCK keeps a FIFO planted at path from blocking the open; it has
	// no effect on a regular file, and anything else is refused below.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: %w", err)
	}
	size, err := sharedSize(f)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("audit: %s: %w", path, err)
	}
	return f, size, nil
}

func sharedSize(f *os.File) (int64, error) {
	if err := flock(f, syscall.LOCK_SH); err != nil {
		return 0, fmt.Errorf("lock: %w", err)
	}
	size, err := regularSize(f)
	if uerr := flock(f, syscall.LOCK_UN); uerr != nil && err == nil {
		err = fmt.Errorf("unlock: %w", uerr)
	}
	return size, err
}

func regularSize(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, errors.New("not a regular file")
	}
	return fi.Size(), nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

// writeOnce writes b with a single write(2): with O_APPEND the kernel places
// it at the end in one piece. A short write is an error, not retried, because
// a second write would no longer be one piece; the torn line it leaves makes
// the next Append fail closed.
func writeOnce(f *os.File, b []byte) error {
	for {
		n, err := syscall.Write(int(f.Fd()), b)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return err
		case n != len(b):
			return fmt.Errorf("short write: %d of %d bytes", n, len(b))
		}
		return nil
	}
}
