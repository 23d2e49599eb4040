// Package durable owns the file-system steps that make a change survive a
// crash: fsyncing the directory that holds a renamed, created or removed
// file (the store and the audit log), and replacing a file whole through
// a temporary file (setup, the MCP token file). It refuses nothing and
// decides nothing.
package durable

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SyncDir fsyncs a directory, so that a rename, creation or removal in it
// is on disk before the caller reports success.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// ReplaceFile replaces path with data through a temporary file in the
// same directory, so that a crash leaves the old file or the new one.
func ReplaceFile(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".llms-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}
