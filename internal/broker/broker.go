package broker

import (
	"errors"
	"fmt"

	"github.com/llm-secrets/llms/internal/store"
)

// Errors the CLI maps to exit codes. Each is wrapped with context.
var (
	// ErrBadRequest: the request itself is malformed (a bad variable
	// name, no command, an unknown secret). Nothing was started.
	ErrBadRequest = errors.New("bad request")
	// ErrDenied: the request is well-formed but not allowed.
	ErrDenied = errors.New("access denied")
)

// Broker is an opened gate over one store.
type Broker struct {
	st *store.Store
}

// Open opens the store in dir behind a broker.
func Open(dir string) (*Broker, error) {
	st, err := store.Open(dir)
	if err != nil {
		return nil, err
	}
	return &Broker{st: st}, nil
}

// Init creates a new store in dir.
func Init(dir string) error {
	_, err := store.Init(dir)
	return err
}

// Dir is the store directory.
func (b *Broker) Dir() string { return b.st.Dir() }

// Warnings are the store problems found and repaired on open.
func (b *Broker) Warnings() []string { return b.st.Warnings() }

// grant is the proof that authorize allowed a request; reading values
// requires one, so no code path reads a value without a decision.
type grant struct {
	secrets []string
}

// authorize is the decision point for every access to secret values or
// names. It is the only function that creates a grant.
func (b *Broker) authorize(op string, secrets []string) (grant, error) {
	for _, name := range secrets {
		if err := store.ValidateName(name); err != nil {
			return grant{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		if !b.st.Has(name) {
			return grant{}, fmt.Errorf("%w: no secret named %q", ErrBadRequest, name)
		}
	}
	return grant{secrets: secrets}, nil
}

// values reads the granted secrets, in order.
func (b *Broker) values(g grant) ([][]byte, error) {
	out := make([][]byte, len(g.secrets))
	for i, name := range g.secrets {
		v, err := b.st.Read(name)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
