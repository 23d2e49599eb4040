package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

// ReadTail returns the last n entries of the log at path, oldest first. It
// reads backwards from the end, so its cost does not grow with the log. Like
// Scan it checks form and seq continuity (among the entries it returns) but
// not MACs: only Verify says the log is authentic.
func ReadTail(path string, n int) ([]Entry, error) {
	if n < 1 {
		return nil, fmt.Errorf("audit: ReadTail: n is %d, want at least 1", n)
	}
	f, size, err := openForRead(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readTail(f, size, path, n)
}

// readTail is ReadTail on the first size bytes of r; path is for errors.
func readTail(r io.ReaderAt, size int64, path string, n int) ([]Entry, error) {
	lines, fromStart, err := lastLines(r, size, n)
	if err != nil {
		return nil, fmt.Errorf("audit: %s: %w", path, err)
	}
	entries := make([]Entry, 0, len(lines))
	for i, line := range lines {
		fromEnd := len(lines) - i
		pl, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("audit: %s: line %d from the end: not canonical: %w", path, fromEnd, err)
		}
		want := uint64(1)
		if i > 0 {
			want = entries[i-1].Seq + 1
		}
		if (i > 0 || fromStart) && pl.Seq != want {
			return nil, fmt.Errorf("audit: %s: line %d from the end: seq %d, want %d", path, fromEnd, pl.Seq, want)
		}
		entries = append(entries, pl.Entry)
	}
	return entries, nil
}

const (
	firstTailChunk = 8 << 10
	maxTailChunk   = 1 << 20
)

var errTornTail = errors.New("last line is incomplete: no trailing newline (a torn write?)")

// lastLines returns up to n last lines of the first size bytes of r, oldest
// first and without their '\n', reading backwards in growing chunks.
// fromStart reports whether the first line returned is the first of the file.
// A tail without a final '\n' is an error, as is a line longer than
// maxLineBytes, which also bounds what is read beyond n lines.
func lastLines(r io.ReaderAt, size int64, n int) (lines [][]byte, fromStart bool, err error) {
	if size == 0 {
		return nil, true, nil
	}
	// buf holds bytes [off, size) of r; newlines counts the '\n' in it
	// before its final byte, each of which starts a line.
	var buf []byte
	off := size
	chunk := int64(firstTailChunk)
	newlines := 0
	for {
		step := min(chunk, off)
		off -= step
		next := make([]byte, int(step)+len(buf))
		if _, err := r.ReadAt(next[:step], off); err != nil {
			return nil, false, fmt.Errorf("read: %w", err)
		}
		copy(next[step:], buf)
		if len(buf) == 0 {
			if next[len(next)-1] != '\n' {
				return nil, false, errTornTail
			}
			newlines--
		}
		newlines += bytes.Count(next[:step], []byte{'\n'})
		buf = next
		if newlines >= n || off == 0 {
			break
		}
		if bytes.IndexByte(buf, '\n') >= maxLineBytes {
			return nil, false, fmt.Errorf("a line is longer than %d bytes", maxLineBytes-1)
		}
		chunk = min(2*chunk, maxTailChunk)
	}
	end := len(buf) - 1
	for len(lines) < n {
		i := bytes.LastIndexByte(buf[:end], '\n')
		if i < 0 {
			// Only reached when the loop above read back to offset 0.
			lines = append(lines, buf[:end])
			fromStart = true
			break
		}
		lines = append(lines, buf[i+1:end])
		end = i
	}
	slices.Reverse(lines)
	return lines, fromStart, nil
}
