//go:build ignore

// Command auditgen appends realistic records to a store's audit log, chained
// under the store's own audit key, so that `llms audit verify` accepts the
// result. bench/audit.sh uses it to build a log of a million lines in
// seconds instead of the hours a million `llms exec` runs would take.
//
//	go run bench/auditgen/main.go -store DIR -scratch /dev/shm -n 1000000
//
// The store must already hold an audit key and log: run one command that
// audits (`llms list`) first. The log is moved to the scratch directory,
// extended there with audit.Log.Append — the same code path llms uses,
// lock, tail check and fsync included, which tmpfs makes cheap — and moved
// back (copied, when scratch is on another file system).
//
// The build tag keeps this benchmark helper out of `go list ./...`, and so
// out of the import graph internal/archtest pins: no package but the
// broker reaches the store. Run it by file name as above.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/store"
)

func main() {
	dir := flag.String("store", "", "store directory (required)")
	scratch := flag.String("scratch", "/dev/shm", "directory to build the log in")
	n := flag.Int("n", 1_000_000, "records to append")
	flag.Parse()
	if *dir == "" || *n < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*dir, *scratch, *n); err != nil {
		fmt.Fprintln(os.Stderr, "auditgen:", err)
		os.Exit(1)
	}
}

func run(dir, scratch string, n int) error {
	st, err := store.Open(dir)
	if err != nil {
		return err
	}
	key, err := st.ReadSealed("auditkey")
	if err != nil {
		return fmt.Errorf("audit key (run one auditing command, e.g. llms list, first): %w", err)
	}
	final := filepath.Join(dir, "audit.jsonl")
	tmpDir, err := os.MkdirTemp(scratch, "auditgen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "audit.jsonl")
	if err := moveFile(final, tmp); err != nil {
		return err
	}
	log := audit.Open(tmp, key)
	for i := range n {
		if err := log.Append(record(i)); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
	}
	return moveFile(tmp, final)
}

// record i is one of the events an agent's day produces: mostly allowed
// execs, some peeks and lists, denials, and now and then a mint. Its time
// is left zero: Append stamps the current time, as it does for llms.
func record(i int) audit.Record {
	r := audit.Record{
		Event: "exec", Decision: "allow", Op: "exec",
		Secrets: []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY"}, TokenID: fmt.Sprintf("tok_%012x", i/50),
		Program: "/usr/bin/curl", Agent: "claude", Repo: "github.com/acme/payments-service",
		Branch: "feature/rotate-keys", Cwd: "/home/dev/src/payments-service", PID: 100000 + i%900000,
	}
	switch i % 20 {
	case 3:
		r.Event, r.Op, r.Program, r.Secrets = "peek", "peek", "", []string{"DB_PASSWORD"}
	case 7:
		r.Event, r.Op, r.Program, r.Secrets = "list", "list", "", nil
	case 11:
		r.Decision, r.Reason, r.Secrets = "deny", `secret "STRIPE_KEY" is not allowed by the token`, []string{"STRIPE_KEY"}
	case 19:
		r.Event, r.Op, r.Program, r.Agent = "mint", "mint", "", ""
	}
	return r
}

// moveFile renames src to dst, or copies it across file systems, keeping
// mode 0600.
func moveFile(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Remove(src)
}
