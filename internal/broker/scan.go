package broker

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/leakscan"
	"github.com/llm-secrets/llms/internal/redact"
)

// ScanRequest asks the broker to look for the stored values, and every
// encoding the redactor knows, in a set of streams. The values never leave
// the broker: the caller hands in the streams and gets back positions and
// names.
type ScanRequest struct {
	Inputs iter.Seq2[leakscan.Input, error]
	// Scope says what is scanned ("agents, git history, 2 paths"), for the
	// audit line.
	Scope string
	// Found is called for each finding, after its audit line is written,
	// in the order of the inputs and, within one, of position. An error
	// stops the scan and is returned.
	Found func(ScanFinding) error
	// Failed is told about each input that could not be read; the scan
	// goes on. May be nil.
	Failed func(path string, err error)
	// Skipped is told about each input left out (leakscan.Input.Skipped),
	// and why. May be nil.
	Skipped func(path, why string)
	// Progress, when not nil, is called after each read with the bytes
	// scanned so far and the input being read.
	Progress func(bytes int64, path string)
}

// A ScanFinding is one place where a stored value was found. It holds the
// secret's name and the place, never the value or the text around it.
type ScanFinding struct {
	Path     string
	Line     int   // from 1
	Column   int   // from 1, in bytes
	Offset   int64 // of the first byte, in the stream
	Secret   string
	Encoding string    // raw, base64, hex, url, json, … (redact.Form)
	Changed  time.Time // when the secret was last set: rotate it if it leaked since
}

// ScanSummary counts what a scan read.
type ScanSummary struct {
	Inputs   int   // streams read
	Bytes    int64 // bytes read
	Findings int
	Failed   int      // inputs that could not be read
	Secrets  int      // values searched for
	Short    []string // secrets too short to search for (redact.MinLen)
}

// scanChunk is the size of each read: large enough that the per-call cost
// of the search vanishes, small enough to stay in cache.
const scanChunk = 256 << 10

// Scan searches the inputs for every stored value. Only the human, in
// their own shell, scans: a detected agent is refused, and so is a caller
// holding a token, since a scan reads every value. The scan is recorded
// (event "scan", with the names searched for and the scope), and so is
// each finding (event "scan-finding", the secret's name and the place),
// before the caller hears of it.
func (b *Broker) Scan(c *Caller, req ScanRequest) (ScanSummary, error) {
	refused := humanOnly(c, "scans for leaked values")
	if refused == nil && c.TokenGiven {
		refused = fmt.Errorf("%w: scan is refused under a token (unset LLM_SECRETS_MACAROON and LLM_SECRETS_MACAROON_FILE): only the human, in their own shell, scans with every value", ErrDenied)
	}
	if refused != nil {
		// The line holds the refusal, not the scope: its paths can hold a
		// value, which only a scan that reads the values could mask.
		return ScanSummary{}, b.refuse(audit.Record{Event: "scan"}, refused, c)
	}
	b.mu.Lock()
	entries, err := b.st.List()
	if err != nil {
		b.mu.Unlock()
		return ScanSummary{}, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	secrets := make([]redact.Secret, 0, len(entries))
	changed := map[string]time.Time{}
	for _, e := range entries {
		v, err := b.st.Read(e.Name)
		if err == nil {
			e, err = b.st.Stat(e.Name)
		}
		if err != nil {
			// Values were read: the scan is recorded all the same, without
			// its scope, which only the values could mask.
			_ = b.record(audit.Record{Event: "scan", Decision: "allow", Secrets: names, Reason: "stopped: a value could not be read"}, c)
			b.mu.Unlock()
			clear(secrets)
			return ScanSummary{}, err
		}
		secrets = append(secrets, redact.Secret{Name: e.Name, Value: v})
		changed[e.Name] = e.Updated
	}
	r := redact.New(secrets)
	clear(secrets) // the Redactor keeps its own copy
	// The scope names paths, and a path can hold a value: the audit line
	// gets it masked, as every path a finding or failure names.
	err = b.record(audit.Record{Event: "scan", Decision: "allow", Secrets: names, Reason: maskText(r, req.Scope)}, c)
	b.mu.Unlock()
	if err != nil {
		return ScanSummary{}, err
	}
	sum := ScanSummary{Secrets: len(entries) - len(r.Skipped()), Short: r.Skipped()}
	s := scanner{b: b, c: c, req: req, r: r, changed: changed, sum: &sum, buf: make([]byte, scanChunk)}
	err = s.run()
	return sum, err
}

// scanner holds one scan's state.
type scanner struct {
	b       *Broker
	c       *Caller
	req     ScanRequest
	r       *redact.Redactor
	changed map[string]time.Time
	sum     *ScanSummary
	buf     []byte
}

func (s *scanner) run() error {
	for in, err := range s.req.Inputs {
		if err == nil && in.Open == nil && in.Skipped != "" {
			if s.req.Skipped != nil {
				s.req.Skipped(maskText(s.r, in.Path), in.Skipped)
			}
			continue
		}
		if err == nil && in.Open == nil {
			err = errors.New("nothing to read")
		}
		var fatal error
		if err == nil {
			fatal, err = s.scanOne(in)
		}
		if fatal != nil {
			return fatal
		}
		if err != nil {
			s.sum.Failed++
			if s.req.Failed != nil {
				s.req.Failed(maskText(s.r, in.Path), errors.New(maskText(s.r, err.Error())))
			}
		}
	}
	return nil
}

// scanOne reads one input through a Finder and reports its findings. A
// fatal error (a finding that cannot be audited or reported) ends the
// scan; any other is this input's.
func (s *scanner) scanOne(in leakscan.Input) (fatal, err error) {
	rc, err := in.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	s.sum.Inputs++
	path := maskText(s.r, in.Path)
	located := in.Locate == nil
	f := s.r.NewFinder(func(m redact.Found) error {
		if !located {
			path, located = maskText(s.r, in.Locate()), true
		}
		fatal = s.report(ScanFinding{Path: path, Line: m.Line, Column: m.Column, Offset: int64(m.Start),
			Secret: m.Secret, Encoding: m.Form.String(), Changed: s.changed[m.Secret]})
		return fatal
	})
	for {
		n, rerr := rc.Read(s.buf)
		if n > 0 {
			s.sum.Bytes += int64(n)
			if _, werr := f.Write(s.buf[:n]); werr != nil {
				return fatal, nil
			}
			if s.req.Progress != nil {
				s.req.Progress(s.sum.Bytes, path)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	f.Close()
	return fatal, nil
}

// report audits one finding, then hands it to the caller.
func (s *scanner) report(f ScanFinding) error {
	s.sum.Findings++
	reason := fmt.Sprintf("%s:%d:%d %s", f.Path, f.Line, f.Column, f.Encoding)
	s.b.mu.Lock()
	err := s.b.record(audit.Record{Event: "scan-finding", Secrets: []string{f.Secret}, Reason: reason}, s.c)
	s.b.mu.Unlock()
	if err != nil {
		return err
	}
	if s.req.Found != nil {
		return s.req.Found(f)
	}
	return nil
}

// maskText is text with every value, in every encoding the redactor
// knows, replaced by [REDACTED:NAME]: for the paths and error texts a
// scan shows, which are names a value can hide in.
func maskText(r *redact.Redactor, text string) string {
	var out strings.Builder
	w := r.NewWriter(&out)
	if _, err := io.WriteString(w, text); err != nil || w.Close() != nil {
		return "[REDACTED]" // a strings.Builder does not fail; fail closed anyway
	}
	return out.String()
}
