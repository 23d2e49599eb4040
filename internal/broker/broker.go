package broker

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/store"
	"github.com/llm-secrets/llms/internal/v3store"
)

// Errors the CLI maps to exit codes. Each is wrapped with context.
var (
	// ErrBadRequest: the request itself is malformed (a bad variable
	// name, no command, an unknown secret). Nothing was started.
	ErrBadRequest = errors.New("bad request")
	// ErrDenied: the request is well-formed but not allowed.
	ErrDenied = errors.New("access denied")
)

// Broker is an opened gate over one store. Exec, Peek and List may be
// called concurrently (the agent-mode server does); the rest may not.
type Broker struct {
	// mu serialises decisions and reads of values: the store and the
	// audit log are opened lazily and keep what they read.
	mu    sync.Mutex
	st    *store.Store
	now   func() time.Time
	audit *audit.Log // opened on first record
}

// Open opens the store in dir behind a broker.
func Open(dir string) (*Broker, error) {
	if !store.Exists(dir) && v3store.Present(dir) {
		return nil, fmt.Errorf("%s: %w", dir, ErrV3Store)
	}
	st, err := store.Open(dir)
	if err != nil {
		return nil, err
	}
	return newBroker(st), nil
}

func newBroker(st *store.Store) *Broker { return &Broker{st: st, now: time.Now} }

// Init creates a new store in dir.
func Init(dir string) error {
	if !store.Exists(dir) && v3store.Present(dir) {
		return fmt.Errorf("%s: %w", dir, ErrV3Store)
	}
	_, err := store.Init(dir)
	return err
}

// Dir is the store directory.
func (b *Broker) Dir() string { return b.st.Dir() }

// Warnings are the store problems found and repaired on open.
func (b *Broker) Warnings() []string { return b.st.Warnings() }
