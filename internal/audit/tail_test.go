package audit

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestReadTail(t *testing.T) {
	path := writeFile(t, goldenBytes(t))
	for n := 1; n <= len(goldenRecords)+2; n++ {
		got, err := ReadTail(path, n)
		if err != nil {
			t.Fatalf("ReadTail(%d): %v", n, err)
		}
		first := max(len(goldenRecords)-n, 0)
		if len(got) != len(goldenRecords)-first {
			t.Fatalf("ReadTail(%d) gave %d entries", n, len(got))
		}
		for i, e := range got {
			want := goldenRecords[first+i]
			if len(want.Secrets) == 0 {
				want.Secrets = nil
			}
			if !reflect.DeepEqual(e.Record, want) || e.Seq != uint64(first+i+1) {
				t.Fatalf("ReadTail(%d)[%d] = %+v", n, i, e)
			}
		}
	}
}

func TestReadTailErrors(t *testing.T) {
	golden := goldenBytes(t)
	g := splitLines(t, golden)
	cases := []struct {
		name string
		file []byte
		n    int
		want string
	}{
		{"n zero", golden, 0, "want at least 1"},
		{"n negative", golden, -3, "want at least 1"},
		{"torn tail", golden[:len(golden)-10], 1, "incomplete"},
		{"bad line", joinLines(g[0], g[1], g[2], g[3], append(bytes.Clone(g[4]), ' '), g[5]), 3, "line 2 from the end: not canonical"},
		{"gap", joinLines(g[0], g[1], g[2], g[4], g[5]), 3, "line 2 from the end: seq 5, want 4"},
		{"first line not seq 1", joinLines(g[1], g[2], g[3], g[4], g[5]), 10, "line 5 from the end: seq 2, want 1"},
		{"line too long", append(append(bytes.Repeat([]byte{'a'}, maxLineBytes+1), '\n'), golden...), 100, "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadTail(writeFile(t, c.file), c.n)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ReadTail = %d entries, %v; want an error containing %q", len(got), err, c.want)
			}
		})
	}
}

func TestReadTailLooksOnlyAsFarAsItNeeds(t *testing.T) {
	g := splitLines(t, goldenBytes(t))
	damagedHead := joinLines(append(bytes.Clone(g[0]), ' '), g[1], g[2])
	got, err := ReadTail(writeFile(t, damagedHead), 2)
	if err != nil || len(got) != 2 || got[0].Seq != 2 {
		t.Fatalf("ReadTail(2) = %v, %v; want lines 2 and 3 despite damage at line 1", got, err)
	}
}

func TestReadTailEmptyFile(t *testing.T) {
	got, err := ReadTail(writeFile(t, nil), 5)
	if err != nil || len(got) != 0 {
		t.Fatalf("ReadTail of an empty log = %v, %v", got, err)
	}
}

type countingReaderAt struct {
	r    io.ReaderAt
	read int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.read += int64(n)
	return n, err
}

func TestReadTailReadsOnlyTheEnd(t *testing.T) {
	const lines = 20000
	log := buildLog(t, lines, sampleRecord)
	r := &countingReaderAt{r: bytes.NewReader(log)}
	got, err := readTail(r, int64(len(log)), "mem", 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 20 || got[0].Seq != lines-19 || got[19].Seq != lines {
		t.Fatalf("got %d entries, seq %d..%d", len(got), got[0].Seq, got[len(got)-1].Seq)
	}
	// 20 lines are under 10 KiB; the log is over 8 MiB.
	if r.read > 64<<10 {
		t.Fatalf("read %d bytes of a %d-byte log for 20 lines", r.read, len(log))
	}
}

// TestReadTailGrowsChunks uses lines longer than the first chunks, so the
// backwards reader must grow and join several reads.
func TestReadTailGrowsChunks(t *testing.T) {
	log := buildLog(t, 12, func(i int) Record {
		r := sampleRecord(i)
		r.Reason = strings.Repeat(string(rune('a'+i)), 30000+i*7000)
		return r
	})
	var all []Entry
	if _, err := readChain(bytes.NewReader(log), int64(len(log)), "mem", nil, func(e Entry) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 13; n++ {
		got, err := readTail(bytes.NewReader(log), int64(len(log)), "mem", n)
		if err != nil {
			t.Fatal(err)
		}
		if want := all[max(len(all)-n, 0):]; !reflect.DeepEqual(got, want) {
			t.Fatalf("readTail(%d) differs from the last %d entries of a forward read", n, len(want))
		}
	}
}
