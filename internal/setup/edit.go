package setup

import (
	"errors"
	"strings"
)

// The instructions and ignore files get one marked block, appended, that
// --remove takes out again: the agents do not rewrite those files. Their
// configuration files (JSON, Codex's TOML) are edited by structure
// (internal/cfgedit).

// A blockStyle is how a file type comments: the block's first and last
// lines.
type blockStyle struct{ begin, end string }

var (
	markdownBlock = blockStyle{"<!-- llms setup: begin (llms setup --remove takes this out) -->", "<!-- llms setup: end -->"}
	hashBlock     = blockStyle{"# llms setup: begin (llms setup --remove takes this out)", "# llms setup: end"}
)

// findBlock returns where the marked block is in text, its end line
// included; ok is false when there is none. A begin without an end, or two
// blocks, is an error: the file was edited by hand and is left alone.
func (st blockStyle) findBlock(text string) (start, end int, ok bool, err error) {
	start = lineIndex(text, st.begin)
	if start < 0 {
		if lineIndex(text, st.end) >= 0 {
			return 0, 0, false, errors.New("has the end of an llms block without its beginning")
		}
		return 0, 0, false, nil
	}
	rel := lineIndex(text[start:], st.end)
	if rel < 0 {
		return 0, 0, false, errors.New("has the beginning of an llms block without its end")
	}
	end = start + rel + len(st.end)
	if end < len(text) && text[end] == '\n' {
		end++
	}
	if lineIndex(text[end:], st.begin) >= 0 {
		return 0, 0, false, errors.New("has two llms blocks")
	}
	return start, end, true, nil
}

// lineIndex finds line as a whole line of text.
func lineIndex(text, line string) int {
	for off := 0; ; {
		i := strings.Index(text[off:], line)
		if i < 0 {
			return -1
		}
		i += off
		startOK := i == 0 || text[i-1] == '\n'
		j := i + len(line)
		endOK := j == len(text) || text[j] == '\n' || text[j] == '\r'
		if startOK && endOK {
			return i
		}
		off = i + 1
	}
}

// withBlock returns text with the block holding body (lines ending in
// "\n"), replacing the block that is there or appended after a blank line.
func (st blockStyle) withBlock(text, body string) (string, error) {
	block := st.begin + "\n" + body + st.end + "\n"
	start, end, ok, err := st.findBlock(text)
	if err != nil {
		return "", err
	}
	if ok {
		return text[:start] + block + text[end:], nil
	}
	if text == "" {
		return block, nil
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + "\n" + block, nil
}

// withoutBlock takes the block out, and the blank line withBlock put
// before it.
func (st blockStyle) withoutBlock(text string) (string, error) {
	start, end, ok, err := st.findBlock(text)
	if err != nil || !ok {
		return text, err
	}
	before := text[:start]
	if end == len(text) && strings.HasSuffix(before, "\n\n") {
		before = before[:len(before)-1]
	}
	return before + text[end:], nil
}
