package gitrun

import (
	"bytes"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// interpFromDebugELF is what the standard library's ELF reader says.
func interpFromDebugELF(r io.ReaderAt) (string, bool) {
	f, err := elf.NewFile(r)
	if err != nil {
		return "", false
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(io.LimitReader(p.Open(), maxInterp))
			if err != nil {
				return "", false
			}
			return string(bytes.TrimRight(b, "\x00")), true
		}
	}
	return "", true
}

// On the system's programs, dynamic and static, readInterp says what
// debug/elf says.
func TestReadInterpAgreesWithDebugELF(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{self}
	for _, name := range []string{"sh", "git", "true", "age", "ls"} {
		if p, err := exec.LookPath(name); err == nil {
			paths = append(paths, p)
		}
	}
	dynamic := false
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want, ok := interpFromDebugELF(bytes.NewReader(data))
		if !ok {
			t.Fatalf("%s: debug/elf cannot read it", p)
		}
		got, err := readInterp(bytes.NewReader(data))
		if err != nil || got != want {
			t.Errorf("%s: readInterp = %q, %v; debug/elf says %q", p, got, err, want)
		}
		dynamic = dynamic || want != ""
	}
	if !dynamic {
		t.Fatalf("no dynamically linked program among %v: nothing compared", paths)
	}
}

func TestInterpreterRefusesWhatIsNotELF(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "git")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := interpreter(script); err == nil {
		t.Error("a shell script was taken for an ELF program")
	}
}

// FuzzReadInterp: no input panics, and where debug/elf reads an
// interpreter, readInterp reads the same one.
func FuzzReadInterp(f *testing.F) {
	if data, err := os.ReadFile("/bin/sh"); err == nil && len(data) > 4096 {
		f.Add(data[:4096])
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add([]byte("#!/bin/sh\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := readInterp(bytes.NewReader(data))
		want, ok := interpFromDebugELF(bytes.NewReader(data))
		if err == nil && ok && want != "" && got != want {
			t.Errorf("readInterp = %q; debug/elf says %q", got, want)
		}
	})
}
