package broker

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/llm-secrets/llms/internal/store"
)

// v3Dir writes an llm-secrets v3 store as that tool does and returns its
// directory.
func v3Dir(t *testing.T, secrets map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	id, err := age.GenerateX25519Identity()
	must(t, err)
	plain, err := json.Marshal(map[string]any{"secrets": secrets})
	must(t, err)
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, id.Recipient())
	must(t, err)
	_, err = w.Write(plain)
	must(t, err)
	must(t, w.Close())
	for name, data := range map[string][]byte{"identity.txt": []byte(id.String()), "store.age": ct.Bytes(), "root.key": bytes.Repeat([]byte{7}, 32)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A write that fails midway removes what the run wrote and leaves the v3
// store whole: nothing is half-done.
func TestMigrateFailureMidwayUndoes(t *testing.T) {
	from := v3Dir(t, map[string]string{"a": "mig-canary-a-1", "b": "mig-canary-b-2", "c": "mig-canary-c-3"})
	to := filepath.Join(t.TempDir(), "store")
	c := caller(t, nil, "")
	m, err := PlanMigration(c, MigrationRequest{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	real := migrateWrite
	defer func() { migrateWrite = real }()
	n := 0
	migrateWrite = func(st *store.Store, name string, v []byte) (bool, error) {
		if n++; n == 2 {
			return false, errors.New("disk full")
		}
		return real(st, name, v)
	}
	_, err = m.Run()
	if err == nil || !strings.Contains(err.Error(), "the 1 secret(s) written were removed again") {
		t.Fatalf("Run = %v", err)
	}
	if strings.Contains(err.Error(), "canary") {
		t.Fatalf("error carries a value: %v", err)
	}
	b, err := Open(to)
	if err != nil {
		t.Fatal(err)
	}
	if es, err := b.st.List(); err != nil || len(es) != 0 {
		t.Fatalf("left behind: %v (%v)", es, err)
	}
	for _, f := range []string{"store.age", "root.key", "identity.txt"} {
		if _, err := os.Stat(filepath.Join(from, f)); err != nil {
			t.Fatalf("v3 %s: %v", f, err)
		}
	}
	// Run again, nothing failing: it completes.
	migrateWrite = real
	m, err = PlanMigration(c, MigrationRequest{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Run()
	if err != nil || len(res.Imported) != 3 {
		t.Fatalf("second Run = %+v, %v", res, err)
	}
}

// Run wipes the values it held, and a plan cannot run twice.
func TestMigrateDiscards(t *testing.T) {
	from := v3Dir(t, map[string]string{"a": "mig-canary-d-4"})
	m, err := PlanMigration(caller(t, nil, ""), MigrationRequest{From: from, To: filepath.Join(t.TempDir(), "s")})
	if err != nil {
		t.Fatal(err)
	}
	v := m.secrets[0].Value
	if _, err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v, make([]byte, len(v))) || m.secrets != nil {
		t.Fatal("the value was not wiped")
	}
	if _, err := m.Run(); err == nil {
		t.Fatal("a second Run of one plan succeeded")
	}
}

func TestMigrateRefusesAgentsAndTokens(t *testing.T) {
	from := v3Dir(t, map[string]string{"a": "mig-canary-e-5"})
	to := filepath.Join(t.TempDir(), "s")
	if _, err := PlanMigration(caller(t, claude, ""), MigrationRequest{From: from, To: to}); !errors.Is(err, ErrDenied) {
		t.Fatalf("agent: %v", err)
	}
	if _, err := PlanMigration(caller(t, nil, "llms_m2_x"), MigrationRequest{From: from, To: to}); !errors.Is(err, ErrDenied) {
		t.Fatalf("token: %v", err)
	}
}
