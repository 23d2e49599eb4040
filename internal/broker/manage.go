package broker

import (
	"fmt"
	"slices"

	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/store"
)

// List returns the stored secrets the caller may see.
func (b *Broker) List(withTimes bool, c *Caller) ([]store.Entry, error) {
	g, err := b.authorize(access{op: caveat.OpList, caller: c})
	if err != nil {
		return nil, err
	}
	es, err := b.st.List()
	if err != nil {
		return nil, err
	}
	if g.visible != nil {
		es = slices.DeleteFunc(es, func(e store.Entry) bool { return !g.visible(e.Name) })
	}
	if !withTimes {
		return es, nil
	}
	for i := range es {
		if es[i], err = b.st.Stat(es[i].Name); err != nil {
			return nil, err
		}
	}
	return es, nil
}

// Set stores a value and reports whether the name is new.
func (b *Broker) Set(name string, value []byte, c *Caller) (created bool, err error) {
	if err := authorizeWrite(c); err != nil {
		return false, err
	}
	return b.st.Write(name, value)
}

// Delete removes a secret.
func (b *Broker) Delete(name string, c *Caller) error {
	if err := authorizeWrite(c); err != nil {
		return err
	}
	return b.st.Delete(name)
}

// Has reports whether a secret exists (for confirmation prompts).
func (b *Broker) Has(name string) bool { return b.st.Has(name) }

// authorizeWrite decides set, delete and import: tokens grant only uses
// of secrets, so an agent may never write — it could overwrite a value
// the human relies on, or delete it.
func authorizeWrite(c *Caller) error {
	if r, ok := c.detectAgent(); ok {
		return fmt.Errorf("%w: %s was detected (%s); only the human changes the store", ErrDenied, r.Agent, r.Source)
	}
	return nil
}
