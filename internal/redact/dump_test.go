package redact

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestDumpLine(t *testing.T) {
	for _, tc := range []struct {
		line     string
		complete bool
		want     lineKind
		pairs    int
	}{
		{"00000010: 7040 7373 2077 3f3e  p@ss w?>", true, isDump, 8},
		{"00000010: 7040 7373 2077 3F3E  ABCDEF01", true, isDump, 8}, // ASCII column of hex digits
		{"0000000a: 64 2D 30 31 32 33 34 35 36 37  d-01234567", true, isDump, 10},
		{"00000000: 7040737320773f3e  p@ss w?>", true, isDump, 8},
		{"00000020: 4b4c 4d4e 4f50 2f2b 3d3d 225c            KLMNOP/+==\"\\", true, isDump, 12},
		{"00000000  70 40 73 73 20 77 3f 3e  3e 72 64 2d 30 31 32 33  |p@ss w?>>rd-0123|", true, isDump, 16},
		{"0000000 70 40 73 73 20 77 3f 3e 3e 72 64 2d 30 31 32 33", true, isDump, 16},
		{"000010 34 35 36 37  >4567<", true, isDump, 4},
		{" 70 40 73 73 20 77", true, isDump, 6},
		{" 70 40 73 73 20 77\r", true, isDump, 6},
		{"  0x70, 0x40, 0x73,", true, isDump, 3},
		{"  0x70, 0x40", true, isDump, 2},
		// Not dump lines.
		{"0000002c", true, notDump, 0}, // hexdump's last line: an offset alone
		{"*", true, notDump, 0},        // hexdump's squeezed lines
		{"2025-11-30T07:00:00Z INFO ok", true, notDump, 0},
		{"deadbeef: not hex", true, notDump, 0},     // offset, then no group
		{"00000000: 7040 7373  x", true, isDump, 4}, // but this is one
		{"0000000 4070 7373", true, notDump, 0},     // plain hexdump: 16-bit words
		{" 12 items", true, notDump, 0},
		{"  ok", true, notDump, 0},
		{"   0x70", true, notDump, 0},
		{"", true, notDump, 0},
		// Incomplete lines: undecided while a dump line is still possible.
		{"0000", false, maybeDump, 0},
		{"00000010: 70", false, maybeDump, 0},
		{"00000010: 7040 7373  p@", false, maybeDump, 0},
		{" 7", false, maybeDump, 0},
		{"  0x", false, maybeDump, 0},
		{"Password: ", false, notDump, 0},
		{"2025-", false, notDump, 0},
		{" 70 4x", false, notDump, 0},
	} {
		got, pairs := dumpLine([]byte(tc.line), tc.complete, nil)
		if got != tc.want || (got == isDump && len(pairs) != tc.pairs) {
			t.Errorf("dumpLine(%q, %v) = %v with %d pairs, want %v with %d", tc.line, tc.complete, got, len(pairs), tc.want, tc.pairs)
		}
		if got != notDump && !mayBeDump([]byte(tc.line)) {
			t.Errorf("mayBeDump(%q) rules out a line dumpLine does not", tc.line)
		}
	}
	long := bytes.Repeat([]byte(" 70"), maxDumpLine/3+1)
	if got, _ := dumpLine(long, false, nil); got != notDump {
		t.Errorf("a line over %d bytes is %v", maxDumpLine, got)
	}
}

// TestDumpHoldBack: the engine leaves an xxd line undecided until its end
// only while a value may be on it; other lines, and prompts, are decided
// at once (what a Writer then writes depends on position alone).
func TestDumpHoldBack(t *testing.T) {
	r := New([]Secret{{Name: "S", Value: []byte("p@ss w?>>rd-0123456789")}})
	var dst bytes.Buffer
	w := r.NewWriter(&dst)
	for i, step := range []struct{ write, shown string }{
		{"Password: ", "Password: "},
		{"\n00000000: 7040 7373", "Password: \n"}, // may be a dump line
		{" 2077", "Password: \n"},
		{" 3f3e 3e72 642d 3031 3233  p@ss w?>>rd-0123\n", "Password: \n"}, // the value may go on
		{"00000010: 3435 3637 3839 0a  456789.\n", "Password: \n00000000: [REDACTED:S]\n"},
		{"00000020: 4142  AB", "Password: \n00000000: [REDACTED:S]\n"}, // an unfinished dump line
		{"\n$ ", "Password: \n00000000: [REDACTED:S]\n00000020: 4142  AB\n$ "},
	} {
		if _, err := w.Write([]byte(step.write)); err != nil {
			t.Fatal(err)
		}
		if got := string(decided(w, &dst)); got != step.shown {
			t.Fatalf("step %d: decided %q, want %q", i, got, step.shown)
		}
	}
}

// TestUnfinishedLastDumpLine: output that ends in a line that is, or may
// be, a hex dump line without its line break is written at Close, masked
// where it spells a value.
func TestUnfinishedLastDumpLine(t *testing.T) {
	r := New([]Secret{{Name: "S", Value: []byte("secret")}})
	for input, want := range map[string]string{
		"hello\n00000000: 7365 6372 6574": "hello\n00000000: [REDACTED:S]",
		"hello\n00000000: 6162":           "hello\n00000000: 6162",
		"00000000: 6162\n 73 65 63 72":    "00000000: 6162\n 73 65 63 72",
		" 73 65 63 72 65 74":              " [REDACTED:S]",
	} {
		checkMasks(t, r, input, want)
	}
}

// A hex dump whose pairs spell line breaks after the start of a value
// (xxd of a value's beginning, then of empty lines) is decided once the run
// of breaks is longer than the text view would leave out: held back
// without end, it grew the engine's tail by every line and had it scanned
// again on every Write. Breaks within the limit still join the value.
func TestDumpLineBreaksDoNotHoldForever(t *testing.T) {
	v := []byte("abcdefghijklmnopqrstuvwxyz0123")
	r := New([]Secret{{"S", v}})
	xxd := func(off int, b []byte) string {
		s := fmt.Sprintf("%08x:", off)
		for i := 0; i < len(b); i += 2 {
			s += fmt.Sprintf(" %02x%02x", b[i], b[i+1])
		}
		return s + "  " + strings.Repeat(".", len(b)) + "\n"
	}
	breaks := bytes.Repeat([]byte{'\n'}, 16)
	var dst bytes.Buffer
	w := r.NewWriter(&dst)
	if _, err := io.WriteString(w, xxd(0, v[:16])); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 200; i++ {
		if _, err := io.WriteString(w, xxd(16*i, breaks)); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.held) > 2*len(xxd(0, breaks)) {
		t.Fatalf("after 200 dump lines of line breaks the engine holds %d bytes undecided", len(w.held))
	}
	// Two break pairs, within the limit, inside the value: still masked.
	split := slices.Concat(v[:10], []byte("\n\n"), v[10:])
	var dump strings.Builder
	for off := 0; off < len(split); off += 16 {
		dump.WriteString(xxd(off, split[off:min(off+16, len(split))]))
	}
	if got := maskAll(t, r, dump.String(), nil); strings.Contains(got, "6a") || !strings.Contains(got, "[REDACTED:S]") {
		t.Fatalf("a dump of the value with two line breaks inside is not masked: %q", got)
	}
}
