package caveat

// globMatch reports whether value matches pattern, where "*" matches any run
// of bytes other than '/' and "**" matches any run of bytes; every other byte
// matches itself. Patterns come from a validated caveat (no "***").
//
// It runs in O(len(pattern)·len(value)) time without backtracking, so no
// pattern can make it slow beyond that bound.
func globMatch(pattern, value string) bool {
	if len(value) > maxLen {
		return false
	}
	// cur[i] reports whether the pattern consumed so far matches value[:i].
	cur := make([]bool, len(value)+1)
	next := make([]bool, len(value)+1)
	cur[0] = true
	for p := 0; p < len(pattern); p++ {
		clear(next)
		switch {
		case pattern[p] == '*':
			crossSlash := p+1 < len(pattern) && pattern[p+1] == '*'
			if crossSlash {
				p++
			}
			for i := range cur {
				// A star extends any match reaching i, or one its own
				// sweep has just extended to i.
				if cur[i] || (i > 0 && next[i-1] && (crossSlash || value[i-1] != '/')) {
					next[i] = true
				}
			}
		default:
			for i := 0; i < len(value); i++ {
				if cur[i] && value[i] == pattern[p] {
					next[i+1] = true
				}
			}
		}
		cur, next = next, cur
	}
	return cur[len(value)]
}
