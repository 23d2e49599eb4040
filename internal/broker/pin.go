package broker

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/pinned"
	"github.com/llm-secrets/llms/internal/policy"
)

// A pinned program (docs/adr/0027) is looked up in the system directories
// only, must be a file only root can change, outside the trees the agent
// may write, and is started from the file that was checked. Whether a
// request is pinned is known only once its token is verified and the
// policy asked; the program must be found before that, because caveats and
// policy judge it. So exec asks pinsProgram first, looks the program up
// accordingly, and the decision refuses a pinned request whose program was
// not looked up as a pinned one (checkPin).

// pinLookup is how exec found a program as a pinned one.
type pinLookup struct {
	path string // pinned.Find's
	// system: path is the program of its name in the system directories
	// (caveat.Context.SystemProgram, policy.Subject.SystemProgram).
	system bool
	prog   *pinned.Program // nil when err is set
	err    error           // why the program cannot be pinned
}

// isSystem is pinLookup.system, false for a program not looked up as a
// pinned one: only a pinned request is judged by its program.
func (p *pinLookup) isSystem() bool { return p != nil && p.system }

// dir is the directory to start the program from, nil to start it from
// its path (runner.Spec.PathDir).
func (p *pinLookup) dir() *os.File {
	if p == nil {
		return nil
	}
	return p.prog.Dir()
}

// tokenPins: a token with a cmd caveat pins the program.
func tokenPins(set caveat.Set) bool {
	_, found := set.Items(caveat.NameCmd)
	return found
}

// policyPins: the policy pins the program when it refuses the secret to
// every program but those its rules name; other is the subject with any
// other program, which no pattern but '*' matches.
func policyPins(set *policy.Set, other policy.Subject, name string) bool {
	other.Cmd, other.SystemProgram = otherProgram, false
	return !set.Decide(name, other).Allowed
}

// pinsProgram reports whether an exec of secrets by c will be pinned: its
// token has a cmd caveat, or the policy pins the program for one of the
// secrets. Nothing here is trusted: a token that does not verify, or a
// policy that cannot be read, is refused by the decision, which asks again.
func (b *Broker) pinsProgram(c *Caller, secrets []string) bool {
	if c.hasToken() {
		if m, err := parseToken(c.Token); err == nil {
			if _, set, err := infoOf(m); err == nil && tokenPins(set) {
				return true
			}
		}
	}
	set, err := c.policy()
	if err != nil || set.Empty() {
		return false
	}
	subj, err := c.subject("")
	if err != nil {
		return false
	}
	for _, name := range secrets {
		if policyPins(set, subj, name) {
			return true
		}
	}
	return false
}

// pinReason adds to a denial of a pinned request, whatever refused it
// first (a cmd caveat, the policy), why its program could not be pinned:
// ./deploy.sh is refused because the agent could rewrite it, which the
// caveat's "not allowed" does not say.
func (a access) pinReason(err error) error {
	if a.pin == nil || a.pin.err == nil || !errors.Is(err, ErrDenied) || strings.Contains(err.Error(), a.pin.err.Error()) {
		return err
	}
	return fmt.Errorf("%w; nor could it be pinned: %v", err, a.pin.err)
}

// checkPin refuses a pinned exec whose program was not looked up as a
// pinned one, or is not one that may be pinned.
func (a access) checkPin(pinnedReq bool) error {
	switch {
	case !pinnedReq || a.op != caveat.OpExec:
		return nil
	case a.http:
		return fmt.Errorf("%w: the policy pins the programs these secrets may go to, and a launch's credential proxy sends them to hosts, not to a program; give the value to the pinned program with exec instead", ErrDenied)
	case a.pin == nil:
		return fmt.Errorf("%w: %s is pinned but was looked up as a program that is not; nothing was started", ErrDenied, a.program)
	case a.pin.err != nil:
		return fmt.Errorf("%w: the pinned program %s cannot be started: %v", ErrDenied, a.program, a.pin.err)
	}
	return nil
}
