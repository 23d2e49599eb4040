package gitrun

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// interpreter is the ELF interpreter (PT_INTERP) of the program at path,
// or "" for a static one. It reads the ELF and program headers itself:
// debug/elf would link DWARF and three decompressors into llms, whose
// package initialisers every command pays at start-up (docs/adr/0036).
func interpreter(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	s, err := readInterp(f)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if s != "" && !filepath.IsAbs(s) {
		return "", fmt.Errorf("%s: interpreter %q is not absolute", path, s)
	}
	return s, nil
}

const (
	ptInterp = 3 // p_type of the interpreter's program header
	// maxPhdrs and maxPhdrSize bound what a header makes us read: real
	// programs have a dozen headers of 32 or 56 bytes.
	maxPhdrs    = 1 << 12
	maxPhdrSize = 256
	maxInterp   = 4096
)

var errNotELF = errors.New("not an ELF program")

// readInterp is the contents of the PT_INTERP segment of the ELF file r,
// NULs trimmed, or "" when it has none. 32- and 64-bit, either byte order.
func readInterp(r io.ReaderAt) (string, error) {
	var h [64]byte
	if _, err := r.ReadAt(h[:52], 0); err != nil {
		return "", errNotELF
	}
	if !bytes.Equal(h[:4], []byte("\x7fELF")) {
		return "", errNotELF
	}
	var bo binary.ByteOrder
	switch h[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return "", fmt.Errorf("%w: unknown byte order %d", errNotELF, h[5])
	}
	var phoff uint64
	var entSize, num int
	// The fields of one program header: type, then offset and file size.
	var offAt, sizeAt, wordSize int
	switch h[4] {
	case 1: // ELFCLASS32
		phoff = uint64(bo.Uint32(h[28:32]))
		entSize, num = int(bo.Uint16(h[42:44])), int(bo.Uint16(h[44:46]))
		offAt, sizeAt, wordSize = 4, 16, 4
	case 2: // ELFCLASS64
		if _, err := r.ReadAt(h[52:64], 52); err != nil {
			return "", errNotELF
		}
		phoff = bo.Uint64(h[32:40])
		entSize, num = int(bo.Uint16(h[54:56])), int(bo.Uint16(h[56:58]))
		offAt, sizeAt, wordSize = 8, 32, 8
	default:
		return "", fmt.Errorf("%w: unknown class %d", errNotELF, h[4])
	}
	if num == 0 {
		return "", nil
	}
	if num >= maxPhdrs || entSize < sizeAt+wordSize || entSize > maxPhdrSize {
		return "", fmt.Errorf("%w: %d program headers of %d bytes", errNotELF, num, entSize)
	}
	phdrs := make([]byte, num*entSize)
	if int64(phoff) < 0 {
		return "", fmt.Errorf("%w: program headers past its end", errNotELF)
	}
	if _, err := r.ReadAt(phdrs, int64(phoff)); err != nil {
		return "", fmt.Errorf("%w: program headers past its end", errNotELF)
	}
	word := func(b []byte) uint64 {
		if wordSize == 4 {
			return uint64(bo.Uint32(b))
		}
		return bo.Uint64(b)
	}
	for i := range num {
		p := phdrs[i*entSize : (i+1)*entSize]
		if bo.Uint32(p[:4]) != ptInterp {
			continue
		}
		off, size := word(p[offAt:]), word(p[sizeAt:])
		b := make([]byte, min(size, maxInterp))
		if int64(off) < 0 {
			return "", fmt.Errorf("%w: its interpreter lies past its end", errNotELF)
		}
		if _, err := r.ReadAt(b, int64(off)); err != nil {
			return "", fmt.Errorf("%w: its interpreter lies past its end", errNotELF)
		}
		return string(bytes.TrimRight(b, "\x00")), nil
	}
	return "", nil
}
