package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The forms are checked against the programs that produce them. Each runs
// on prefix + value + suffix, and its output is masked, whole and in
// several chunkings. What stays visible must not depend on the value: the
// same program run on another value of the same length, masked for that
// value, must give the same output byte for byte. A single byte of either
// value left visible, in any column, would make them differ. The prefix and
// suffix are 3 bytes and the values 60 (multiples of 3), so that no base64
// character mixes bits of the value with its neighbours'.

// toolValues returns two values of 60 bytes that need escaping in every
// form: URL-reserved and JSON-escaped characters, a space, non-ASCII.
func toolValues() [2][]byte {
	rng := rand.New(rand.NewPCG(7, 8))
	var vs [2][]byte
	for i := range vs {
		v := []byte(`p@ss w0rd/+é"\<&>~*'()!`)
		for len(v) < 60 {
			v = append(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[rng.IntN(62)])
		}
		vs[i] = v
	}
	return vs
}

// tool runs a program with data on its stdin and returns its output. A
// missing program skips the test, except under CI, where .ci/run installs
// every one of them.
func tool(t *testing.T, data []byte, name string, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run must install it", name)
		}
		t.Skipf("%s is not installed", name)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, stderr.Bytes())
	}
	return out
}

// maskChunked masks out in the given chunk size (0: in one Write).
func maskChunked(t *testing.T, r *Redactor, out []byte, chunk int) string {
	t.Helper()
	var dst bytes.Buffer
	w := r.NewWriter(&dst)
	for p := out; len(p) > 0; {
		n := len(p)
		if chunk > 0 {
			n = min(chunk, n)
		}
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dst.String()
}

func TestRealTools(t *testing.T) {
	py := func(expr string) []string {
		return []string{"-c", "import sys, json, urllib.parse as u\nv = sys.stdin.buffer.read()\nsys.stdout.write(" + expr + ")"}
	}
	node := func(expr string) []string {
		return []string{"-e", "const v = require('fs').readFileSync(0, 'utf8'); process.stdout.write(" + expr + ")"}
	}
	for _, tc := range []struct {
		name string
		form Form
		args []string
	}{
		{"xxd", FormDump, []string{"xxd"}},
		{"xxd -u", FormDump, []string{"xxd", "-u"}},
		{"xxd -g1 -c10", FormDump, []string{"xxd", "-g1", "-c10"}},
		{"xxd -g4 -c12", FormDump, []string{"xxd", "-g4", "-c12"}},
		{"xxd -g0", FormDump, []string{"xxd", "-g0"}},
		{"xxd -c1", FormDump, []string{"xxd", "-c1"}},
		{"xxd -p", FormHex, []string{"xxd", "-p"}},
		{"xxd -p -c7", FormHex, []string{"xxd", "-p", "-c7"}},
		{"xxd -u -p", FormHex, []string{"xxd", "-u", "-p"}},
		{"xxd -i", FormDump, []string{"xxd", "-i"}},
		{"hexdump -C", FormDump, []string{"hexdump", "-C"}},
		{"od -An -tx1", FormDump, []string{"od", "-An", "-tx1"}},
		{"od -An -tx1 -w7", FormDump, []string{"od", "-An", "-tx1", "-w7"}},
		{"od -tx1", FormDump, []string{"od", "-tx1"}},
		{"od -Ax -tx1z", FormDump, []string{"od", "-Ax", "-tx1z"}},
		{"od -Ad -tx1 -v", FormDump, []string{"od", "-Ad", "-tx1", "-v"}},
		{"base64", FormBase64, []string{"base64"}},
		{"base64 -w20", FormBase64, []string{"base64", "-w20"}},
		{"base64 -w0", FormBase64, []string{"base64", "-w0"}},
		{"base64 -w7", FormBase64, []string{"base64", "-w7"}},
		{"openssl base64", FormBase64, []string{"openssl", "base64"}},
		{"base64 -w20, CRLF", FormBase64, []string{"sh", "-c", `base64 -w20 | sed 's/$/\r/'`}},
		{"fold -w7", FormRaw, []string{"fold", "-w7"}},
		{"python quote", FormURL, append([]string{"python3"}, py("u.quote(v)")...)},
		{"python quote safe=''", FormURL, append([]string{"python3"}, py("u.quote(v, safe='')")...)},
		{"python quote_plus", FormURL, append([]string{"python3"}, py("u.quote_plus(v)")...)},
		{"python urlencode", FormURL, append([]string{"python3"}, py("u.urlencode({'k': v})")...)},
		{"python json.dumps", FormJSON, append([]string{"python3"}, py("json.dumps(v.decode())")...)},
		{"python json.dumps ensure_ascii=False", FormJSON, append([]string{"python3"}, py("json.dumps(v.decode(), ensure_ascii=False)")...)},
		{"python bytes.hex(' ')", FormHexSpaced, append([]string{"python3"}, py("v.hex(' ')")...)},
		{"node encodeURIComponent", FormURL, append([]string{"node"}, node("encodeURIComponent(v)")...)},
		{"node URLSearchParams", FormURL, append([]string{"node"}, node("new URLSearchParams({k: v}).toString()")...)},
		{"node JSON.stringify", FormJSON, append([]string{"node"}, node("JSON.stringify({content: v})")...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			values := toolValues()
			var masked [2]string
			for i, v := range values {
				data := []byte("<<<" + string(v) + ">>>")
				out := tool(t, data, tc.args[0], tc.args[1:]...)
				r := New([]Secret{{Name: "S", Value: v}})
				masked[i] = maskChunked(t, r, out, 0)
				for _, chunk := range []int{1, 7, 100} {
					if got := maskChunked(t, r, out, chunk); got != masked[i] {
						t.Fatalf("writes of %d bytes mask differently from one write (first difference at byte %d)",
							chunk, firstDifference([]byte(got), []byte(masked[i])))
					}
				}
				if !strings.Contains(masked[i], "[REDACTED:S]") {
					t.Fatalf("nothing masked in %d bytes of output", len(out))
				}
				if !hasForm(r.Find(out), tc.form) {
					t.Errorf("Find does not report the form %v", tc.form)
				}
			}
			if masked[0] != masked[1] {
				t.Fatalf("the visible output depends on the value: it differs at byte %d", firstDifference([]byte(masked[0]), []byte(masked[1])))
			}
		})
	}
}

func hasForm(matches []Match, f Form) bool {
	for _, m := range matches {
		if m.Form == f {
			return true
		}
	}
	return false
}

// TestGoJSON checks the JSON forms against Go's encoder, with and without
// HTML escaping, for a value inside a transcript line.
func TestGoJSON(t *testing.T) {
	values := toolValues()
	for _, html := range []bool{true, false} {
		var masked [2]string
		for i, v := range values {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(html)
			if err := enc.Encode(map[string]string{"type": "tool_result", "content": "out: " + string(v) + "\n"}); err != nil {
				t.Fatal(err)
			}
			masked[i] = maskChunked(t, New([]Secret{{Name: "S", Value: v}}), b.Bytes(), 0)
		}
		if masked[0] != masked[1] || !strings.Contains(masked[0], "[REDACTED:S]") {
			t.Fatalf("html=%v: value visible or not masked", html)
		}
	}
}

// Example output for the documentation's table, and a guard against a
// change of the forms going unnoticed.
func ExampleRedactor_Find() {
	r := New([]Secret{{Name: "DB_PASSWORD", Value: []byte("p@ss w0rd")}})
	out := "hex 704073732077307264 json \"p@ss w0rd\" url p%40ss%20w0rd\n" +
		"00000000: 7040 7373 2077 3072 640a                 p@ss w0rd.\n"
	for _, m := range r.Find([]byte(out)) {
		fmt.Println(m.Secret, m.Form, m.Start, m.End)
	}
	// Output:
	// DB_PASSWORD hex 4 22
	// DB_PASSWORD raw 29 38
	// DB_PASSWORD url 44 57
	// DB_PASSWORD hexdump 68 119
	// DB_PASSWORD raw 109 118
}
