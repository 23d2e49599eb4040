package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
)

// FuzzParseLine checks that parseLine accepts only canonical lines: whatever
// it accepts re-encodes to the identical bytes, and bodyLen marks exactly the
// MAC input.
func FuzzParseLine(f *testing.F) {
	for _, line := range splitLines(f, goldenBytes(f)) {
		f.Add(line)
		f.Add(bytes.Replace(line, []byte(`":"`), []byte(`": "`), 1))
		f.Add(bytes.Replace(line, []byte(`\u`), []byte(`\U`), 1))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		pl, err := parseLine(line)
		if err != nil {
			return
		}
		body := appendBody(nil, &pl.Entry)
		again := append(body, `,"mac":"`+pl.MAC+`"}`...)
		if !bytes.Equal(again, line) {
			t.Fatalf("accepted %q, which re-encodes as %q", line, again)
		}
		if pl.bodyLen != len(body) {
			t.Fatalf("bodyLen %d, body is %d bytes", pl.bodyLen, len(body))
		}
	})
}

// FuzzReadLog runs the forward reader (with and without the key), the
// backwards reader and Append's tail check over the same bytes, and checks
// they agree: a log that reads forwards reads the same backwards, Verify
// never accepts more than Scan, and a log that verifies can be appended to.
func FuzzReadLog(f *testing.F) {
	golden := goldenBytes(f)
	g := splitLines(f, golden)
	f.Add(golden)
	f.Add(joinLines(g[0], g[2]))
	f.Add(golden[:len(golden)-5])
	f.Add(joinLines(g[0], g[1], bytes.Replace(g[2], []byte(`"deny"`), []byte(`"allow"`), 1)))
	f.Add([]byte{})
	f.Add([]byte("\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var scanned []Entry
		scanN, scanErr := readChain(bytes.NewReader(data), int64(len(data)), "fuzz", nil, func(e Entry) error {
			scanned = append(scanned, e)
			return nil
		})
		h := hmac.New(sha256.New, testKey)
		verifyN, verifyErr := readChain(bytes.NewReader(data), int64(len(data)), "fuzz", h, nil)
		if verifyN > scanN || scanErr != nil && verifyErr == nil {
			t.Fatalf("Verify read %d lines (%v), Scan %d (%v)", verifyN, verifyErr, scanN, scanErr)
		}
		for _, err := range []error{scanErr, verifyErr} {
			var bad *BadLineError
			if err != nil && !errors.As(err, &bad) {
				t.Fatalf("error from a byte slice is not a *BadLineError: %v", err)
			}
		}
		size := int64(len(data))
		if scanErr != nil {
			if len(data) > 0 && data[len(data)-1] != '\n' {
				if _, err := readTail(bytes.NewReader(data), size, "fuzz", 1); err == nil {
					t.Fatal("readTail accepted a torn tail")
				}
			}
			return
		}
		for _, n := range []int{1, 2, 3, scanN, scanN + 1} {
			if n < 1 {
				continue
			}
			got, err := readTail(bytes.NewReader(data), size, "fuzz", n)
			if err != nil {
				t.Fatalf("forward read is fine but readTail(%d): %v", n, err)
			}
			if want := scanned[max(scanN-n, 0):]; !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
				t.Fatalf("readTail(%d) differs from the forward read", n)
			}
		}
		if verifyErr == nil {
			seq, mac, err := tailState(bytes.NewReader(data), size, h)
			if err != nil || seq != uint64(scanN) || (scanN > 0 && scanned[scanN-1].MAC != hex.EncodeToString(mac[:])) {
				t.Fatalf("log verifies but Append's tail check gives %d, %v", seq, err)
			}
		}
	})
}
