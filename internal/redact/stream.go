package redact

// stream is what a Writer and a Finder share: the stream's undecided tail,
// held until a later Write or Close decides it, and a sticky error. Each
// supplies process, which acts on buf[:cut], the part of buf (the held
// tail followed by new bytes) that scan decided; buf[0] is at stream
// offset at.
type stream struct {
	r         *Redactor
	scan      scanner
	held      []byte
	at        int   // stream offset of held[0] (or of the next byte)
	lineStart bool  // held[0], or the next byte, starts a line
	join      int   // bytes of a Write scanned joined to the held tail before the rest is scanned in place (W)
	err       error // sticky: the first failure, or closed after Close
	closed    error
	process   func(buf []byte, cut int) error
}

// write feeds p, after the held tail, to process. It returns len(p), or 0
// and the sticky error: input and output bytes do not correspond one to
// one, so no partial count would be meaningful.
func (s *stream) write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	buf := p
	if h := len(s.held); h > 0 {
		// The held tail must be scanned joined to what follows. Rather than
		// copy all of p after it, decide it with the next k bytes, as if p
		// came in two Writes (which changes nothing). Once what is still
		// held lies inside those k bytes, it is also the start of
		// p[k-len(held):], and the rest is scanned in place. A tail that
		// stays undecided (a long dump line) has the rest of p copied after
		// it.
		k := min(len(p), h+s.join)
		s.held = append(s.held, p[:k]...)
		if err := s.step(s.held, false); err != nil {
			return 0, err
		}
		switch {
		case k == len(p):
			return len(p), nil
		case len(s.held) <= k:
			buf = p[k-len(s.held):]
			s.held = s.held[:0]
		default:
			s.held = append(s.held, p[k:]...)
			buf = s.held
		}
	}
	if err := s.step(buf, false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// close decides the held tail as the end of the stream; later calls fail.
func (s *stream) close() error {
	if s.err != nil {
		return s.err
	}
	err := s.step(s.held, true)
	if err == nil {
		s.err = s.closed
	}
	return err
}

func (s *stream) step(buf []byte, final bool) error {
	cut := s.r.scan(&s.scan, buf, s.lineStart, final)
	if err := s.process(buf, cut); err != nil {
		s.err = err
		return err
	}
	if cut > 0 {
		s.lineStart = buf[cut-1] == '\n'
	}
	s.at += cut
	// buf may be s.held itself; append copies the tail down.
	s.held = append(s.held[:0], buf[cut:]...)
	return nil
}
