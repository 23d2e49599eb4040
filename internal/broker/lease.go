package broker

import (
	"slices"
	"strings"
	"time"
)

// LeaseRecord is what the human can see of a token that was issued: never
// the token itself.
type LeaseRecord struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"` // lease or mint
	Secrets []string  `json:"secrets"`
	Caveats []string  `json:"caveats"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Revoked time.Time `json:"revoked,omitzero"`
}

// Active reports whether the token can still be used.
func (l LeaseRecord) Active(now time.Time) bool {
	return l.Revoked.IsZero() && now.Before(l.Expires)
}

// leaseRetention keeps ended records visible to `leases --all` for a day.
const leaseRetention = 24 * time.Hour

func (b *Broker) updateLeases(fn func([]LeaseRecord) []LeaseRecord) error {
	now := b.now()
	return updateState(b, leasesState, func(list []LeaseRecord) []LeaseRecord {
		return slices.DeleteFunc(fn(list), func(l LeaseRecord) bool {
			ended := l.Expires
			if !l.Revoked.IsZero() && l.Revoked.Before(ended) {
				ended = l.Revoked
			}
			return now.Sub(ended) > leaseRetention
		})
	})
}

func (b *Broker) addLease(kind string, info TokenInfo, now time.Time) error {
	return b.updateLeases(func(list []LeaseRecord) []LeaseRecord {
		var secrets []string
		for _, c := range info.Caveats {
			if v, ok := strings.CutPrefix(c, "secret="); ok {
				secrets = append(secrets, strings.Split(v, ",")...)
			}
		}
		return append(list, LeaseRecord{ID: info.ID, Kind: kind, Secrets: secrets, Caveats: info.Caveats,
			Created: now.UTC(), Expires: info.Expires})
	})
}

// endLease marks a lease revoked; a token with no record is fine (it may
// have been pruned, or minted before leases were recorded).
func (b *Broker) endLease(id string) error {
	now := b.now()
	return b.updateLeases(func(list []LeaseRecord) []LeaseRecord {
		for i := range list {
			if list[i].ID == id && list[i].Revoked.IsZero() {
				list[i].Revoked = now.UTC()
			}
		}
		return list
	})
}

// LeasesRequest selects the leases to list: the active ones, or with All
// also those that ended within the last day.
type LeasesRequest struct {
	All bool
}

// Leases lists issued tokens: the active ones, or with all also those
// that expired or were revoked within the last day.
func (b *Broker) Leases(c *Caller, req LeasesRequest) ([]LeaseRecord, error) {
	all := req.All
	if err := humanOnly(c, "lists leases"); err != nil {
		return nil, err
	}
	var list []LeaseRecord
	if _, err := b.readState(leasesState, &list); err != nil {
		return nil, err
	}
	now := b.now()
	if !all {
		list = slices.DeleteFunc(list, func(l LeaseRecord) bool { return !l.Active(now) })
	}
	return list, nil
}
