package runner

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llm-secrets/llms/internal/redact"
)

// fakeClock runs timers when the test moves it forward, in the test's
// goroutine.
type fakeClock struct {
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// advance moves the clock to `to`, running each timer due on the way at
// its time.
func (c *fakeClock) advance(to time.Time) {
	for {
		i := -1
		for k, t := range c.timers {
			if !t.stopped && !t.at.After(to) && (i < 0 || t.at.Before(c.timers[i].at)) {
				i = k
			}
		}
		if i < 0 {
			break
		}
		t := c.timers[i]
		c.timers = slices.Delete(c.timers, i, i+1)
		c.now = t.at
		t.f()
	}
	c.now = to
}

// A scheduled write is what the reader sees: when, and how many bytes.
type scheduled struct {
	at time.Duration
	n  int
}

// recorder is the reader's end: it keeps every write with its time.
type recorder struct {
	clock  *fakeClock
	start  time.Time
	out    bytes.Buffer
	writes []scheduled
}

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, scheduled{r.clock.now.Sub(r.start), len(p)})
	return r.out.Write(p)
}

// A chunk is output the child writes at a time after the start.
type chunk struct {
	at   time.Duration
	text string
}

// replay feeds chunks through a redacting writer and an idle release on a
// fake clock, with the child's state given by child at each moment, and
// returns what the reader saw.
func replay(t *testing.T, r *redact.Redactor, chunks []chunk, child func(time.Duration) verdict) *recorder {
	t.Helper()
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	rec := &recorder{clock: clock, start: clock.now}
	w := r.NewWriter(rec)
	c := &outputCopier{idle: idle{clock: clock, child: func() verdict { return child(clock.now.Sub(rec.start)) }}}
	c.idle.writers = []Releaser{w}
	for _, ch := range chunks {
		clock.advance(rec.start.Add(ch.at))
		if err := c.deliver(w, []byte(ch.text)); err != nil {
			t.Fatal(err)
		}
	}
	clock.advance(clock.now.Add(10 * time.Second))
	c.mu.Lock()
	c.endIdle()
	c.mu.Unlock()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return rec
}

func always(v verdict) func(time.Duration) verdict { return func(time.Duration) verdict { return v } }

// typed is a terminal's echo of text typed a character every 20 ms from
// at on: faster than idleAfter.
func typed(at time.Duration, text string) []chunk {
	var cs []chunk
	for i := range len(text) {
		cs = append(cs, chunk{at + time.Duration(i)*20*time.Millisecond, text[i : i+1]})
	}
	return cs
}

// TestIdleReleaseIgnoresContent: on a fake clock, probes typed into a
// redacted stream — a proper prefix of a form of the secret, and a probe
// of the same length that begins none — give the reader the same writes
// at the same times, in a session of prompts, typing and a stream that
// never pauses; neither is replaced. Every form the redactor knows is
// probed at the redact level (TestScheduleIgnoresContent); here the usual
// encodings.
func TestIdleReleaseIgnoresContent(t *testing.T) {
	value := "tok-5eCr3t/value+42"
	r := redact.New([]redact.Secret{{Name: "TOKEN", Value: []byte(value)}})
	spaced := strings.Join(strings.Split(strings.TrimSpace(fmt.Sprintf("% x", value)), " "), " ")
	forms := []string{value,
		base64.StdEncoding.EncodeToString([]byte(value)), base64.RawURLEncoding.EncodeToString([]byte(value)),
		hex.EncodeToString([]byte(value)), strings.ToUpper(hex.EncodeToString([]byte(value))), spaced,
		url.QueryEscape(value), url.PathEscape(value)}
	for i, form := range forms {
		for _, k := range []int{1, 4, len(form) / 2, len(form) - 1} {
			prefix := form[:k]
			if len(r.Find([]byte(prefix))) > 0 {
				continue // a shorter form, complete: it is replaced
			}
			other := prefix[:k-1] + "|"
			var got [2]*recorder
			for j, probe := range []string{prefix, other} {
				session := []chunk{{0, "$ "}}
				session = append(session, typed(100*time.Millisecond, probe)...)
				session = append(session, chunk{2 * time.Second, "\r\n$ "})
				// Output that never pauses for idleAfter, until it passes
				// the window.
				for at := 3 * time.Second; at < 4*time.Second; at += 30 * time.Millisecond {
					session = append(session, chunk{at, strings.Repeat("."+probe, 50)})
				}
				got[j] = replay(t, r, session, always(quiet))
				if bytes.Contains(got[j].out.Bytes(), []byte("[REDACTED")) {
					t.Fatalf("form %d, %d bytes: probe %d was replaced", i, k, j)
				}
			}
			if !slices.Equal(got[0].writes, got[1].writes) {
				t.Fatalf("form %d, prefix of %d bytes: the reader saw %v for the prefix, %v for the other probe",
					i, k, got[0].writes, got[1].writes)
			}
		}
	}
}

