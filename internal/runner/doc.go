// Package runner starts the child program of `llms exec` and stays with it
// until it is gone: it relays signals, carries the child's output to the
// writers it is given, and reports how the child ended.
//
// It owns:
//
//   - starting the program at an absolute path, or from the directory of
//     it the caller opened (Spec.PathDir: what runs is found in the
//     directory the caller checked), with
//     exactly the argv and environment it is given: no shell, no PATH
//     search, no inherited environment (a nil Env is an empty environment);
//   - refusing an environment that is ambiguous or cannot be passed to
//     execve: an entry without "=", an empty name, a NUL byte, or two
//     entries for one name (libc getenv takes the first, other code the
//     last, so the child would not see one well-defined value);
//   - copying the child's stdout and stderr to the caller's writers as soon
//     as bytes arrive, never calling the two writers concurrently, and
//     waiting until every byte has been written before returning;
//   - telling writers that hold output back (Releaser: the redacting
//     writers, which hold the last bytes back by position) to write it
//     when the child has gone quiet and at the end of its output (see
//     Idle release);
//   - in PTY mode, a new pseudo-terminal, software flow control (IXON)
//     off, that becomes the child's controlling terminal, our terminal put
//     in raw mode and restored on every return path, input relayed to the
//     child and window size changes followed; when input that is not a
//     terminal ends, the child's terminal is sent its EOF character if it
//     is in line mode (a raw-mode child has no way to be told);
//   - relaying SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2, so
//     that llms itself does not die from them while the child runs;
//   - the exit status: the child's code, or 128+n when signal n killed it;
//   - the child's life: it is started with SIGKILL as its parent-death
//     signal, from a thread locked to the goroutine that waits for it, so
//     that it dies with llms however llms ends, `kill -9` included. Its own
//     descendants are not reached that way: on a terminal they share its
//     session and get the hang-up; without one, every descendant still
//     running outlives it (the program a script waits for included), as it
//     would outlive a shell.
//
// It refuses to know what the environment means or which values are secret:
// the broker builds the environment and hands in redacting writers. Errors
// name the program path and, for a bad environment, entry indexes; they
// never contain environment contents or arguments.
//
// # Keyboard signals
//
// Without a PTY the child stays in our process group, so job control
// (Ctrl-Z, fg, bg) keeps working and a Ctrl-C typed at the terminal reaches
// the child directly from the kernel. Forwarding that SIGINT as well would
// deliver it twice, and "press Ctrl-C again to force quit" programs (package
// managers, dev servers, coding agents) would then quit at the first press.
// The signal handler cannot tell who sent a signal, so the rule is: a SIGINT
// or SIGQUIT that arrives while our process group is the foreground group of
// our controlling terminal, and the child is still in that group, is assumed
// to come from the keyboard and is not forwarded; otherwise (no terminal,
// background job, agent harness, a child that made a group of its own) it is.
// The cost is that `kill -INT <llms pid>` aimed at a foreground llms does not
// reach the child; SIGTERM, or signalling the child itself, still does.
// Other signals are always forwarded; a terminal hang-up may therefore
// deliver SIGHUP twice, which for the usual response (exit) changes nothing.
//
// In PTY mode the child has its own session and our terminal is raw, so the
// keyboard produces bytes, not signals: Ctrl-C reaches the child once,
// through its terminal, and every caught signal is forwarded.
//
// Signals that were ignored when llms started (nohup, a background job of a
// non-interactive shell) are not caught: they stay ignored, and the child
// inherits the ignore as it would without llms.
//
// # Idle release
//
// A writer that holds output back is released when no byte has come for
// 50 ms and the child is quiet: every byte it wrote has been read, and at
// two looks 10 ms apart no thread of it or of a process below it could
// run (each asleep, in S or I, or dead) and none ran in between; one
// running or waiting for a CPU, in uninterruptible sleep, stopped or
// traced puts it off until it is quiet. Whoever can put
// bytes into the child's output may also starve the child of CPU, stop
// it, or fill its pipe: idleness must be the child's own, or a value the
// child is writing would show up to where it was paused. On a terminal the
// runner creates, flow control is off, so ^S is a byte for the child; if
// the child turns IXON on (^S would then stop its output in the middle of
// a write, and it would sleep there), nothing is released by idleness for
// the rest of the run. Nor once the child has exited, since what is left
// below it is no longer seen. Writers still write what they hold as the
// stream goes past it, and everything at the end of the output. The
// release depends on when the child writes and sleeps, never on what it
// writes: there is no other timer, and no randomness
// (docs/adr/0026-redaction-releases-by-position.md).
//
// # Waiting
//
// Run returns when the child has exited and its output has reached end of
// file, that is when every process holding the child's stdout, stderr or
// terminal has closed it, as a shell pipeline would. A background process
// the child leaves behind with those descriptors open keeps Run waiting.
//
// # Serving other processes
//
// The agent-mode broker starts children for its clients. Spec.Signals then
// replaces catching our own signals: the client forwards what it receives,
// every one is relayed, and without a PTY the child gets a process group of
// its own so that nothing reaches it twice, or joins the client's
// (Spec.JoinGroup) when it must read the client's terminal.
//
// Spec.Confine changes the state of the thread that starts the child (a
// Landlock domain, no_new_privs, capabilities) on a thread locked to that
// purpose and discarded after the child is reaped; the child inherits the
// state, and no other code of llms runs under it, because the Go runtime
// never clones a thread from a locked one and ends the thread with its
// goroutine (the main thread, which cannot end, is parked for good
// instead).
//
// The package is Linux-only.
package runner
