package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// queuePhase is the attack on the broker's waiting queue: the agent opens
// queueFlood connections to the broker's socket and holds them silent —
// more than the broker serves at once and, where the launcher may open
// few descriptors, more than may wait — then drops them all. The attack
// works if the launcher's broker stops serving the agent afterwards (an
// exec fails), or the launch does not end well (checked by the test).
const queuePhase = "queue"

const queueFlood = 3000

func attackQueue(report func(name string, allowed bool, detail string), llms string) int {
	sock := os.Getenv("LLM_SECRETS_SOCKET")
	var held []*net.UnixConn
	var dialErr error
	for range queueFlood {
		c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: sock, Net: "unix"})
		if err != nil {
			dialErr = err
			break
		}
		held = append(held, c)
	}
	detail := fmt.Sprintf("held %d connections", len(held))
	if dialErr != nil {
		detail += " (then: " + strings.Join(strings.Fields(dialErr.Error()), " ") + ")"
	}
	for _, c := range held {
		c.Close()
	}
	// The broker drops what was held (a running slot's read ends at once,
	// a waiter at the next sweep); an exec is then served.
	var e bytes.Buffer
	cmd := exec.Command(llms, "exec", "-i", "V=K", "--", "true")
	cmd.Stderr = &e
	t0 := time.Now()
	err := cmd.Run()
	first, _, _ := strings.Cut(strings.TrimSpace(e.String()), "\n")
	report("queue-flood-stops-the-broker", err != nil,
		fmt.Sprintf("%s; an exec after: %v in %v %s", detail, err, time.Since(t0).Round(time.Millisecond), first))
	return 0
}

// TestAgentModeAttacksQueue launches `llms agent` around the attack agent
// at this kernel's Landlock ABI and at 6, 4 and 1: the agent floods the
// broker's socket with connections it holds silent and then drops; the
// broker must serve it again at once, and the launch must end as usual,
// its audit chain intact.
func TestAgentModeAttacksQueue(t *testing.T) { atEachAttackABI(t, agentModeAttacksQueue) }

func agentModeAttacksQueue(t *testing.T, abi int) {
	l := newAttackLaunch(t, queuePhase)
	canary, work, bin, agent, env := l.canary, l.work, l.bin, l.agent, l.env

	cmd := exec.Command(bin, "agent", "--agent", "claude-code", "--landlock-abi", strconv.Itoa(abi),
		"--secret", "K", "--ttl", "10m", "--", agent)
	cmd.Env, cmd.Dir = env, work
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("llms agent: %v\nstderr: %s", err, errb.String())
	}
	line := strings.TrimSpace(out.String())
	f := strings.SplitN(line, " ", 4)
	if len(f) < 4 || f[0] != "ATTEMPT" || f[1] != "queue-flood-stops-the-broker" {
		t.Fatalf("unexpected agent output %q", line)
	}
	mark := "ok  "
	if f[2] != "refused" {
		mark = "FAIL"
		t.Errorf("%s: %s (%s), want refused", f[1], f[2], f[3])
	}
	t.Logf("%s %-28s %-8s %s", mark, f[1], f[2], f[3])
	if v := mustRun(t, bin, env, "", "audit", "verify"); !strings.Contains(v, "chain intact") {
		t.Errorf("audit verify after the flood: %s", v)
	}
	if a := mustRun(t, bin, env, "", "audit", "-n", "1"); !strings.Contains(a, "agent-end") {
		t.Errorf("the launch did not end with its agent-end line: %s", a)
	}
	if strings.Contains(out.String()+errb.String(), canary) {
		t.Error("the canary appears in the output")
	}
}