// TestIdleReleaseSchedule pins when held output appears: idleAfter after
// the last byte; when output never pauses that long, as it passes the
// window; not while the child is busy; and, once the child's terminal has
// had flow control on, no more by idleness at all.
func TestIdleReleaseSchedule(t *testing.T) {
	r := redact.New([]redact.Secret{{Name: "TOKEN", Value: []byte("tok-5eCr3t/value+42")}})
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		name   string
		chunks []chunk
		child  func(time.Duration) verdict
		want   []scheduled
	}{
		{"a prompt", []chunk{{0, "Password: "}}, always(quiet), []scheduled{{ms(50), 10}}},
		{"typing", typed(0, "abc"), always(quiet), []scheduled{{ms(90), 3}}},
		{"a busy child", []chunk{{0, "Password: "}}, func(at time.Duration) verdict {
			if at < ms(125) {
				return busy
			}
			return quiet
		}, []scheduled{{ms(130), 10}}},
		{"flow control turned on", []chunk{{0, "one "}, {ms(200), "two"}}, func(at time.Duration) verdict {
			if at < ms(100) {
				return never
			}
			return quiet
		}, []scheduled{{ms(10200), 7}}}, // only at Close
	} {
		if got := replay(t, r, tc.chunks, tc.child).writes; !slices.Equal(got, tc.want) {
			t.Errorf("%s: writes %v, want %v", tc.name, got, tc.want)
		}
	}

	// Output that never pauses for idleAfter goes out as it passes the
	// window, each time a chunk arrives, and the rest idleAfter after the
	// last.
	var stream []chunk
	for at := ms(0); at < ms(600); at += ms(30) {
		stream = append(stream, chunk{at, strings.Repeat(".", 4096)})
	}
	got := replay(t, r, stream, always(quiet)).writes
	total := 0
	for i, w := range got {
		total += w.n
		last := i == len(got)-1
		if last && w.at != ms(570+50) || !last && (w.at%ms(30) != 0 || w.at > ms(570)) {
			t.Errorf("a stream that never pauses: writes %v", got)
			break
		}
	}
	if total != 20*4096 || len(got) < 10 {
		t.Errorf("a stream that never pauses: writes %v", got)
	}
}

// TestIdleReleaseKeepsMatching: a value whose first part was released by
// idleness is still masked from there on when the rest arrives, with one
// replacement; a value that arrives whole is replaced whole.
func TestIdleReleaseKeepsMatching(t *testing.T) {
	value := "tok-5eCr3t/value+42"
	r := redact.New([]redact.Secret{{Name: "TOKEN", Value: []byte(value)}})
	for _, tc := range []struct {
		chunks []chunk
		want   string
	}{
		{[]chunk{{0, "v=" + value[:6]}, {time.Second, value[6:] + "\n"}}, "v=" + value[:6] + "[REDACTED:TOKEN]\n"},
		// Typed faster than idleAfter: nothing is released in between.
		{typed(0, "v="+value+"\n"), "v=[REDACTED:TOKEN]\n"},
		{[]chunk{{0, "v=" + base64.StdEncoding.EncodeToString([]byte(value))[:10]}, {time.Second, base64.StdEncoding.EncodeToString([]byte(value))[10:]}},
			"v=" + base64.StdEncoding.EncodeToString([]byte(value))[:10] + "[REDACTED:TOKEN]"},
	} {
		rec := replay(t, r, tc.chunks, always(quiet))
		if got := rec.out.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestReadButNotDeliveredIsNotQuiet: output a copy has read from the child
// but not yet handed to its writer (the copy waits for the mutex, or is
// starved) keeps the child from counting as quiet, although its pipe is
// empty and the child asleep: released then, the held start of a value
// would be shown before its end arrives.
func TestReadButNotDeliveredIsNotQuiet(t *testing.T) {
	c := &outputCopier{idle: idle{clock: wallClock{}, child: func() verdict { return quiet }}}
	if got := c.quiet(); got != quiet {
		t.Fatalf("nothing read: %v, want quiet", got)
	}
	c.undelivered.Add(1)
	if got := c.quiet(); got != busy {
		t.Fatalf("a read not yet delivered: %v, want busy", got)
	}
	c.undelivered.Add(-1)
	if got := c.quiet(); got != quiet {
		t.Fatalf("delivered: %v, want quiet", got)
	}
}
