package mcpmain

import (
	"context"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/llm-secrets/llms/internal/agentsock"
	"github.com/llm-secrets/llms/internal/broker"
)

// agentBroker is the agent-mode broker as the MCP server asks it. The
// socket passes the child's stdout and stderr as descriptors, so Exec
// hands the broker pipes and copies from them to the writers it is given.
type agentBroker struct{ *agentsock.Client }

func (a agentBroker) Exec(ctx context.Context, c *broker.Caller, req broker.ExecRequest) (int, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return 0, err
	}
	var wg sync.WaitGroup
	for _, p := range []struct {
		r *os.File
		w io.Writer
	}{{outR, req.Stdout}, {errR, req.Stderr}} {
		wg.Go(func() {
			_, _ = io.Copy(p.w, p.r)
		})
	}
	req.Stdout, req.Stderr = outW, errW
	code, err := a.Client.Exec(ctx, c, req)
	// The broker has its own copies; ours must go for the copies to end.
	outW.Close()
	errW.Close()
	if ctx.Err() != nil {
		// The broker killed the child's group when the connection ended;
		// whatever still holds the pipes is not waited for.
		outR.Close()
		errR.Close()
	}
	wg.Wait()
	outR.Close()
	errR.Close()
	if ctx.Err() != nil {
		code = 128 + int(syscall.SIGKILL) // as the broker's kill ends it
	}
	return code, err
}
