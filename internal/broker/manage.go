package broker

import (
	"github.com/llm-secrets/llms/internal/store"
)

// List returns the stored secrets the caller may see.
func (b *Broker) List(withTimes bool) ([]store.Entry, error) {
	if _, err := b.authorize("list", nil); err != nil {
		return nil, err
	}
	es, err := b.st.List()
	if err != nil || !withTimes {
		return es, err
	}
	for i := range es {
		if es[i], err = b.st.Stat(es[i].Name); err != nil {
			return nil, err
		}
	}
	return es, nil
}

// Set stores a value and reports whether the name is new.
func (b *Broker) Set(name string, value []byte) (created bool, err error) {
	return b.st.Write(name, value)
}

// Delete removes a secret.
func (b *Broker) Delete(name string) error {
	return b.st.Delete(name)
}

// Has reports whether a secret exists (for confirmation prompts).
func (b *Broker) Has(name string) bool { return b.st.Has(name) }
