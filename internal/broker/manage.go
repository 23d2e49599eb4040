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

// SetRequest stores Value under Name.
type SetRequest struct {
	Name  string
	Value []byte
}

// SetResult says whether the name is new, and which agent's request for
// it the value answered, if any.
type SetResult struct {
	Created   bool
	Fulfilled *SecretRequest
}

// Set stores a value.
func (b *Broker) Set(c *Caller, req SetRequest) (SetResult, error) {
	return b.write("set", req, c)
}

// Import stores the entries of a .env file as one change: after an error
// or a crash the store holds all of them or none (store.WriteBatch). Each
// entry gets the audit line a Set would (event "import"), all of them
// written, in one go, before the store changes. Results come back with an
// error only when every entry was stored.
func (b *Broker) Import(c *Caller, reqs []SetRequest) ([]SetResult, error) {
	names := make([]string, len(reqs))
	items := make([]store.NamedValue, len(reqs))
	for i, r := range reqs {
		if err := ValidateName(r.Name); err != nil {
			return nil, err
		}
		names[i], items[i] = r.Name, store.NamedValue{Name: r.Name, Value: r.Value}
	}
	if err := b.changeEach("import", names, c, "changes the store"); err != nil {
		return nil, err
	}
	created, err := b.st.WriteBatch(items)
	if created == nil {
		return nil, err
	}
	res := make([]SetResult, len(reqs))
	for i := range res {
		res[i].Created = created[i]
	}
	if err != nil {
		return res, err
	}
	// Values stored answer the requests for them, if agents made some.
	done, err := b.fulfilAll(names)
	if err != nil {
		return res, fmt.Errorf("stored every entry, but the pending requests for them could not be removed: %w", err)
	}
	for i := range res {
		res[i].Fulfilled = done[names[i]]
	}
	return res, nil
}

func (b *Broker) write(event string, req SetRequest, c *Caller) (SetResult, error) {
	if err := ValidateName(req.Name); err != nil {
		return SetResult{}, err
	}
	if err := b.change(event, []string{req.Name}, c, "changes the store"); err != nil {
		return SetResult{}, err
	}
	created, err := b.st.Write(req.Name, req.Value)
	res := SetResult{Created: created}
	if err != nil {
		return res, err
	}
	// A value stored answers the request for it, if an agent made one.
	if res.Fulfilled, err = b.fulfil(req.Name); err != nil {
		return res, fmt.Errorf("stored %s, but its pending request could not be removed: %w", req.Name, err)
	}
	return res, nil
}

// NameRequest names one secret: Delete's and Has's request.
type NameRequest struct {
	Name string
}

// Delete removes a secret.
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
