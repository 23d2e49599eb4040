package cli

import "errors"

// nonEmpty is a string flag that refuses an empty value when it is parsed:
// `--profile "$UNSET"` is a mistake to report, not a request to ignore.
type nonEmpty struct{ p *string }

func (v nonEmpty) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v nonEmpty) Set(s string) error {
	if s == "" {
		return errors.New("empty value")
	}
	*v.p = s
	return nil
}

func (nonEmpty) Type() string { return "string" }
