package broker

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/llm-secrets/llms/internal/store"
)

// stateFile is one piece of the broker's own state — keys, the session,
// the deny-list, the lease registry — kept as JSON sealed in the store,
// so only a holder of the identity can read or change it.
type stateFile struct {
	name string // the sealed file's name in the store
	what string // how errors call it
}

var (
	rootKeysState = stateFile{"rootkeys", "root keys file"}
	sessionState  = stateFile{"session", "session file"}
	revokedState  = stateFile{"revoked", "revocation list"}
	leasesState   = stateFile{"leases", "lease registry"}
)

// auditKeyFile holds the audit chain's raw key (not JSON).
const auditKeyFile = "auditkey"

// readState decodes f into v. A missing file leaves v as it is and
// reports false.
func (b *Broker) readState(f stateFile, v any) (bool, error) {
	data, err := b.st.ReadSealed(f.name)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("%s is corrupt: %w", f.what, err)
	}
	return true, nil
}

// writeState replaces f with v.
func (b *Broker) writeState(f stateFile, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.st.WriteSealed(f.name, data)
}

// updateState reads f (the zero T when it is missing), lets change edit
// it and writes the result, all under the store's writer lock, so two
// processes updating f cannot lose each other's change.
func updateState[T any](b *Broker, f stateFile, change func(T) T) error {
	return b.st.UpdateSealed(f.name, func(old []byte) ([]byte, error) {
		var v T
		if old != nil {
			if err := json.Unmarshal(old, &v); err != nil {
				return nil, fmt.Errorf("%s is corrupt: %w", f.what, err)
			}
		}
		return json.Marshal(change(v))
	})
}

// deleteState removes every file of the broker's authority state.
func (b *Broker) deleteState(files ...stateFile) error {
	for _, f := range files {
		if err := b.st.DeleteSealed(f.name); err != nil {
			return err
		}
	}
	return nil
}
