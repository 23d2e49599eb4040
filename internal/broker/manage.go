package broker

import (
	"fmt"
	"slices"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/store"
)

// ListRequest asks for the names the caller may see.
type ListRequest struct {
	// WithTimes fills in each entry's modification time.
	WithTimes bool
}

// ListResult holds the names, sorted.
type ListResult struct {
	Entries []Entry
}

// List returns the stored secrets the caller may see.
func (b *Broker) List(c *Caller, req ListRequest) (ListResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, err := b.decide(access{op: caveat.OpList, caller: c})
	if err != nil {
		return ListResult{}, err
	}
	es, err := b.st.List()
	if err != nil {
		return ListResult{}, err
	}
	if g.visible != nil {
		es = slices.DeleteFunc(es, func(e store.Entry) bool { return !g.visible(e.Name) })
	}
	if req.WithTimes {
		for i := range es {
			if es[i], err = b.st.Stat(es[i].Name); err != nil {
				return ListResult{}, err
			}
		}
	}
	return ListResult{Entries: es}, nil
}

// Set stores a value and reports whether the name is new.
func (b *Broker) Set(name string, value []byte, c *Caller) (created bool, err error) {
	return b.write("set", name, value, c)
}

// Import stores one entry of a .env file; it differs from Set only in the
// audit event.
func (b *Broker) Import(name string, value []byte, c *Caller) (created bool, err error) {
	return b.write("import", name, value, c)
}

func (b *Broker) write(event, name string, value []byte, c *Caller) (bool, error) {
	if err := ValidateName(name); err != nil {
		return false, err
	}
	if err := b.change(event, []string{name}, c, "changes the store"); err != nil {
		return false, err
	}
	created, err := b.st.Write(name, value)
	if err != nil {
		return created, err
	}
	// A value stored answers the request for it, if an agent made one.
	if _, err := b.fulfil(name); err != nil {
		return created, fmt.Errorf("stored %s, but its pending request could not be removed: %w", name, err)
	}
	return created, nil
}

// Delete removes a secret.
// NameRequest names one secret: Delete's and Has's request.
type NameRequest struct {
	Name string
}

func (b *Broker) Delete(c *Caller, req NameRequest) error {
	name := req.Name
	if err := ValidateName(name); err != nil {
		return err
	}
	if err := b.change("delete", []string{name}, c, "changes the store"); err != nil {
		return err
	}
	return b.st.Delete(name)
}

// Has reports whether a secret exists, for the human's confirmation
// prompt; an agent is refused (and recorded) rather than told.
func (b *Broker) Has(c *Caller, req NameRequest) (bool, error) {
	name := req.Name
	if err := humanOnly(c, "changes the store"); err != nil {
		return false, b.refuse(audit.Record{Event: "delete", Secrets: []string{name}}, err, c)
	}
	return b.st.Has(name), nil
}
