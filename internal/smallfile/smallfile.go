// Package smallfile owns reading a small configuration file that someone
// else may have planted: a policy, a profiles file, a git config. It reads
// only a regular file, opened non-blocking so that a FIFO at the path
// cannot hang the reader, and at most a limit of bytes, so that a link to
// /dev/zero cannot exhaust memory. It refuses anything else with an error
// naming the path, and never puts the file's content in an error. It does
// not parse what it reads.
package smallfile

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// Read returns the content of the regular file at path, at most limit
// bytes. A missing file is an error for which errors.Is(err,
// fs.ErrNotExist) holds; a file that is not regular (a FIFO, a device, a
// directory) or is longer than limit is an error too.
func Read(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}
