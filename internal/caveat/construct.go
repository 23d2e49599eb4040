package caveat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

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
		// Without this, List(NameSecret, "a,b") would quietly become two names.
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
