package egress

import (
	"net/netip"
	"sync"
)

// Refusals bounds what refused connects put in the audit log: the first
// refusal of each destination is reported, for at most max destinations;
// every other is only counted, so that a loop of connects — to one address
// or to every port of a range — cannot fill the disk. Summary gives the
// counts for the line that closes the session.
type Refusals struct {
	mu     sync.Mutex
	max    int
	report func(addr netip.AddrPort, why string)
	seen   map[netip.AddrPort]struct{}
	total  int
	unsaid int // refusals of destinations past max
}

// NewRefusals reports through report (called with the lock held: one at
// a time, in order).
func NewRefusals(max int, report func(addr netip.AddrPort, why string)) *Refusals {
	return &Refusals{max: max, report: report, seen: map[netip.AddrPort]struct{}{}}
}

// Refused records one refused connect to addr.
func (r *Refusals) Refused(addr netip.AddrPort, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total++
	if _, ok := r.seen[addr]; ok {
		return
	}
	if len(r.seen) >= r.max {
		r.unsaid++
		return
	}
	r.seen[addr] = struct{}{}
	r.report(addr, why)
}

// Summary: refusals in all, destinations reported, and refusals of
// destinations never reported (past the bound).
func (r *Refusals) Summary() (total, reported, unreported int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total, len(r.seen), r.unsaid
}
