package egress

import (
	"net/netip"
	"sync"
)

// Refusals bounds what refused connects, and the credential proxy's
// refused requests, put in the audit log: the first refusal of each
// destination is reported, for at most max destinations; every other is
// only counted, so that a loop of connects or requests — to one address or
// to every port of a range — cannot fill the disk. Summary gives the
// counts for the line that closes the session.
type Refusals struct {
	mu     sync.Mutex
	max    int
	report func(addr netip.AddrPort, why string)
	seen   map[string]struct{} // destinations reported
	total  int
	unsaid int // refusals of destinations past max
}

// NewRefusals reports through report (called with the lock held: one at
// a time, in order).
func NewRefusals(max int, report func(addr netip.AddrPort, why string)) *Refusals {
	return &Refusals{max: max, report: report, seen: map[string]struct{}{}}
}

// Refused records one refused connect to addr.
func (r *Refusals) Refused(addr netip.AddrPort, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.admit(addr.String()) {
		r.report(addr, why)
	}
}

// Admit records one refusal to dest (HOST:PORT) that its caller reports
// itself, and says whether to report it: only the first to each
// destination, within the bound.
func (r *Refusals) Admit(dest string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.admit(dest)
}

func (r *Refusals) admit(dest string) bool {
	r.total++
	if _, ok := r.seen[dest]; ok {
		return false
	}
	if len(r.seen) >= r.max {
		r.unsaid++
		return false
	}
	r.seen[dest] = struct{}{}
	return true
}

// Summary: refusals in all, destinations reported, and refusals of
// destinations never reported (past the bound).
func (r *Refusals) Summary() (total, reported, unreported int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total, len(r.seen), r.unsaid
}
