package macaroon

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"testing"
)

// benchID and benchCaveats shape a token like those llms delegates to an
// agent: a 36-byte identifier (key id + 16 random bytes, hex) and six
// caveats.
var (
	benchID      = []byte("k1.0123456789abcdef0123456789abcdef")
	benchCaveats = [][]byte{
		[]byte("secret=OPENAI_API_KEY,GITHUB_TOKEN"),
		[]byte("expires_at=2030-01-01T00:00:00Z"),
		[]byte("repo=github.com/llm-secrets/llms"),
		[]byte("branch=main"),
		[]byte("agent=claude"),
		[]byte("op=exec"),
	}
)

// mintBenchToken mints the token benchID and benchCaveats describe.
// mintBenchToken mints as the broker does: New, then every caveat at once.
func mintBenchToken() (*Macaroon, error) {
	m, err := New(testRootKey, benchID, "llms")
	if err != nil {
		return nil, err
	}
	return m.AddFirstPartyCaveats(benchCaveats...)
}

func benchToken(b *testing.B) *Macaroon {
	m, err := mintBenchToken()
	if err != nil {
		b.Fatal(err)
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
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(testRootKey, benchID, "llms"); err != nil {
			b.Fatal(err)
		}
	}
	reportOpsPerSecond(b)
}

// BenchmarkMint6Caveats mints a whole delegated token: New, then its six
// caveats.
func BenchmarkMint6Caveats(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mintBenchToken(); err != nil {
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

// verifyCryptoHMAC is what Verify does for a token of first-party caveats,
// written with crypto/hmac instead of the package's hmacer: derive the
// chain key from the root key, chain the id and every caveat, compare, then
// check each caveat. It exists so that BenchmarkVerify6CaveatsCryptoHMAC
// prices the hmacer against the standard library on the same work.
func verifyCryptoHMAC(m *Macaroon, rootKey []byte, check func([]byte) error) error {
	mac := func(key, data []byte) []byte {
		h := hmac.New(sha256.New, key)
		h.Write(data)
		return h.Sum(nil)
	}
	sig := mac(mac(keyGenerator[:], rootKey), m.id)
	for _, c := range m.caveats {
		sig = mac(sig, c)
	}
	if !hmac.Equal(sig, m.sig[:]) {
		return errors.New("signature mismatch")
	}
	for _, c := range m.caveats {
		if err := check(c); err != nil {
			return err
		}
	}
	return nil
}

func BenchmarkVerify6CaveatsCryptoHMAC(b *testing.B) {
	m := benchToken(b)
	if err := verifyCryptoHMAC(m, []byte("not the root key"), acceptAll); err == nil {
		b.Fatal("crypto/hmac verify accepted a wrong root key")
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := verifyCryptoHMAC(m, testRootKey, acceptAll); err != nil {
			b.Fatal(err)
		}
	}
	reportOpsPerSecond(b)
}
