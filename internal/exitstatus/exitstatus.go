// Package exitstatus owns the errors that carry an exit status of their
// own through the commands: a UsageError (bad input, exit 2) and a Child
// (a child's status, passed through without a message). Every command
// package returns these, and only the CLI turns an error into the
// process's status. It imports nothing of llms and judges no request.
package exitstatus

import "fmt"

// UsageError marks an error as bad input (exit 2): flags, names, a missing
// secret; nothing was changed.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef is a UsageError with a message.
func Usagef(format string, args ...any) error {
	return UsageError{fmt.Errorf(format, args...)}
}

// Child carries a child's exit status without a message.
type Child struct{ Code int }

func (e Child) Error() string { return fmt.Sprintf("child exited with status %d", e.Code) }
