// Package smallfile owns opening a file that someone else may have
// planted — a policy, a profiles file, a git config or HEAD, a file of a
// working tree being scanned — and reading it when it is small. It opens
// only a regular file, and opens nothing else at all: the path is first
// opened with O_PATH, which runs no open of a device or FIFO (a tape
// rewinds, a watchdog arms, a FIFO's writer is released), checked, and
// only then reopened for reading, through that descriptor, so that the
// path cannot be swapped between the check and the read. Read reads at
// most a limit of bytes, so that a link to a huge file cannot exhaust
// memory. It refuses anything else with an error naming the path, and
// never puts the file's content in an error. It does not parse what it
// reads.
package smallfile

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Open opens the regular file at path for reading, following symbolic
// links. A missing file is an error for which errors.Is(err,
// fs.ErrNotExist) holds; a file that is not regular (a FIFO, a device, a
// directory) is refused without being opened.
func Open(path string) (*os.File, error) {
	return open(path, 0)
}

// OpenNoFollow is Open, refusing a symbolic link as the last component:
// for a file found by listing a directory, which a link swapped in since
// must not redirect.
func OpenNoFollow(path string) (*os.File, error) {
	return open(path, unix.O_NOFOLLOW)
}

func open(path string, flags int) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC|flags, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	// The same file, whatever the path names by now. O_NONBLOCK is kept
	// for a mandatory lock's sake; a regular file never blocks otherwise.
	rfd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(rfd), path), nil
}

// Read returns the content of the regular file at path, at most limit
// bytes, as Open opens it. A file longer than limit is an error too.
func Read(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}
