// Package leakscan knows where secrets leak to, and hands those places to
// the broker's scan as streams of bytes: the transcript and history stores
// of the coding agents, the shell histories, files and directories named
// on the command line, and a git repository's working tree, index and
// history.
//
// It owns the list of locations (Agents, ShellHistories; documented with
// their sources in docs/SCAN.md), walking directories, telling binary files
// from text, streaming git objects out of one `git cat-file --batch`, and
// the pre-commit hook that runs `llms scan --git --staged` (InstallHook,
// which never replaces a different hook). Git runs through internal/gitrun
// only: the repository's config, which whoever writes the tree writes,
// runs nothing. It refuses to:
//   - read a secret value, or know any: matching belongs to the broker,
//     which alone holds values (internal/archtest);
//   - follow a symbolic link while walking a directory or reading a file
//     git lists (one swapped in since the listing included), or open
//     anything that is not a regular file (internal/smallfile: a FIFO
//     would block the scan forever, opening a device can act);
//   - parse agent formats: every location is scanned as bytes, and the
//     redactor's forms (JSON escapes among them) find a value wherever a
//     format wrote it.
package leakscan
