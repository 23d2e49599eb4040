package caveat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Secret returns a caveat allowing only the named secrets.
func Secret(names ...string) (Caveat, error) { return list(NameSecret, names) }

// Repo returns a caveat allowing only repositories matching one of the
// patterns. Patterns are canonical host/org/repo strings and may use '*'
// and '**'.
func Repo(patterns ...string) (Caveat, error) { return list(NameRepo, patterns) }

// Branch returns a caveat allowing only branches matching one of the
// patterns.
func Branch(patterns ...string) (Caveat, error) { return list(NameBranch, patterns) }

// Agent returns a caveat allowing only the named agents.
func Agent(names ...string) (Caveat, error) { return list(NameAgent, names) }

// Who returns a caveat allowing only git user emails matching one of the
// lowercase patterns.
func Who(patterns ...string) (Caveat, error) { return list(NameWho, patterns) }

// Cmd returns a caveat allowing exec to start only the given programs: clean
// absolute paths, or base names.
func Cmd(programs ...string) (Caveat, error) { return list(NameCmd, programs) }

// Op returns a caveat allowing only the given operations (Op constants).
func Op(operations ...string) (Caveat, error) { return list(NameOp, operations) }

// List returns the list caveat name (one of [ListKinds]) allowing items.
func List(name string, items ...string) (Caveat, error) {
	if !IsList(name) {
		return Caveat{}, fmt.Errorf("caveat: %s is not a list caveat", quoteShort(name))
	}
	return list(name, items)
}

// ExpiresAt returns a caveat that stops holding at t. Sub-second precision
// is dropped by rounding down, so the caveat never outlives t.
func ExpiresAt(t time.Time) (Caveat, error) {
	if t.IsZero() {
		return Caveat{}, errors.New("caveat: expires_at: zero time")
	}
	c := Caveat{Name: NameExpiresAt, Value: t.UTC().Truncate(time.Second).Format(expiryLayout)}
	if err := c.validate(); err != nil {
		return Caveat{}, fmt.Errorf("caveat: %w", err)
	}
	return c, nil
}

// list builds a list caveat in canonical (sorted) order and validates it.
// Duplicates are refused rather than merged: they are most likely a typo.
func list(name string, items []string) (Caveat, error) {
	if len(items) == 0 {
		return Caveat{}, fmt.Errorf("caveat: %s: no items", name)
	}
	for _, item := range items {
		// Without this, Secret("a,b") would quietly become two names.
		if strings.Contains(item, ",") {
			return Caveat{}, fmt.Errorf("caveat: %s: item %s contains ','", name, quoteShort(item))
		}
	}
	sorted := slices.Clone(items)
	slices.Sort(sorted)
	c := Caveat{Name: name, Value: strings.Join(sorted, ",")}
	if err := c.validate(); err != nil {
		return Caveat{}, fmt.Errorf("caveat: %w", err)
	}
	return c, nil
}
