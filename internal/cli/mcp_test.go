package cli

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

// Without llms-mcp beside llms, `llms mcp` says which program it looked
// for and where.
func TestMCPServerProgramMissing(t *testing.T) {
	dir := t.TempDir()
	fs := pflag.NewFlagSet("mcp", pflag.ContinueOnError)
	err := execMCPServer(func() (string, error) { return filepath.Join(dir, "llms"), nil }, fs, nil)
	if !errors.Is(err, unix.ENOENT) {
		t.Fatalf("err = %v, want ENOENT", err)
	}
	for _, want := range []string{MCPServerName, filepath.Join(dir, MCPServerName), "installed beside llms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
