package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/dotenv"
)

type importOptions struct {
	IO *IOStreams
	access

	File   string
	Delete bool
}

func newImportCmd(f *Factory) *cobra.Command {
	opts := &importOptions{IO: f.IO, access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "import FILE.env",
		Short: "Store every KEY=VALUE of a dotenv file; print names only",
		Long: `Read a dotenv file and store each entry under its key, unchanged: a key
([A-Za-z_][A-Za-z0-9_.-]*) is a secret name, as "llms set KEY" takes it. The
whole file is parsed first: a syntax error stores nothing. No variable
expansion is done: "${X}" is stored literally. With --delete the file is
removed afterwards, only once every value is stored; --delete refuses, before
storing anything, a symbolic link or a file with other hard links, whose
removal would leave the plaintext behind.`,
		Args: exactArgs(1, "FILE.env"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File = args[0]
			return runImport(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Delete, "delete", false, "remove the file once every value is stored")
	return cmd
}

func runImport(opts *importOptions) error {
	data, read, err := readImportFile(opts.File, opts.Delete)
	if err != nil {
		return err
	}
	entries, err := dotenv.Parse(data)
	if err != nil {
		return usagef("%s: %v; nothing stored", opts.File, err)
	}
	if len(entries) == 0 {
		return usagef("%s: no entries; nothing stored", opts.File)
	}
	for _, e := range entries {
		// The parser's key grammar is inside the secret-name grammar; the
		// check still bounds the length.
		if err := broker.ValidateName(e.Key); err != nil {
			return usagef("%s line %d: %v; nothing stored", opts.File, e.Line, err)
		}
		if err := broker.CheckValue(e.Value); err != nil {
			return usagef("%s line %d (%s): %v; nothing stored", opts.File, e.Line, e.Key, err)
		}
	}
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	reqs := make([]broker.SetRequest, len(entries))
	for i, e := range entries {
		reqs[i] = broker.SetRequest{Name: e.Key, Value: e.Value}
	}
	res, err := b.Import(c, reqs)
	if res == nil && err != nil {
		return fmt.Errorf("%w; nothing stored, %s was kept", err, opts.File)
	}
	// One write for ten thousand names, not one each.
	out := bufio.NewWriter(opts.IO.Out)
	report := &IOStreams{Out: out, ErrOut: opts.IO.ErrOut}
	for i, e := range entries {
		warnShort(report, e.Key, e.Value)
		reportStored(report, e.Key, res[i])
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("%w; %s was kept", err, opts.File)
	}
	if opts.Delete {
		// What is removed must still be what was read.
		if now, err := os.Lstat(opts.File); err != nil || !os.SameFile(read, now) {
			return fmt.Errorf("every value is stored, but %s changed since it was read; it was not removed", opts.File)
		}
		if err := os.Remove(opts.File); err != nil {
			return fmt.Errorf("every value is stored, but removing %s failed: %w", opts.File, err)
		}
		fprintf(opts.IO.Out, "removed: %s\n", opts.File)
	}
	return nil
}

// readImportFile reads the file to import and says what was read. When it is to be deleted it must
// be the only name of a regular file: removing a symbolic link, or one of
// several hard links, would leave the plaintext in place. It is opened
// without following a link, so the checks hold for what is read.
func readImportFile(path string, forDelete bool) ([]byte, os.FileInfo, error) {
	flags := os.O_RDONLY
	if forDelete {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			return nil, nil, usagef("%s is a symbolic link: --delete would remove only the link and leave the file it points to; import that file instead; nothing stored", path)
		}
		flags |= syscall.O_NOFOLLOW | syscall.O_NONBLOCK
	}
	fh, err := os.OpenFile(path, flags, 0)
	if err != nil {
		return nil, nil, usageError{Err: err}
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, nil, err
	}
	if forDelete {
		if !fi.Mode().IsRegular() {
			return nil, nil, usagef("%s is not a regular file; --delete removes only regular files; nothing stored", path)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			return nil, nil, usagef("%s has %d links: --delete would remove one name and leave the contents under the others; nothing stored", path, st.Nlink)
		}
	}
	data, err := io.ReadAll(fh)
	if err != nil {
		return nil, nil, usageError{Err: err}
	}
	return data, fi, nil
}
