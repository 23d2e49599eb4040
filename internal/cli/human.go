package cli

import (
	"io"

	"github.com/llm-secrets/llms/internal/human"
)

// fprintf is cli's short name for human.Fprintf: every command writes its
// human-facing text with it, every argument escaped.
func fprintf(w io.Writer, format string, args ...any) { human.Fprintf(w, format, args...) }
