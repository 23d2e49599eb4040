package agentsock

import (
	"io"
	"os"
	"sync"
)

// execOutputs are the stdout and stderr an exec passes to the broker: the
// caller's own when they are files, else the write ends of pipes whose
// read ends this process copies to the caller's writers (an MCP server's
// buffers), so that Exec takes any writer.
type execOutputs struct {
	stdout, stderr *os.File
	pipes          []*os.File // our write ends, then the read ends
	copies         sync.WaitGroup
}

func openOutputs(stdout, stderr io.Writer) (*execOutputs, error) {
	o := &execOutputs{}
	var err error
	if o.stdout, err = o.passable(stdout); err == nil {
		o.stderr, err = o.passable(stderr)
	}
	if err != nil {
		o.abandon()
		return nil, err
	}
	return o, nil
}

// passable is w when it is a file, else a pipe's write end copied to w.
func (o *execOutputs) passable(w io.Writer) (*os.File, error) {
	if f, ok := w.(*os.File); ok {
		return f, nil
	}
	if w == nil {
		w = io.Discard
	}
	r, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	o.pipes = append(o.pipes, pw, r)
	o.copies.Go(func() { _, _ = io.Copy(w, r) })
	return pw, nil
}

// finish waits for the copies, once the broker has its own copies of the
// write ends and the child has ended: ours are closed first so that the
// copies can reach the end.
func (o *execOutputs) finish() {
	for i := 0; i < len(o.pipes); i += 2 {
		o.pipes[i].Close()
	}
	o.copies.Wait()
}

// abandon closes every pipe end, which ends a copy still running (what a
// child the broker killed left holding the pipes is not waited for), and
// waits for the copies: none writes to the caller's writers once Exec has
// returned. After finish it only closes what is left.
func (o *execOutputs) abandon() {
	for _, f := range o.pipes {
		f.Close()
	}
	o.copies.Wait()
}
