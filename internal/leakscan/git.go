package leakscan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/llm-secrets/llms/internal/gitrun"
	"github.com/llm-secrets/llms/internal/smallfile"
)

// A Repo is a git repository, driven through the git command (never a Go
// git library: git's own reading of packs, alternates and worktrees is the
// one to trust), run through internal/gitrun, so that nothing the
// repository's config names is run.
type Repo struct {
	Top string // the working tree's top directory
	git *gitrun.Git
}

// OpenRepo finds the repository that holds dir.
func OpenRepo(g *gitrun.Git, dir string) (*Repo, error) {
	out, err := g.Output(dir, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	return &Repo{Top: strings.TrimSuffix(string(out), "\n"), git: g}, nil
}

// WorkTree yields the files of the working tree that git tracks or would
// track (untracked files that are not ignored), as they are on disk.
func (r *Repo) WorkTree(o Options) iter.Seq2[Input, error] {
	return func(yield func(Input, error) bool) {
		out, err := r.git.Output(r.Top, nil, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--deduplicate")
		if err != nil {
			yield(Input{Path: r.Top}, err)
			return
		}
		for rel := range strings.SplitSeq(strings.TrimSuffix(string(out), "\x00"), "\x00") {
			if rel == "" {
				continue
			}
			path := filepath.Join(r.Top, rel)
			fi, err := os.Lstat(path)
			if errors.Is(err, os.ErrNotExist) {
				continue // deleted in the working tree
			}
			if err != nil {
				if !yield(Input{Path: path}, err) {
					return
				}
				continue
			}
			if !fi.Mode().IsRegular() {
				continue // a symbolic link's target, or a submodule, is not this tree's content
			}
			if !yieldFile(path, fi, o, smallfile.OpenNoFollow, yield) {
				return
			}
		}
	}
}

// Staged yields the staged version (the index's blob) of every file added,
// modified, renamed (as an addition) or changed in type (a symbolic link
// replaced by a file, or back) in the index against HEAD, as a pre-commit
// hook sees the commit to be. Paths are ":<path>", as git names index
// entries.
func (r *Repo) Staged(o Options) iter.Seq2[Input, error] {
	return func(yield func(Input, error) bool) {
		against := "HEAD"
		if _, err := r.git.Output(r.Top, nil, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"); err != nil {
			// The first commit: against the empty tree, whose id depends
			// on the repository's hash (SHA-1 or SHA-256).
			id, err := r.git.Output(r.Top, strings.NewReader(""), "hash-object", "-t", "tree", "--stdin")
			if err != nil {
				yield(Input{Path: r.Top}, err)
				return
			}
			against = strings.TrimSpace(string(id))
		}
		out, err := r.git.Output(r.Top, nil, "diff-index", "--cached", "-z", "--no-renames", "--diff-filter=AMT", against)
		if err != nil {
			yield(Input{Path: r.Top}, err)
			return
		}
		// Records are ":<mode> <mode> <sha> <sha> <status>\0<path>\0".
		fields := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		var objects []object
		for i := 0; i+1 < len(fields); i += 2 {
			meta := strings.Fields(fields[i])
			if len(meta) != 5 || meta[1] == "160000" {
				continue // not a record, or a submodule
			}
			objects = append(objects, object{id: meta[3], path: fields[i+1]})
		}
		r.blobs(objects, o, func(ob object) string { return ":" + ob.path }, nil, yield)
	}
}

// History yields every blob reachable from any ref, each once, under the
// first path git lists it at. Locate names the oldest commit that has it:
// "<commit>:<path>".
func (r *Repo) History(o Options) iter.Seq2[Input, error] {
	return func(yield func(Input, error) bool) {
		out, err := r.git.Output(r.Top, nil, "rev-list", "--all", "--objects", "--filter=object:type=blob", "--filter-provided-objects")
		if err != nil {
			if !yield(Input{Path: r.Top}, err) {
				return
			}
			return
		}
		var objects []object
		for line := range strings.SplitSeq(string(out), "\n") {
			id, path, ok := strings.Cut(line, " ")
			if !ok || !isObjectID(id) {
				continue // a commit (no path), or the tail of a path with a newline
			}
			objects = append(objects, object{id: id, path: path})
		}
		name := func(ob object) string { return ob.path + " (blob " + ob.id[:12] + ")" }
		locate := func(ob object) string {
			out, err := r.git.Output(r.Top, nil, "log", "--all", "--format=%H", "--find-object="+ob.id)
			if err != nil {
				return name(ob)
			}
			commits := strings.Fields(string(out))
			if len(commits) == 0 {
				return name(ob)
			}
			return commits[len(commits)-1][:12] + ":" + ob.path
		}
		r.blobs(objects, o, name, locate, yield)
	}
}

func isObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

type object struct{ id, path string }

// blobs streams objects through one `git cat-file --batch` and yields each
// as an Input whose Open reads it from the pipe. The consumer must read
// each stream before asking for the next (the broker's scan does);
// whatever it leaves is skipped.
func (r *Repo) blobs(objects []object, o Options, name, locate func(object) string, yield func(Input, error) bool) {
	if len(objects) == 0 {
		return
	}
	p, err := r.git.Start(r.Top, "cat-file", "--batch")
	if err != nil {
		yield(Input{Path: r.Top}, err)
		return
	}
	stdin, stdout := p.Stdin, p.Stdout
	var feed sync.WaitGroup
	feed.Go(func() {
		w := bufio.NewWriter(stdin)
		for _, ob := range objects {
			w.WriteString(ob.id)
			w.WriteByte('\n')
		}
		w.Flush()
		stdin.Close()
	})
	// end stops git: closing its output unblocks the feeder if we stopped
	// early. What git said on standard error is complete after it.
	ended := false
	end := func() string {
		if !ended {
			ended = true
			stdout.Close()
			feed.Wait()
			p.Wait()
		}
		return p.Stderr()
	}
	defer end()
	br := bufio.NewReaderSize(stdout, 256<<10)
	for _, ob := range objects {
		header, err := br.ReadString('\n')
		if err != nil {
			yield(Input{Path: name(ob)}, fmt.Errorf("git cat-file: %v %s", err, end()))
			return
		}
		f := strings.Fields(header)
		if len(f) != 3 || f[0] != ob.id {
			if len(f) == 2 && f[1] == "missing" {
				continue
			}
			yield(Input{Path: name(ob)}, fmt.Errorf("git cat-file: unexpected answer %q", strings.TrimSpace(header)))
			return
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || f[1] != "blob" {
			yield(Input{Path: name(ob)}, fmt.Errorf("git cat-file: unexpected answer %q", strings.TrimSpace(header)))
			return
		}
		body := &io.LimitedReader{R: br, N: size}
		in := Input{Path: name(ob), Open: func() (io.ReadCloser, error) { return io.NopCloser(body), nil }}
		if o.MaxBinary >= 0 && size > o.MaxBinary {
			head, _ := br.Peek(int(min(size, sniffLen)))
			if isBinary(head) {
				in = Input{Path: name(ob), Skipped: binaryTooLarge(size, o.MaxBinary)}
			}
		}
		if locate != nil && in.Open != nil {
			in.Locate = func() string { return locate(ob) }
		}
		if !yield(in, nil) {
			return
		}
		// Skip what the consumer left, and the newline after the object.
		if _, err := io.Copy(io.Discard, body); err != nil {
			yield(Input{Path: name(ob)}, fmt.Errorf("git cat-file: %w", err))
			return
		}
		if _, err := br.Discard(1); err != nil {
			yield(Input{Path: name(ob)}, fmt.Errorf("git cat-file: %w", err))
			return
		}
	}
}
