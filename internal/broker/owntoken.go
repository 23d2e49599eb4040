package broker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/caveat"
)

// Requests about the caller's own token — what it permits, what it did,
// asking the human for a secret — read no value and name no secret beyond
// the token's own text. They need a token that verifies (signature,
// revocation, expiry) and whose caveats about who and where hold; the
// caveats that scope an access (secret, op, cmd) have nothing to judge.

// CaveatScope is one list caveat of a token: a request must match one of
// Items.
type CaveatScope struct {
	Kind  string   `json:"kind"`
	Items []string `json:"items"`
}

// TokenAccess is what a verified token permits.
type TokenAccess struct {
	TokenID string `json:"token_id"`
	// Scope holds, per caveat kind (caveat.Name*), the items a request
	// must match: the items common to every caveat of that kind. A kind
	// that is absent does not restrict.
	Scope map[string][]string `json:"scope"`
	// Caveats are the token's list caveats as written, in order; every
	// one must hold.
	Caveats  []CaveatScope `json:"caveats"`
	Expires  time.Time     `json:"expires"`
	TimeLeft time.Duration `json:"time_left_ns"`
}

// DescribeAccess says what the caller's token permits, after verifying it
// here (a token that does not verify is described by nothing).
func (b *Broker) DescribeAccess(c *Caller) (TokenAccess, error) {
	g, err := b.decideAbout("describe", c)
	if err != nil {
		return TokenAccess{}, err
	}
	acc := TokenAccess{TokenID: g.tokenID, Scope: map[string][]string{}}
	for _, cv := range g.caveats {
		if cv.Name == caveat.NameExpiresAt {
			continue
		}
		items := strings.Split(cv.Value, ",")
		acc.Caveats = append(acc.Caveats, CaveatScope{Kind: cv.Name, Items: items})
		if prev, ok := acc.Scope[cv.Name]; ok {
			items = slices.DeleteFunc(slices.Clone(prev), func(s string) bool { return !slices.Contains(items, s) })
		}
		acc.Scope[cv.Name] = items
	}
	acc.Expires, _ = g.caveats.Expiry()
	acc.TimeLeft = max(acc.Expires.Sub(b.now()), 0)
	return acc, nil
}

// MaxAuditRecent bounds AuditRecent.
const MaxAuditRecent = 200

// AuditRecentRequest asks for the latest Limit entries of the caller's
// token (1 to MaxAuditRecent).
type AuditRecentRequest struct {
	Limit int
}

// AuditRecent returns the last entries recorded under the caller's token:
// its allowed and denied requests, and the line that minted it. Nothing of
// any other token or of the human.
func (b *Broker) AuditRecent(c *Caller, req AuditRecentRequest) ([]audit.Entry, error) {
	limit := req.Limit
	if limit < 1 || limit > MaxAuditRecent {
		return nil, fmt.Errorf("%w: the number of entries must be between 1 and %d", ErrBadRequest, MaxAuditRecent)
	}
	g, err := b.decideAbout("audit", c)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(b.Dir(), AuditFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	var out []audit.Entry
	err = audit.Scan(path, func(e audit.Entry) error {
		if e.TokenID == g.tokenID {
			out = append(out, e)
			if len(out) > limit {
				out = out[1:]
			}
		}
		return nil
	})
	return out, err
}
