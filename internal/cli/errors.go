package cli

import (
	"errors"
	"strings"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/exitstatus"
)

// Exit codes. A child's own status passes through exec unchanged.
const (
	exitError    = 1 // the operation failed
	exitUsage    = 2 // bad input: flags, names, missing secret; nothing changed
	exitDenied   = 3 // well-formed but not allowed
	exitNoExec   = 126
	exitNotFound = 127
)

// usageError and childExit are cli's short names for the errors every
// command package returns with a status of its own (exitstatus).
type (
	usageError = exitstatus.UsageError
	childExit  = exitstatus.Child
)

func usagef(format string, args ...any) error { return exitstatus.Usagef(format, args...) }

// exitWith gives an error its own exit status, for a command whose
// statuses differ from the usual ones (scan: 1 means "found").
type exitWith struct {
	code int
	err  error
}

func (e exitWith) Error() string { return e.err.Error() }
func (e exitWith) Unwrap() error { return e.err }

// exitCode maps an error to the process exit status.
func exitCode(err error) int {
	var ce childExit
	var ue usageError
	var ew exitWith
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ce):
		return ce.Code
	case errors.As(err, &ew):
		return ew.code
	case errors.As(err, &ue),
		errors.Is(err, broker.ErrBadRequest),
		errors.Is(err, broker.ErrInvalidName),
		errors.Is(err, broker.ErrNotFound),
		strings.HasPrefix(err.Error(), "unknown command"):
		return exitUsage
	case errors.Is(err, broker.ErrDenied):
		return exitDenied
	case errors.Is(err, broker.ErrCommandNotFound):
		return exitNotFound
	case errors.Is(err, broker.ErrCommandNotExecutable):
		return exitNoExec
	}
	return exitError
}
