// Package supervise serves seccomp user notifications: a process confined
// with a filter that answers SECCOMP_RET_USER_NOTIF for some system calls
// blocks in each of them until its supervisor — another process, holding
// the filter's listener descriptor — decides what the call returns. Agent
// mode's launcher is that supervisor for the agent's tree (see
// internal/sandbox).
//
// It owns:
//
//   - the loop: Serve receives each notification and hands it to the
//     handler registered for its (audit arch, system call number), on a
//     goroutine of its own, so that a call that takes long (a blocking TCP
//     connect the supervisor performs) stalls no other; at most
//     MaxInFlight at once;
//   - what a handler may do with the calling thread, each step safe against
//     the caller changing its memory or descriptors meanwhile: read its
//     memory once (Notif.Read, Notif.ReadString), take one of its
//     descriptors (Notif.TakeFD, pidfd_getfd), check that the notification
//     still stands for the same thread (Notif.Valid), and answer: a value,
//     an errno, a descriptor put into its table as the call's result
//     (Notif.InjectFD), or "run the call as made" (Continue) — which the
//     kernel then performs reading the caller's memory again, so a handler
//     continues only a call whose decision rests on argument values, never
//     on memory;
//   - the raw kernel interface: the notification structures and ioctls,
//     which golang.org/x/sys does not define.
//
// It refuses: a notification with no handler (ENOSYS), a handler that
// panics (EPERM: fail closed). Once the listener is closed — Close, or the
// supervising process dies — the kernel fails every mediated call with
// ENOSYS. It holds no policy: what a call may do is the handlers'.
package supervise
