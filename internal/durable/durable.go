// Package durable owns the one file-system step that the store and the
// audit log both need to make a change survive a crash: fsyncing the
// directory that holds a renamed, created or removed file. It refuses
// nothing and decides nothing.
package durable

import (
	"fmt"
	"os"
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
