package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
)

// copyBufferSize bounds one read of child output. A pipe delivers at most
// its capacity per read, so this is also the pipe size Run asks for: large
// transfers then cost few system calls and context switches.
const copyBufferSize = 1 << 20

// outputCopier copies child output streams to writers. Its mutex makes
// sure the writers are never called concurrently, so Stdout and Stderr may
// be the same writer, or writers sharing state, without locking of their own.
type outputCopier struct {
	mu    sync.Mutex
	wg    sync.WaitGroup
	errs  []error
	srcs  []*os.File
	ended []bool     // ended[i]: the copy from srcs[i] is over
	dsts  []Releaser // dsts[i]: where srcs[i] goes, if it holds output back
	// abandoned: the sources were closed under the copies on purpose.
	abandoned atomic.Bool
	idle      idle
	// undelivered counts the reads of child output not yet handed to their
	// writers: a copy holding bytes it read (waiting for the mutex, or
	// starved of a CPU) means the child is not quiet, whatever its pipe
	// says.
	undelivered atomic.Int64
}

// newCopier returns a copier whose writers that are Releasers are released
// when child (nil: only the sources are watched) says the child is quiet;
// see idle.go.
func newCopier(child func() verdict) *outputCopier {
	return &outputCopier{idle: idle{clock: wallClock{}, child: child}}
}

// start copies src to dst in the background and closes src when done.
// Closing src when dst fails is deliberate: the child then sees a closed
// pipe or a hung-up terminal instead of blocking forever on a full one.
// A dst that holds output back is released once every stream written to
// it has ended.
func (c *outputCopier) start(dst io.Writer, src *os.File, stream string) {
	c.wg.Add(1)
	release, _ := dst.(Releaser)
	c.mu.Lock() // an earlier stream's copy may be running
	i := len(c.srcs)
	c.srcs = append(c.srcs, src)
	c.ended = append(c.ended, false)
	c.dsts = append(c.dsts, release)
	if release != nil && !slices.Contains(c.idle.writers, release) {
		c.idle.writers = append(c.idle.writers, release)
	}
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		err := c.copy(dst, src)
		c.mu.Lock()
		c.ended[i] = true
		if err == nil && release != nil && c.allEnded(release) {
			err = release.Release()
		}
		c.mu.Unlock()
		src.Close()
		if c.abandoned.Load() && errors.Is(err, os.ErrClosed) {
			err = nil
		}
		if err != nil {
			c.mu.Lock()
			c.errs = append(c.errs, fmt.Errorf("runner: copying child %s: %w", stream, err))
			c.mu.Unlock()
		}
	}()
}

// allEnded reports whether every stream that goes to w has ended. Called
// with the mutex held.
func (c *outputCopier) allEnded(w Releaser) bool {
	for i, d := range c.dsts {
		if d == w && !c.ended[i] {
			return false
		}
	}
	return true
}

// firstBufferSize is where a copy's buffer starts. Most children print
// little, and zeroing 1 MiB per stream costs more than starting `true`;
// a read that fills the buffer doubles it, up to copyBufferSize.
const firstBufferSize = 16 << 10

// copy writes each chunk to dst as soon as it is read: what dst holds
// back, it holds back by its own rule.
func (c *outputCopier) copy(dst io.Writer, src *os.File) error {
	buf := make([]byte, firstBufferSize)
	for {
		n, readErr := src.Read(buf)
		if n > 0 {
			c.undelivered.Add(1)
			err := c.deliver(dst, buf[:n])
			c.undelivered.Add(-1)
			if err != nil {
				return err
			}
			if n == len(buf) && len(buf) < copyBufferSize {
				buf = make([]byte, 2*len(buf))
			}
		}
		switch {
		case readErr == nil:
		case readErr == io.EOF:
			return nil
		case errors.Is(readErr, syscall.EIO):
			// A PTY master reads EIO once no process holds the terminal
			// any more and everything written to it has been read: the
			// end of the output.
			return nil
		default:
			return readErr
		}
	}
}

// deliver writes p, read from the child, to dst.
func (c *outputCopier) deliver(dst io.Writer, p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	written, err := dst.Write(p)
	if err == nil && written != len(p) {
		err = io.ErrShortWrite
	}
	c.wrote()
	return err
}

// waitOr waits for every copy to finish and reports their errors. If ctx
// ends first, it calls kill and closes the sources, so that output held
// open by processes the child left behind is not waited for, and reports
// ctx's error with the rest.
func (c *outputCopier) waitOr(ctx context.Context, kill func()) error {
	finished := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-ctx.Done():
		kill()
		c.abandoned.Store(true)
		for _, src := range c.srcs {
			src.Close()
		}
		<-finished
		c.mu.Lock()
		c.errs = append(c.errs, fmt.Errorf("runner: output no longer waited for: %w", ctx.Err()))
		c.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endIdle()
	return errors.Join(c.errs...)
}
