package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/durable"
)

// A batch stores many secrets as one change: after a crash at any instant
// the store holds every one of them or none. Writing them one by one costs
// two fsyncs a secret (10 ms on a busy disk); a batch costs one flush of
// the file system and two directory fsyncs in all.
//
//  1. each value is encrypted to <dir>/.batch.new/NAME.age
//  2. syncfs(2): every staged file is on disk
//  3. commit: .batch.new is renamed .batch, and the store directory fsynced
//  4. each staged file is renamed into secrets/, which is fsynced, and
//     the empty .batch removed; into an empty store, .batch is renamed
//     secrets/ instead, in one step
//
// A crash before 3 leaves .batch.new, which the next writer removes:
// nothing changed. A crash after 3 leaves .batch, whose files Open and the
// next writer rename into place: everything changed. Readers that do not
// take the lock may see the batch half applied while step 4 runs, never
// after a crash.
const (
	stagingDir = ".batch.new"
	batchDir   = ".batch"
)

// NamedValue is one secret of a batch.
type NamedValue struct {
	Name  string
	Value []byte
}

// WriteBatch stores every value under its name as one change (see above),
// and reports which names are new. A bad name, value or a name given twice
// is refused before anything is written. An error with created set came
// after the commit: the batch is stored, recovery finishes putting it in
// place.
func (s *Store) WriteBatch(items []NamedValue) (created []bool, err error) {
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if err := ValidateName(it.Name); err != nil {
			return nil, err
		}
		if err := CheckValue(it.Value); err != nil {
			return nil, fmt.Errorf("%s: %w", it.Name, err)
		}
		if seen[it.Name] {
			return nil, fmt.Errorf("%s is given twice", it.Name)
		}
		seen[it.Name] = true
	}
	unlock, err := s.lockSecrets()
	if err != nil {
		return nil, err
	}
	defer unlock()
	staging := filepath.Join(s.sdir, stagingDir)
	if err := os.Mkdir(staging, 0o700); err != nil {
		return nil, err
	}
	if err := s.stageValues(staging, items); err != nil {
		os.RemoveAll(staging)
		return nil, err
	}
	des, err := os.ReadDir(filepath.Join(s.sdir, secretsDir))
	if err != nil {
		os.RemoveAll(staging)
		return nil, err
	}
	stored := make(map[string]bool, len(des))
	for _, de := range des {
		stored[de.Name()] = true
	}
	created = make([]bool, len(items))
	for i, it := range items {
		created[i] = !stored[it.Name+secretExt]
	}
	if err := os.Rename(staging, filepath.Join(s.sdir, batchDir)); err != nil {
		os.RemoveAll(staging)
		return nil, err
	}
	// Committed: from here on the batch is applied, now or by recovery.
	err = durable.SyncDir(s.sdir)
	if err == nil {
		err = s.applyBatch()
	}
	if err == nil {
		names := make([]string, len(items))
		for i, it := range items {
			names[i] = it.Name
		}
		err = s.recordFiles(names)
	}
	if err != nil {
		return created, fmt.Errorf("the batch is written but not yet in place (%w): the next llms command puts it there", err)
	}
	return created, nil
}

// stageValues encrypts the values into dir and flushes them.
func (s *Store) stageValues(dir string, items []NamedValue) error {
	recips := s.secretRecipients()
	return s.stage(dir, len(items), func(i int) (staged, error) {
		ct, err := encryptTo(recips, items[i].Value)
		return staged{name: items[i].Name, ct: ct}, err
	})
}

// staged is one file of a staging directory: its name, its content and,
// when set, the modification time it keeps (a re-encrypted secret keeps
// the time its value was written).
type staged struct {
	name  string
	ct    []byte
	mtime *unix.Timespec
}

// stage writes the n files seal makes into dir and flushes them. seal
// runs on every CPU; one goroutine creates the files, since creations in
// one directory wait on its lock anyway, and spinning on it would take
// CPU from the encryption.
func (s *Store) stage(dir string, n int, seal func(i int) (staged, error)) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	dfd := int(d.Fd())
	type result struct {
		staged
		err error
	}
	out := make(chan result, 64)
	var next atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n) && !stop.Load(); i = next.Add(1) - 1 {
				f, err := seal(int(i))
				if err == nil {
					f.name += secretExt
				}
				out <- result{f, err}
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	var firstErr error
	for v := range out {
		if firstErr == nil {
			if firstErr = v.err; firstErr == nil {
				firstErr = writeNew(dfd, v.name, v.ct)
			}
			if firstErr == nil && v.mtime != nil {
				firstErr = unix.UtimesNanoAt(dfd, v.name, []unix.Timespec{*v.mtime, *v.mtime}, unix.AT_SYMLINK_NOFOLLOW)
			}
			stop.Store(firstErr != nil)
		}
	}
	if firstErr != nil {
		return firstErr
	}
	// One flush of the file system makes every staged file durable, where
	// an fsync each would wait for the disk once per secret.
	if err := unix.Syncfs(dfd); err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}

// writeNew creates name in the directory dfd with data. It uses the
// system calls themselves: the os package's file setup (the poller,
// descriptor flags) would double the calls of ten thousand files.
func writeNew(dfd int, name string, data []byte) error {
	fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	for len(data) > 0 && err == nil {
		var n int
		n, err = unix.Write(fd, data)
		if err == unix.EINTR {
			err = nil
		}
		data = data[max(n, 0):]
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// applyBatch moves a committed batch's files into secrets/ (steps 4 and
// 5). It is what recovery runs too: a file already moved is simply no
// longer there. The caller holds the writer lock.
func (s *Store) applyBatch() error {
	dir := filepath.Join(s.sdir, batchDir)
	des, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	secrets := filepath.Join(s.sdir, secretsDir)
	if err := checkBatch(dir, des); err != nil {
		return err
	}
	// Into an empty store (a first import) the batch goes in one step: the
	// directory takes the place of the empty secrets/.
	if emptyDir(secrets) && unix.Rename(dir, secrets) == nil {
		return durable.SyncDir(s.sdir)
	}
	for _, de := range des {
		// unix.Rename, not os.Rename, which stats the target first.
		if err := unix.Rename(filepath.Join(dir, de.Name()), filepath.Join(secrets, de.Name())); err != nil {
			return fmt.Errorf("store: rename %s: %w", de.Name(), err)
		}
	}
	if err := durable.SyncDir(secrets); err != nil {
		return err
	}
	if err := os.Remove(dir); err != nil {
		return err
	}
	return durable.SyncDir(s.sdir)
}

// checkBatch refuses a batch directory holding anything a batch does not
// write.
func checkBatch(dir string, des []os.DirEntry) error {
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), secretExt)
		if !ok || !de.Type().IsRegular() || ValidateName(name) != nil {
			return fmt.Errorf("store: %s holds %q, which no batch writes; move it away", dir, de.Name())
		}
	}
	return nil
}

// emptyDir reports whether dir is a directory with nothing in it.
func emptyDir(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	return errors.Is(err, io.EOF)
}

// recoverBatch finishes what a crash interrupted, under the writer lock: a
// committed batch is applied, an uncommitted one removed.
func (s *Store) recoverBatch() error {
	if fi, err := os.Lstat(filepath.Join(s.sdir, batchDir)); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("store: %s is not a directory; move it away", filepath.Join(s.sdir, batchDir))
		}
		if err := s.applyBatch(); err != nil {
			return fmt.Errorf("store: finishing an interrupted batch write: %w", err)
		}
	}
	if err := os.RemoveAll(filepath.Join(s.sdir, stagingDir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
