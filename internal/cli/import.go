package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/dotenv"
)

type importOptions struct {
	File   string
	Delete bool
}

func newImportCmd(f *Factory) *cobra.Command {
	var opts importOptions
	cmd := &cobra.Command{
		Use:   "import FILE.env",
		Short: "Store every KEY=VALUE of a dotenv file; print names only",
		Long: `Read a dotenv file and store each entry under its key (characters a key may
not hold become '_'). The whole file is parsed first: a syntax error stores
nothing. No variable expansion is done: "${X}" is stored literally. With
--delete the file is removed afterwards, only once every value is stored.`,
		Args: exactArgs(1, "FILE.env"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File = args[0]
			return runImport(f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Delete, "delete", false, "remove the file once every value is stored")
	return cmd
}

// importName maps a dotenv key to a store name.
func importName(key string) string {
	b := []byte(key)
	for i, c := range b {
		if broker.ValidateName(string(c)) != nil {
			b[i] = '_'
		}
	}
	return strings.TrimLeft(string(b), ".-")
}

func runImport(f *Factory, opts importOptions) error {
	data, err := os.ReadFile(opts.File)
	if err != nil {
		return usageError{err}
	}
	entries, err := dotenv.Parse(data)
	if err != nil {
		return usagef("%s: %v; nothing stored", opts.File, err)
	}
	if len(entries) == 0 {
		return usagef("%s: no entries; nothing stored", opts.File)
	}
	names := make([]string, len(entries))
	from := map[string]string{}
	for i, e := range entries {
		names[i] = importName(e.Key)
		if err := broker.ValidateName(names[i]); err != nil {
			return usagef("%s line %d: %v; nothing stored", opts.File, e.Line, err)
		}
		if prev, dup := from[names[i]]; dup {
			return usagef("%s: %s and %s both map to %s; nothing stored", opts.File, prev, e.Key, names[i])
		}
		from[names[i]] = e.Key
		if err := broker.CheckValue(e.Value); err != nil {
			return usagef("%s line %d (%s): %v; nothing stored", opts.File, e.Line, e.Key, err)
		}
	}
	b, c, err := f.gate(nil, nil)
	if err != nil {
		return err
	}
	for i, e := range entries {
		created, err := b.Import(names[i], e.Value, c)
		if err != nil {
			return fmt.Errorf("storing %s: %w (entries before it were stored; %s was kept)", names[i], err, opts.File)
		}
		warnShort(f.IO, names[i], e.Value)
		reportStored(f.IO, names[i], created)
	}
	if opts.Delete {
		if err := os.Remove(opts.File); err != nil {
			return fmt.Errorf("every value is stored, but removing %s failed: %w", opts.File, err)
		}
		fmt.Fprintf(f.IO.Out, "removed: %s\n", opts.File)
	}
	return nil
}
