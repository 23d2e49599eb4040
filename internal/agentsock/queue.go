package agentsock

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// A connection accepted while MaxInFlight requests are being served waits
// its turn, in the order it was accepted: an agent running a parallel test
// suite gets every exec served, late, instead of some refused. What a
// waiting connection holds is bounded and small: its socket and the pidfd
// naming its peer — no goroutine, no thread, no passed descriptor (its
// request stays unread in the socket until its turn). At most MaxWaiting
// connections wait; one more is refused at once. A connection waits as long
// as the queue moves: it is refused once it has waited MaxWait with no
// request ending meanwhile (children that never end hold every slot), not
// merely for waiting long behind many short ones. One whose client hung up
// while it waited is dropped unserved.

// DefaultMaxWaiting is MaxWaiting's default: four times the 1,000 execs a
// parallel test suite may start at once, two descriptors each.
const DefaultMaxWaiting = 4096

// defaultWaiting is DefaultMaxWaiting, or fewer where this process may
// open few descriptors: each waiter holds two, and a quarter of the limit
// at most leaves the rest to the running requests and to the launcher's
// supervisor, which the agent must not be able to starve.
func defaultWaiting() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == unix.RLIM_INFINITY {
		return DefaultMaxWaiting
	}
	return int(max(16, min(uint64(DefaultMaxWaiting), lim.Cur/8)))
}

// DefaultMaxWait is MaxWait's default: how long no request may end before
// the waiters are told why they are not served.
const DefaultMaxWait = 5 * time.Minute

// sweepEvery is how often the waiting connections are checked for a client
// that hung up and for one that waited too long.
const sweepEvery = 200 * time.Millisecond

// waiter is an accepted connection and its peer, identified at accept.
type waiter struct {
	conn  *net.UnixConn
	fd    int // conn's, for poll; valid while conn is open
	peer  peer
	since time.Time
}

func (w waiter) close() {
	w.peer.close()
	w.conn.Close()
}

// queue hands the running slots to connections in the order they were
// accepted.
type queue struct {
	mu      sync.Mutex
	free    int       // running slots not taken
	waiting []waiter  // oldest first
	running int       // the running slots
	max     int       // bound on len(waiting)
	moved   time.Time // when a request last ended
	closed  bool
}

func newQueue(running, waiting int) *queue {
	return &queue{free: running, running: running, max: waiting}
}

// admit takes a running slot for w (run), or queues w; it refuses w when
// the queue is full or closed, and then w is the caller's to close.
func (q *queue) admit(w waiter) (run bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return false, errors.New("the agent's session is ending")
	case q.free > 0:
		q.free--
		return true, nil
	case len(q.waiting) >= q.max:
		return false, fmt.Errorf("the broker is serving %d requests and %d more wait; try again when one ends", q.running, len(q.waiting))
	}
	q.waiting = append(q.waiting, w)
	return false, nil
}

// next hands the slot of a request that ended to the oldest waiter whose
// client is still there (ok), or frees it.
func (q *queue) next() (waiter, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moved = time.Now()
	for len(q.waiting) > 0 && !q.closed {
		w := q.pop()
		if hungUp(w.fd) {
			w.close()
			continue
		}
		return w, true
	}
	q.free++
	return waiter{}, false
}

func (q *queue) pop() waiter {
	w := q.waiting[0]
	q.waiting[0] = waiter{}
	q.waiting = q.waiting[1:]
	return w
}

// sweep closes the waiters whose client hung up and, when no request has
// ended since cutoff, removes those that have waited since before it,
// which it returns (the caller tells them why). It returns how many were
// dropped.
func (q *queue) sweep(cutoff time.Time) (expired []waiter, dropped int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiting) == 0 {
		return nil, 0
	}
	fds := make([]unix.PollFd, len(q.waiting))
	for i, w := range q.waiting {
		fds[i] = unix.PollFd{Fd: int32(w.fd)}
	}
	if _, err := unix.Poll(fds, 0); err != nil {
		clear(fds) // EINTR and the like: no hang-up seen this time
	}
	kept := q.waiting[:0]
	for i, w := range q.waiting {
		switch {
		case gone(fds[i].Revents):
			w.close()
			dropped++
		case w.since.Before(cutoff) && q.moved.Before(cutoff):
			expired = append(expired, w)
		default:
			kept = append(kept, w)
		}
	}
	clear(q.waiting[len(kept):])
	q.waiting = kept
	return expired, dropped
}

// close refuses every later admit and returns the waiters, for the caller
// to close.
func (q *queue) close() []waiter {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	ws := q.waiting
	q.waiting = nil
	return ws
}

// hungUp: the client closed its end.
func hungUp(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd)}}
	if _, err := unix.Poll(fds, 0); err != nil {
		return false
	}
	return gone(fds[0].Revents)
}

// gone: poll's answer for a Unix stream socket whose peer closed it
// (POLLHUP, even with its request still unread). A peer that only shut
// down its writing (POLLRDHUP) still waits for the reply.
func gone(revents int16) bool {
	return revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0
}
