package credproxy

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzPrepare feeds raw requests to the parser and the substitution, toward
// a bound host (bodies opted in) and toward one that is not: it must never
// panic, a value must reach only its bound host and only where the request
// held its placeholder, and no refusal may quote a value.
func FuzzPrepare(f *testing.F) {
	bound := Binding{Var: "K", Key: "K", Host: "api.test", Port: 443, Placeholder: "llms-placeholder-K-00112233445566778899aabbccddeeff",
		Value: []byte("fz-canary-value-7d1e\"\\"), Body: true}
	other := Binding{Var: "O", Key: "O", Host: "other.test", Port: 443, Placeholder: "llms-placeholder-O-ffeeddccbbaa99887766554433221100",
		Value: []byte("fz-other-value-91c3")}
	p, err := Start(Config{Bindings: []Binding{bound, other}})
	if err != nil {
		f.Fatal(err)
	}
	defer p.Close()
	seeds := []string{
		"GET /?k=" + bound.Placeholder + " HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer " + bound.Placeholder + "\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\nContent-Length: 57\r\n\r\n{\"k\":\"" + bound.Placeholder + "\"}",
		"POST / HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nk=llm\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: api.test\r\nAuthorization: Basic bGxtcy1wbGFjZWhvbGRlci1LLTAwMTEyMjMzNDQ1NTY2Nzc4ODk5YWFiYmNjZGRlZWZmOg==\r\n\r\n",
		"GET /%6clms-placeholder-K-00112233445566778899aabbccddeeff HTTP/1.1\r\nHost: api.test\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: api.test\r\nX-Amz-Date: 1\r\nX-K: " + other.Placeholder + "\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, raw []byte, toBound bool) {
		if bytes.Contains(raw, bound.Value[:8]) || bytes.Contains(raw, other.Value[:8]) {
			return // the input itself holds a value
		}
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		tg := target{host: "other.test", port: 443, tls: true}
		if toBound {
			tg.host = "api.test"
		}
		out, ref := p.prepare(r, tg)
		if ref != nil {
			for _, v := range [][]byte{bound.Value, other.Value} {
				if strings.Contains(ref.reason, string(v[:8])) {
					t.Fatalf("a refusal quotes a value: %q", ref.reason)
				}
			}
			return
		}
		var sent bytes.Buffer
		sent.WriteString(out.URL.String() + "\n" + out.Host + "\n")
		out.Header.Write(&sent)
		if out.Body != nil {
			io.Copy(&sent, io.LimitReader(out.Body, 2<<20))
		}
		if bytes.Contains(sent.Bytes(), other.Value[:8]) {
			t.Fatalf("the value bound to other.test went to %s", tg)
		}
		if !toBound && bytes.Contains(sent.Bytes(), bound.Value[:8]) {
			t.Fatalf("the value bound to api.test went to %s", tg)
		}
		if toBound && bytes.Contains(sent.Bytes(), bound.Value[:8]) && !bytes.Contains(raw, []byte(bound.Placeholder)) {
			// Basic credentials carry it base64-encoded.
			if !bytes.Contains(bytes.ToLower(raw), []byte("basic")) {
				t.Fatalf("a value went out for a request without its placeholder")
			}
		}
	})
}
