package credproxy

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The proxy's cost, side by side with the same local HTTPS server reached
// directly (bench/proxy.sh prints the ratios): a keep-alive loop of small
// requests, whose p50 is reported as p50-ns, and 1 MiB answers. Through the
// proxy the host is a bound one, so every request is intercepted,
// substituted and its answer redacted: the path a value takes.
func benchRig(b *testing.B, size int) (direct, proxied *http.Client, directURL, tunnelURL string, auth []string) {
	ca := newTestCA(b)
	// JSON lines, as an API answers: text, not a hex dump.
	line := `{"id":"msg_0142","role":"assistant","content":[{"type":"text","text":"The build passed; 3 files changed."}]}` + "\n"
	payload := strings.Repeat(line, size/len(line)+1)[:size]
	answer := func(w http.ResponseWriter, r *http.Request, s seen) { io.WriteString(w, payload) }
	api := newUpstream(b, "127.0.0.1", true, ca, answer)
	// The same server again on 127.0.0.2, where no value is bound: the
	// proxy tunnels to it without looking in.
	other := newUpstream(b, "127.0.0.2", true, ca, answer)
	c := newCanary()
	bd := binding("K", api, c)
	r := newRig(b, ca, Config{Bindings: []Binding{bd}})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	direct = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableCompression: true}}
	proxied = r.client
	return direct, proxied, "https://" + api.target() + "/", "https://" + other.target() + "/",
		[]string{"Bearer " + c.value, "Bearer " + bd.Placeholder}
}

func fetch(b *testing.B, c *http.Client, u, auth string) int {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", auth)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	return int(n)
}

// sideBySide times, in each iteration, one fetch direct, one through the
// proxy to the bound host and one through a tunnel of the proxy, so that
// all see the same load, and reports the median of each (direct-ns,
// proxy-ns, tunnel-ns), the added median (added-ns) and direct/proxy
// (ratio).
func sideBySide(b *testing.B, size int) {
	direct, proxied, du, tu, auth := benchRig(b, size)
	if n := fetch(b, direct, du, auth[0]); n != size {
		b.Fatalf("%d bytes", n)
	}
	if n := fetch(b, proxied, du, auth[1]); n != size {
		b.Fatalf("%d bytes", n)
	}
	fetch(b, proxied, tu, "") // every connection is warm before timing
	var d, p, tn []time.Duration
	b.SetBytes(int64(3 * size))
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		fetch(b, direct, du, auth[0])
		t1 := time.Now()
		fetch(b, proxied, du, auth[1])
		t2 := time.Now()
		fetch(b, proxied, tu, "")
		d, p, tn = append(d, t1.Sub(t0)), append(p, t2.Sub(t1)), append(tn, time.Since(t2))
	}
	b.StopTimer()
	median := func(ts []time.Duration) time.Duration { slices.Sort(ts); return ts[len(ts)/2] }
	dm, pm, tm := median(d), median(p), median(tn)
	b.ReportMetric(float64(dm.Nanoseconds()), "direct-ns")
	b.ReportMetric(float64(pm.Nanoseconds()), "proxy-ns")
	b.ReportMetric(float64(tm.Nanoseconds()), "tunnel-ns")
	b.ReportMetric(float64((pm - dm).Nanoseconds()), "added-ns")
	b.ReportMetric(float64(dm)/float64(pm), "ratio")
}

// BenchmarkRoundTrip is a keep-alive loop of small requests (64-byte
// answers): the added p50 is the proxy's latency.
func BenchmarkRoundTrip(b *testing.B) { sideBySide(b, 64) }

// BenchmarkBody1MiB fetches 1 MiB answers: ratio is the proxy's
// throughput relative to direct.
func BenchmarkBody1MiB(b *testing.B) { sideBySide(b, 1<<20) }
