//go:build ignore

// Command rewrapbench makes a shared store of age files and gives every
// file a new member with internal/agefile, standing in for `llms member
// add` in bench/teams-member-add.sh until that command exists.
//
//	go run bench/rewrapbench/main.go gen -dir D -n 10000 -recipients 50
//	go run bench/rewrapbench/main.go add -dir D -mode append|rewrap
//
// gen writes D/identity.txt (member 0's identity, the one that runs add),
// D/recipients.txt (one "# member-N" line over each recipient, as age -R
// reads it), D/newcomer.txt (the identity of the member to add) and its
// recipient in D/newcomer.pub, and D/secrets/SECRET_NNNNNN.age: a 1 KiB
// value encrypted to every recipient. Encrypting 10,000 files to 50
// recipients would take a million X25519 operations, so it encrypts one
// and copies it: a re-wrap costs the same whatever the file key is.
//
// add re-wraps every file in D/secrets to the members plus the newcomer
// (-mode rewrap: all stanzas new; -mode append: one stanza added) with
// one agefile.Rewrapper, on every CPU, writing each through a temporary file and a rename, as a
// store batch does (without its fsyncs, which sops does not do either).
// It then checks that the newcomer reads a file and its payload bytes did
// not change, and prints the time and the cost per file.
//
// The build tag keeps this benchmark helper out of `go list ./...`, and so
// out of the import graph internal/archtest pins.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/llm-secrets/llms/internal/agefile"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: rewrapbench gen|add [flags]"))
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "add":
		err = add(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rewrapbench:", err)
	os.Exit(2)
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	dir := fs.String("dir", "", "store directory to create")
	n := fs.Int("n", 10000, "secrets")
	members := fs.Int("recipients", 50, "recipients")
	fs.Parse(args)
	if *dir == "" || *n < 1 || *members < 1 {
		return errors.New("gen needs -dir, -n >= 1, -recipients >= 1")
	}
	if err := os.MkdirAll(filepath.Join(*dir, "secrets"), 0o700); err != nil {
		return err
	}
	var rcpts []age.Recipient
	var list strings.Builder
	for i := range *members {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return err
		}
		if i == 0 {
			if err := os.WriteFile(filepath.Join(*dir, "identity.txt"), []byte(id.String()+"\n"), 0o600); err != nil {
				return err
			}
		}
		rcpts = append(rcpts, id.Recipient())
		fmt.Fprintf(&list, "# member-%d\n%s\n", i, id.Recipient())
	}
	if err := os.WriteFile(filepath.Join(*dir, "recipients.txt"), []byte(list.String()), 0o644); err != nil {
		return err
	}
	newcomer, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "newcomer.txt"), []byte(newcomer.String()+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "newcomer.pub"), []byte(newcomer.Recipient().String()+"\n"), 0o644); err != nil {
		return err
	}
	value := make([]byte, 512)
	rand.Read(value)
	var file bytes.Buffer
	w, err := age.Encrypt(&file, rcpts...)
	if err != nil {
		return err
	}
	io.WriteString(w, hex.EncodeToString(value)) // 1 KiB
	if err := w.Close(); err != nil {
		return err
	}
	for i := range *n {
		p := filepath.Join(*dir, "secrets", fmt.Sprintf("SECRET_%06d.age", i))
		if err := os.WriteFile(p, file.Bytes(), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func readIdentity(path string) (age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, err
	}
	return ids[0], nil
}

func readRecipients(path string) ([]age.Recipient, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return age.ParseRecipients(f)
}

func add(args []string) error {
	fs := flag.NewFlagSet("add", flag.ExitOnError)
	dir := fs.String("dir", "", "store directory made by gen")
	mode := fs.String("mode", "append", "append (one stanza added) or rewrap (all stanzas new)")
	fs.Parse(args)
	id, err := readIdentity(filepath.Join(*dir, "identity.txt"))
	if err != nil {
		return err
	}
	members, err := readRecipients(filepath.Join(*dir, "recipients.txt"))
	if err != nil {
		return err
	}
	newcomer, err := readRecipients(filepath.Join(*dir, "newcomer.pub"))
	if err != nil {
		return err
	}
	// One Rewrapper for the store, as a member change uses it: after the
	// first file it tries its own stanza first.
	rw := agefile.NewRewrapper([]age.Identity{id})
	var op func([]byte) ([]byte, error)
	switch *mode {
	case "append":
		op = func(f []byte) ([]byte, error) { return rw.AddRecipients(f, newcomer) }
	case "rewrap":
		all := append(members, newcomer...)
		op = func(f []byte) ([]byte, error) { return rw.Rewrap(f, all) }
	default:
		return fmt.Errorf("unknown -mode %q", *mode)
	}
	paths, err := filepath.Glob(filepath.Join(*dir, "secrets", "*.age"))
	if err != nil || len(paths) == 0 {
		return fmt.Errorf("no secrets in %s: %v", *dir, err)
	}
	before, err := os.ReadFile(paths[0])
	if err != nil {
		return err
	}

	start := time.Now()
	work := make(chan string)
	errs := make(chan error, len(paths))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for p := range work {
				errs <- rewrapFile(p, op)
			}
		})
	}
	for _, p := range paths {
		work <- p
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	elapsed := time.Since(start)

	if err := check(paths[0], before, filepath.Join(*dir, "newcomer.txt")); err != nil {
		return err
	}
	fmt.Printf("rewrapbench: %s %d files in %s, %.3f ms per file, %d workers\n",
		*mode, len(paths), elapsed.Round(time.Millisecond), float64(elapsed.Microseconds())/1000/float64(len(paths)), runtime.GOMAXPROCS(0))
	return nil
}

func rewrapFile(path string, op func([]byte) ([]byte, error)) error {
	file, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := op(file)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// check: the newcomer reads the file, and its payload is the one it had.
func check(path string, before []byte, newcomerPath string) error {
	after, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	id, err := readIdentity(newcomerPath)
	if err != nil {
		return err
	}
	r, err := age.Decrypt(bytes.NewReader(after), id)
	if err != nil {
		return fmt.Errorf("the newcomer cannot read %s: %w", filepath.Base(path), err)
	}
	if _, err := io.ReadAll(r); err != nil {
		return err
	}
	_, offBefore, _ := agefile.ParseHeader(before)
	_, offAfter, _ := agefile.ParseHeader(after)
	if !bytes.Equal(before[offBefore:], after[offAfter:]) {
		return errors.New("a payload changed")
	}
	return nil
}
