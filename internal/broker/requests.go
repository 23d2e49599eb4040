package broker

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SecretRequest is an agent asking the human for a secret that it cannot
// use yet. The value never travels with it: the human stores it from their
// own terminal with `llms set NAME`, which fulfils the request.
type SecretRequest struct {
	Name    string    `json:"name"`
	Reason  string    `json:"reason"`
	Agent   string    `json:"agent"` // the detected (or stamped) agent, "" if none
	TokenID string    `json:"token"`
	Repo    string    `json:"repo"`
	Branch  string    `json:"branch"`
	Created time.Time `json:"created"`
	// Exists is filled in for the human (Requests): the name is already
	// stored, so `llms set` would replace a value.
	Exists bool `json:"-"`
}

// Limits on requests: the human reads every one on a terminal.
const (
	MaxRequestReason = 300 // bytes
	maxPending       = 64
	// requestRetention drops requests nobody acted on.
	requestRetention = 7 * 24 * time.Hour
)

var requestsState = stateFile{"requests", "requests file"}

// checkReason refuses what would be unreadable or would drive the human's
// terminal: invalid UTF-8, control and format characters (which include
// the bidirectional overrides).
func checkReason(reason string) error {
	switch {
	case strings.TrimSpace(reason) == "":
		return fmt.Errorf("%w: a request needs a reason the human can judge", ErrBadRequest)
	case len(reason) > MaxRequestReason:
		return fmt.Errorf("%w: the reason is longer than %d bytes", ErrBadRequest, MaxRequestReason)
	case !utf8.ValidString(reason):
		return fmt.Errorf("%w: the reason is not valid UTF-8", ErrBadRequest)
	}
	for _, r := range reason {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("%w: the reason holds a control or formatting character (U+%04X)", ErrBadRequest, r)
		}
	}
	return nil
}

// AskRequest is an agent asking the human for secret Name, and why.
type AskRequest struct {
	Name, Reason string
}

// RequestSecret records that the caller's agent asks the human for secret
// name. Whether the name exists is not revealed beyond what the token
// allows: a request for a name the token allows and the store holds is
// refused as pointless; any other is recorded (one per name, the latest
// reason wins).
func (b *Broker) RequestSecret(c *Caller, ask AskRequest) (SecretRequest, error) {
	name, reason := ask.Name, ask.Reason
	if err := ValidateName(name); err != nil {
		return SecretRequest{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if err := checkReason(reason); err != nil {
		return SecretRequest{}, err
	}
	g, err := b.decideAbout("request", c, name)
	if err != nil {
		return SecretRequest{}, err
	}
	if allowed, _ := g.caveats.AllowedSecrets(); slices.Contains(allowed, name) && b.st.Has(name) {
		return SecretRequest{}, fmt.Errorf("%w: secret %q exists and your token allows it: use it", ErrBadRequest, name)
	}
	req := SecretRequest{Name: name, Reason: reason, TokenID: g.tokenID, Created: b.now().UTC()}
	if r, ok := c.detectAgent(); ok {
		req.Agent = strings.Join(r.Agents(), ",")
	}
	if gi, err := c.gitInfo(); err == nil {
		req.Repo, req.Branch = gi.Repo, gi.Branch
	}
	full := false
	b.mu.Lock()
	defer b.mu.Unlock()
	err = updateState(b, requestsState, func(list []SecretRequest) []SecretRequest {
		list = b.prunedRequests(list)
		list = slices.DeleteFunc(list, func(r SecretRequest) bool { return r.Name == name })
		if len(list) >= maxPending {
			full = true
			return list
		}
		return append(list, req)
	})
	if err != nil {
		return SecretRequest{}, err
	}
	if full {
		return SecretRequest{}, fmt.Errorf("%w: %d requests are already pending; the human must answer them first (`llms requests`)", ErrDenied, maxPending)
	}
	return req, nil
}

func (b *Broker) prunedRequests(list []SecretRequest) []SecretRequest {
	now := b.now()
	return slices.DeleteFunc(list, func(r SecretRequest) bool { return now.Sub(r.Created) > requestRetention })
}

// Requests lists the pending requests, oldest first, for the human.
func (b *Broker) Requests(c *Caller) ([]SecretRequest, error) {
	if err := humanOnly(c, "reads the requests for secrets"); err != nil {
		return nil, err
	}
	var list []SecretRequest
	if _, err := b.readState(requestsState, &list); err != nil {
		return nil, err
	}
	list = b.prunedRequests(list)
	for i := range list {
		list[i].Exists = b.st.Has(list[i].Name)
	}
	return list, nil
}

// DismissRequest drops a pending request without storing anything.
func (b *Broker) DismissRequest(c *Caller, req NameRequest) error {
	name := req.Name
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if err := b.change("request-dismiss", []string{name}, c, "answers requests for secrets"); err != nil {
		return err
	}
	found := false
	err := updateState(b, requestsState, func(list []SecretRequest) []SecretRequest {
		n := len(list)
		list = slices.DeleteFunc(list, func(r SecretRequest) bool { return r.Name == name })
		found = len(list) < n
		return list
	})
	if err == nil && !found {
		err = fmt.Errorf("%w: no pending request for %q", ErrBadRequest, name)
	}
	return err
}

// fulfil removes the request for name once its value is stored, and
// returns it.
func (b *Broker) fulfil(name string) (*SecretRequest, error) {
	done, err := b.fulfilAll([]string{name})
	return done[name], err
}

// fulfilAll is fulfil for many names, in one update: the requests it
// answered, by name.
func (b *Broker) fulfilAll(names []string) (map[string]*SecretRequest, error) {
	done := map[string]*SecretRequest{}
	var list []SecretRequest
	if found, err := b.readState(requestsState, &list); err != nil || !found {
		return done, err
	}
	stored := make(map[string]bool, len(names))
	for _, n := range names {
		stored[n] = true
	}
	if !slices.ContainsFunc(list, func(r SecretRequest) bool { return stored[r.Name] }) {
		return done, nil
	}
	err := updateState(b, requestsState, func(list []SecretRequest) []SecretRequest {
		return slices.DeleteFunc(list, func(r SecretRequest) bool {
			if stored[r.Name] {
				done[r.Name] = &r
				return true
			}
			return false
		})
	})
	return done, err
}
