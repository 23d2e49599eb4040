package runner

import (
	"time"
)

// A Releaser is a writer that holds output back and writes it when told:
// a redacting writer holds the child's last bytes back by position,
// whatever they are, so that when output appears says nothing about what
// it holds. Run calls Release on a Stdout or Stderr that is one when the
// child has gone quiet, and at the end of its stream.
type Releaser interface {
	Release() error
}

// Held output is released when no byte has come for idleAfter, and then
// only once the child is quiet (see quiet.go), which is looked at again
// every recheck until it is; until then the writer releases it by
// position. A prompt shows about idleAfter+recheck after it is printed
// (the child ran to print it, so the first look finds it has run); output
// that never pauses that long shows as the writer passes it on. Both are
// constants: when output is released depends on when the child writes and
// sleeps, never on what it writes.
const (
	idleAfter = 50 * time.Millisecond
	recheck   = 10 * time.Millisecond
)

// A clock is what the idle release reads time from; tests drive their own.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// A verdict is what the child's state says about releasing now.
type verdict uint8

const (
	quiet verdict = iota // asleep, and every byte it wrote has been read: release
	busy                 // not now (running, stopped, its output unread): look again later
	never                // no idle release for the rest of the run
)

// idle is the outputCopier's idle release. Its fields are guarded by the
// copier's mutex, which also keeps Release from running during a Write.
type idle struct {
	writers []Releaser
	clock   clock
	child   func() verdict // the child's side of quiet; nil: nothing to watch
	pending bool           // written since the last release
	last    time.Time      // the last write
	armed   bool
	stop    func() bool
	off     bool
}

// wrote records a write to the writers. Called with the mutex held.
func (c *outputCopier) wrote() {
	d := &c.idle
	if len(d.writers) == 0 || d.off {
		return
	}
	d.pending, d.last = true, d.clock.Now()
	if !d.armed {
		c.armIdle(d.last, d.last.Add(idleAfter))
	}
}

func (c *outputCopier) armIdle(now, at time.Time) {
	c.idle.armed = true
	c.idle.stop = c.idle.clock.AfterFunc(at.Sub(now), c.idleCheck)
}

// idleCheck runs when the timer fires: it releases the held output if it
// is due and the child is quiet, and otherwise sets the timer again.
func (c *outputCopier) idleCheck() {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := &c.idle
	d.armed = false
	if d.off || !d.pending {
		return
	}
	now := d.clock.Now()
	if due := d.last.Add(idleAfter); now.Before(due) {
		c.armIdle(now, due) // written since the timer was set
		return
	}
	switch c.quiet() {
	case never:
		d.off = true
		return
	case busy:
		c.armIdle(now, now.Add(recheck))
		return
	}
	for _, w := range d.writers {
		// A writer that fails keeps its error, which its next Write, and
		// the caller's Close, report.
		_ = w.Release()
	}
	d.pending = false
}

// quiet tells whether the child is quiet: every source drained, and then
// the child's own state. Called with the mutex held.
func (c *outputCopier) quiet() verdict {
	if c.undelivered.Load() != 0 {
		return busy
	}
	for i, src := range c.srcs {
		if !c.ended[i] && !drained(src) {
			return busy
		}
	}
	if c.idle.child == nil {
		return quiet
	}
	return c.idle.child()
}

// endIdle stops idle releases for good: the copies are over, and the
// caller may close the writers. Called with the mutex held.
func (c *outputCopier) endIdle() {
	c.idle.off = true
	if c.idle.armed {
		c.idle.stop()
		c.idle.armed = false
	}
}
