package broker

// Status describes the store without naming or reading any secret.
type Status struct {
	Dir      string
	Secrets  int
	Warnings []string
	Rotating bool // an interrupted revoke-all --rotate
	Session  *Session
	// SessionErr says why there is no live session.
	SessionErr error
	Agent      string // the detected agent and how, or ""
	// Requests is how many requests for secrets agents left for the human
	// (`llms requests`); counted for the human only.
	Requests int
}

// Status reports the store's state for `llms status`.
func (b *Broker) Status(c *Caller) (Status, error) {
	es, err := b.st.List()
	if err != nil {
		return Status{}, err
	}
	s := Status{Dir: b.Dir(), Secrets: len(es), Warnings: b.Warnings()}
	if s.Rotating, err = b.st.Rotating(); err != nil {
		return s, err
	}
	if sess, err := b.CurrentSession(); err == nil {
		sess.Token = ""
		s.Session = &sess
	} else {
		s.SessionErr = err
	}
	if r, ok := c.detectAgent(); ok {
		s.Agent = r.String()
	} else if list, err := b.Requests(c); err == nil {
		s.Requests = len(list)
	}
	return s, nil
}
