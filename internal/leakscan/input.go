package leakscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"

	"github.com/llm-secrets/llms/internal/smallfile"
)

// An Input is one stream to scan.
type Input struct {
	// Path names the stream in findings: a file's path, or for a git
	// object "<commit>:<path>" or ":<path>" (the index).
	Path string
	// Skipped, when not empty, says why this file is left out; Open is
	// nil. It is yielded, not reported aside, so that the consumer (the
	// broker's scan) shows its path as it shows every other: with any
	// value in it masked.
	Skipped string
	// Open returns the stream. It is called at most once.
	Open func() (io.ReadCloser, error)
	// Locate, when not nil, returns a better name for Path once something
	// was found in the stream (for a git blob: the commit that added it).
	// It is called at most once, and only for a stream with findings.
	Locate func() string
}

// Options shape what a walk yields.
type Options struct {
	// MaxBinary: a binary file (a NUL byte in its first 8 KiB) larger than
	// this is yielded as Skipped. Negative: never skipped.
	MaxBinary int64
}

// DefaultMaxBinary is the binary size limit of `llms scan PATH…`.
const DefaultMaxBinary = 1 << 20

// sniffLen is how much of a file decides whether it is binary, as git and
// grep decide it: a NUL byte in the first 8 KiB.
const sniffLen = 8 << 10

// Paths yields every regular file under each path, in lexical order within
// a directory. A path that is itself a symbolic link is followed; links
// found while walking are not. Errors (a path that does not exist, a
// directory that cannot be read) are yielded with the path and do not stop
// the walk.
func Paths(paths []string, o Options) iter.Seq2[Input, error] {
	return func(yield func(Input, error) bool) {
		for _, root := range paths {
			if !walk(root, o, true, yield) {
				return
			}
		}
	}
}

// walk yields the files under root; it returns false when yield asked to
// stop. Missing roots are errors only when mustExist.
func walk(root string, o Options, mustExist bool, yield func(Input, error) bool) bool {
	fi, err := os.Stat(root)
	if err != nil {
		if !mustExist && errors.Is(err, fs.ErrNotExist) {
			return true
		}
		return yield(Input{Path: root}, err)
	}
	if !fi.IsDir() {
		return yieldFile(root, fi, o, smallfile.Open, yield)
	}
	stop := errors.New("stop")
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if !yield(Input{Path: path}, err) {
				return stop
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path != root && d.Name() == ".git" {
				return fs.SkipDir // scanned by --git, as objects
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if !yield(Input{Path: path}, err) {
				return stop
			}
			return nil
		}
		if !yieldFile(path, info, o, smallfile.OpenNoFollow, yield) {
			return stop
		}
		return nil
	})
	return err != stop
}

// yieldFile yields one regular file, unless it is a binary over the limit,
// to be opened by open (smallfile: nothing but a regular file is opened;
// a file found by a walk or a listing is opened without following a link
// swapped in since).
func yieldFile(path string, fi fs.FileInfo, o Options, open func(string) (*os.File, error), yield func(Input, error) bool) bool {
	if !fi.Mode().IsRegular() {
		return yield(Input{Path: path, Skipped: "not a regular file"}, nil)
	}
	if o.MaxBinary >= 0 && fi.Size() > o.MaxBinary {
		bin, err := fileIsBinary(path, open)
		if err != nil {
			return yield(Input{Path: path}, err)
		}
		if bin {
			return yield(Input{Path: path, Skipped: binaryTooLarge(fi.Size(), o.MaxBinary)}, nil)
		}
	}
	return yield(Input{Path: path, Open: func() (io.ReadCloser, error) { return open(path) }}, nil)
}

func fileIsBinary(path string, open func(string) (*os.File, error)) (bool, error) {
	f, err := open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false, err
	}
	return isBinary(head[:n]), nil
}

func isBinary(head []byte) bool { return bytes.IndexByte(head, 0) >= 0 }

// Concat yields the inputs of each sequence in turn.
func Concat(seqs ...iter.Seq2[Input, error]) iter.Seq2[Input, error] {
	return func(yield func(Input, error) bool) {
		for _, s := range slices.Clip(seqs) {
			for in, err := range s {
				if !yield(in, err) {
					return
				}
			}
		}
	}
}

func binaryTooLarge(size, limit int64) string {
	return fmt.Sprintf("binary, %d bytes (over the %d-byte limit)", size, limit)
}
