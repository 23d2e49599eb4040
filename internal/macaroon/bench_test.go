package macaroon

import "testing"

// benchToken is shaped like a token llms delegates to an agent: a 36-byte
// identifier (key id + 16 random bytes, hex) and six caveats.
func benchToken(b *testing.B) *Macaroon {
	m, err := New(testRootKey, []byte("k1.0123456789abcdef0123456789abcdef"), "llms")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []string{
		"secret=OPENAI_API_KEY,GITHUB_TOKEN",
		"expires_at=2030-01-01T00:00:00Z",
		"repo=github.com/llm-secrets/llms",
		"branch=main",
		"agent=claude",
		"op=exec",
	} {
		if m, err = m.AddFirstPartyCaveat([]byte(c)); err != nil {
			b.Fatal(err)
		}
	}
	return m
}

func reportOpsPerSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkVerify6Caveats(b *testing.B) {
	m := benchToken(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Verify(testRootKey, acceptAll); err != nil {
			b.Fatal(err)
		}
	}
	reportOpsPerSecond(b)
}

func BenchmarkMint(b *testing.B) {
	id := []byte("k1.0123456789abcdef0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(testRootKey, id, "llms"); err != nil {
			b.Fatal(err)
		}
	}
	reportOpsPerSecond(b)
}

func BenchmarkAttenuate(b *testing.B) {
	m := benchToken(b)
	caveat := []byte("cmd=go,make")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.AddFirstPartyCaveat(caveat); err != nil {
			b.Fatal(err)
		}
	}
	reportOpsPerSecond(b)
}

func BenchmarkParse(b *testing.B) {
	text := benchToken(b).Text()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(text); err != nil {
			b.Fatal(err)
		}
	}
	reportOpsPerSecond(b)
}

func BenchmarkString(b *testing.B) {
	m := benchToken(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Text()
	}
	reportOpsPerSecond(b)
}
