package setup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/llm-secrets/llms/internal/cfgedit"
	"github.com/llm-secrets/llms/internal/exitstatus"
	"github.com/llm-secrets/llms/internal/human"
)

// mcpName is the server's name in the agents' configurations.
const mcpName = "llms"

// setupInstructions is the snippet every agent gets, in its own file.
const setupInstructions = `## Secrets: use llms, never the values

Secrets for this work are kept by llms. You use them without seeing them:

- Run a command that needs one with ` + "`llms exec -i VAR=NAME -- command args…`" + `:
  the value goes into that command's environment only, and is masked in its output.
- Over MCP (server "llms"): ` + "`list_secrets`" + ` and ` + "`describe_access`" + ` say what you may use,
  ` + "`run_with_secrets`" + ` runs a command with secrets injected, and ` + "`request_secret`" + `
  asks the human for a secret you are not allowed yet.
- Never ask the user to paste a secret, never read .env files or the llms store,
  and never print, echo, log or write a secret's value.
`

// envRules are what the ignore files keep the agents from reading.
var envRules = []string{".env", ".env.*"}

// A setupPlan collects the changes for one agent; its first error sticks.
type setupPlan struct {
	remove bool
	mcp    bool // an MCP entry is written: say where its token goes
	state  *setupState
	files  []fileChange
	notes  []string
	err    error
}

func (p *setupPlan) note(format string, args ...any) {
	p.notes = append(p.notes, fmt.Sprintf(format, args...))
}

// changes are the files whose content or record changes.
func (p *setupPlan) changes() []fileChange {
	var out []fileChange
	for _, f := range p.files {
		if f.delete || !bytes.Equal(f.old, f.new) {
			out = append(out, f)
		}
	}
	return out
}

// records are the records to write (nil: to drop) for the files whose
// content does not change.
func (p *setupPlan) records() map[string]*setupRecord {
	out := map[string]*setupRecord{}
	for _, f := range p.files {
		if !f.delete && bytes.Equal(f.old, f.new) && f.rec != p.state.Files[f.path] {
			out[f.path] = f.rec
		}
	}
	return out
}

// read returns a file's content, whether it exists, and the mode a new
// version keeps.
func (p *setupPlan) read(path string, newMode fs.FileMode) ([]byte, bool, fs.FileMode) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, newMode
	}
	if err != nil {
		p.fail(path, err)
		return nil, false, 0
	}
	mode := newMode
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return data, true, mode
}

func (p *setupPlan) fail(path string, err error) {
	if p.err == nil {
		p.err = exitstatus.UsageError{Err: fmt.Errorf("%s: %w; nothing was changed", path, err)}
	}
}

// An edit is what setup does to one file: add returns the file with
// setup's additions (and records them in rec), undo takes them out by
// structure, as rec says.
type edit struct {
	add  func(cur []byte, prev, rec *setupRecord) ([]byte, error)
	undo func(cur []byte, rec *setupRecord) ([]byte, error)
	// empty says whether what undo leaves is nothing of value, so that a
	// file setup created is deleted.
	empty func([]byte) bool
}

// apply plans one file's change. Removing, a file still as setup left it
// gets its bytes back (or is deleted if setup created it); otherwise setup
// takes out what its record says it added.
func (p *setupPlan) apply(path string, newMode fs.FileMode, e edit) {
	cur, exists, mode := p.read(path, newMode)
	if p.err != nil {
		return
	}
	prev := p.state.Files[path]
	ch := fileChange{path: path, old: cur, new: cur, exists: exists, mode: mode, rec: prev}
	if p.remove {
		ch.rec = nil
		orig, existed, ok := prev.original(cur, exists)
		switch {
		case prev != nil && ok:
			ch.new, ch.delete = orig, !existed
		default:
			next, err := e.undo(cur, prev)
			if err != nil {
				p.fail(path, err)
				return
			}
			ch.new = next
			ch.delete = exists && e.empty(next) && (prev == nil || !prev.Existed)
		}
		if ch.delete && !exists {
			return
		}
		if ch.delete {
			ch.new = nil
		}
		p.files = append(p.files, ch)
		return
	}
	rec := &setupRecord{}
	if prev != nil {
		*rec = *prev
	}
	next, err := e.add(cur, prev, rec)
	if err != nil {
		p.fail(path, err)
		return
	}
	ch.new = next
	if !bytes.Equal(next, cur) {
		rec.wrote(prev, cur, exists, next)
		ch.rec = rec
	}
	p.files = append(p.files, ch)
}

// block writes (or takes out) a marked block in a text file.
func (p *setupPlan) block(path string, st blockStyle, body string, mode fs.FileMode) {
	p.apply(path, mode, edit{
		add: func(cur []byte, _, _ *setupRecord) ([]byte, error) {
			text, err := st.withBlock(string(cur), body)
			return []byte(text), err
		},
		undo: func(cur []byte, _ *setupRecord) ([]byte, error) {
			text, err := st.withoutBlock(string(cur))
			return []byte(text), err
		},
		empty: func(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 },
	})
}

// wholeFile writes a file that is setup's alone; removing deletes it only
// if it is still what setup wrote.
func (p *setupPlan) wholeFile(path, content string) {
	p.apply(path, 0o644, edit{
		add: func([]byte, *setupRecord, *setupRecord) ([]byte, error) { return []byte(content), nil },
		undo: func(cur []byte, _ *setupRecord) ([]byte, error) {
			if string(cur) != content && len(cur) > 0 {
				p.note("%s was changed since setup wrote it: left in place", path)
			}
			return cur, nil
		},
		empty: func(b []byte) bool { return string(b) == content },
	})
}

// jsonEmpty: a JSON document with nothing in it.
func jsonEmpty(b []byte) bool {
	var v map[string]any
	return len(bytes.TrimSpace(b)) == 0 || json.Unmarshal(b, &v) == nil && len(v) == 0
}

// sameJSON compares two JSON texts as values.
func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// createdOn lists the first container on path that the document lacks:
// the one setup makes (with everything under it), nil when none is.
func createdOn(doc []byte, path []string) [][]string {
	for i := 1; i <= len(path); i++ {
		if _, ok, _ := cfgedit.GetJSON(doc, path[:i]...); !ok {
			return [][]string{slices.Clone(path[:i])}
		}
	}
	return nil
}

// dropCreated takes out, deepest first, the containers setup made that
// are left empty.
func dropCreated(doc []byte, rec *setupRecord) ([]byte, error) {
	var err error
	for i := len(rec.Created) - 1; i >= 0 && err == nil; i-- {
		path := rec.Created[i]
		// What setup made, and everything under it, down to the emptied
		// leaf: each level taken out while it is empty.
		for j := len(path); j >= 1 && err == nil; j-- {
			raw, ok, _ := cfgedit.GetJSON(doc, path[:j]...)
			if ok && (string(raw) == "{}" || string(raw) == "[]" || sameJSON(raw, []byte("{}")) || sameJSON(raw, []byte("[]"))) {
				doc, err = cfgedit.DeleteJSON(doc, path[:j]...)
			}
		}
	}
	return doc, err
}

// mcpJSON puts the server entry in the object at key of a JSON file. An
// entry of that name that setup did not add is the user's: left as it is.
func (p *setupPlan) mcpJSON(path, client, key string, e setupEnv, mode fs.FileMode) {
	p.mcp = true
	entry, err := cfgedit.MarshalPlain(MCPServer(client, e.command, e.tokenFile))
	if err != nil {
		p.fail(path, err)
		return
	}
	at := []string{key, mcpName}
	p.apply(path, mode, edit{
		add: func(cur []byte, prev, rec *setupRecord) ([]byte, error) {
			raw, has, err := cfgedit.GetJSON(cur, at...)
			switch {
			case err != nil:
				return nil, err
			case has && (prev == nil || prev.Server == nil):
				p.note("%s: the %q server was not added by llms setup: left as it is", path, mcpName)
				return cur, nil
			case has && sameJSON(raw, entry):
				return cur, nil
			}
			if c := createdOn(cur, at[:1]); c != nil {
				rec.Created = c
			}
			rec.Server = entry
			return cfgedit.SetJSON(cur, at, json.RawMessage(entry))
		},
		undo: func(cur []byte, rec *setupRecord) ([]byte, error) {
			raw, has, err := cfgedit.GetJSON(cur, at...)
			switch {
			case err != nil || !has:
				return cur, err
			case rec == nil || rec.Server == nil:
				p.note("%s: the %q server was not added by llms setup: left as it is", path, mcpName)
				return cur, nil
			case !sameJSON(raw, rec.Server):
				p.note("%s: the %q server was changed since setup added it: left as it is", path, mcpName)
				return cur, nil
			}
			out, err := cfgedit.DeleteJSON(cur, at...)
			if err != nil {
				return nil, err
			}
			return dropCreated(out, rec)
		},
		empty: jsonEmpty,
	})
}

// denyJSON adds rules to permissions.deny of a Claude Code settings file;
// the ones that were there before are the user's, and stay.
func (p *setupPlan) denyJSON(path string, rules []string) {
	at := []string{"permissions", "deny"}
	p.apply(path, 0o644, edit{
		add: func(cur []byte, prev, rec *setupRecord) ([]byte, error) {
			raw, _, err := cfgedit.GetJSON(cur, at...)
			if err != nil {
				return nil, err
			}
			var have []string
			_ = json.Unmarshal(raw, &have)
			ours := map[string]bool{}
			if prev != nil {
				for _, s := range prev.Strings {
					ours[s] = true
				}
			}
			rec.Strings, rec.StringsPath = nil, at
			for _, r := range rules {
				if !slices.Contains(have, r) || ours[r] {
					rec.Strings = append(rec.Strings, r)
				}
			}
			if c := createdOn(cur, at); c != nil {
				rec.Created = c
			}
			return cfgedit.AddJSONStrings(cur, at, rules)
		},
		undo: func(cur []byte, rec *setupRecord) ([]byte, error) {
			if rec == nil {
				return cur, nil
			}
			out, err := cfgedit.DeleteJSONStrings(cur, rec.StringsPath, rec.Strings)
			if err != nil {
				return nil, err
			}
			return dropCreated(out, rec)
		},
		empty: jsonEmpty,
	})
}

// claudeRules are Claude Code's deny rules: .env files anywhere under the
// working directory, and the store.
func claudeRules(e setupEnv) []string {
	store := "//" + strings.TrimPrefix(e.storeDir, "/")
	if short := human.TildePath(e.home, e.storeDir); short != e.storeDir {
		store = short
	}
	return []string{"Read(./.env)", "Read(./.env.*)", "Read(./**/.env)", "Read(./**/.env.*)", "Read(" + store + "/**)"}
}

// ignoreBody is the block of an ignore file (gitignore syntax); the store
// is named when it is inside the project, the only place such a file can
// name.
func ignoreBody(e setupEnv) string {
	body := strings.Join(envRules, "\n") + "\n"
	if rel, err := filepath.Rel(e.project, e.storeDir); err == nil && filepath.IsLocal(rel) {
		body += "/" + filepath.ToSlash(rel) + "/\n"
	}
	return body
}

// planFor lists the changes for agent.
func planFor(agent string, project bool, e setupEnv, p *setupPlan) error {
	h, pr := e.home, e.project
	switch agent {
	case "claude":
		if project {
			p.mcpJSON(filepath.Join(pr, ".mcp.json"), "claude", "mcpServers", e, 0o644)
			p.denyJSON(filepath.Join(pr, ".claude", "settings.json"), claudeRules(e))
			p.block(filepath.Join(pr, "CLAUDE.md"), markdownBlock, setupInstructions, 0o644)
		} else {
			p.mcpJSON(filepath.Join(h, ".claude.json"), "claude", "mcpServers", e, 0o600)
			p.denyJSON(filepath.Join(h, ".claude", "settings.json"), claudeRules(e))
			p.block(filepath.Join(h, ".claude", "CLAUDE.md"), markdownBlock, setupInstructions, 0o644)
		}
	case "codex":
		dir, instr := e.codexHome, e.codexHome
		if project {
			dir, instr = filepath.Join(pr, ".codex"), pr
		}
		p.codexTOML(filepath.Join(dir, "config.toml"), e)
		p.block(filepath.Join(instr, "AGENTS.md"), markdownBlock, setupInstructions, 0o644)
		p.note("Codex has no rule against reading a file: keep .env files out of its reach (llms agent -- codex runs it sandboxed)")
	case "cursor":
		if project {
			p.mcpJSON(filepath.Join(pr, ".cursor", "mcp.json"), "cursor", "mcpServers", e, 0o644)
			p.block(filepath.Join(pr, ".cursorignore"), hashBlock, ignoreBody(e), 0o644)
			p.wholeFile(filepath.Join(pr, ".cursor", "rules", "llms.mdc"),
				"---\ndescription: How to use secrets (llms)\nalwaysApply: true\n---\n"+setupInstructions)
		} else {
			p.mcpJSON(filepath.Join(h, ".cursor", "mcp.json"), "cursor", "mcpServers", e, 0o644)
			p.note("Cursor keeps its user rules and global ignore list in its settings, not in a file: run llms setup cursor --project in each repository for the rules and .cursorignore")
		}
	case "gemini":
		if project {
			p.mcpJSON(filepath.Join(pr, ".gemini", "settings.json"), "gemini", "mcpServers", e, 0o644)
			p.block(filepath.Join(pr, ".geminiignore"), hashBlock, ignoreBody(e), 0o644)
			p.block(filepath.Join(pr, "GEMINI.md"), markdownBlock, setupInstructions, 0o644)
		} else {
			p.mcpJSON(filepath.Join(h, ".gemini", "settings.json"), "gemini", "mcpServers", e, 0o644)
			p.block(filepath.Join(h, ".gemini", "GEMINI.md"), markdownBlock, setupInstructions, 0o644)
			p.note("Gemini CLI reads .geminiignore per project: run llms setup gemini --project for it")
		}
	case "aider":
		if !project {
			return exitstatus.Usagef("aider keeps its ignore file and conventions per repository: use llms setup aider --project")
		}
		p.block(filepath.Join(pr, ".aiderignore"), hashBlock, ignoreBody(e), 0o644)
		p.block(filepath.Join(pr, "CONVENTIONS.md"), markdownBlock, setupInstructions, 0o644)
		p.aiderConf(filepath.Join(pr, ".aider.conf.yml"))
		p.note("aider has no MCP client: it uses llms through llms exec, as the conventions say")
	}
	return nil
}

// codexTOML writes the server table into Codex's config.toml, in the form
// Codex itself writes it back (the env as a sub-table), at the end. A
// table of that name that setup did not add is the user's: left as it is.
func (p *setupPlan) codexTOML(path string, e setupEnv) {
	p.mcp = true
	table := CodexMCPTable(mcpName, e.command, e.tokenFile)
	want, _, err := cfgedit.TOMLTable([]byte(table), "mcp_servers", mcpName)
	if err != nil {
		p.fail(path, err)
		return
	}
	entry, _ := cfgedit.MarshalPlain(want)
	at := []string{"mcp_servers", mcpName}
	p.apply(path, 0o600, edit{
		add: func(cur []byte, prev, rec *setupRecord) ([]byte, error) {
			have, has, err := cfgedit.TOMLTable(cur, at...)
			if err != nil {
				return nil, err
			}
			haveJSON, _ := cfgedit.MarshalPlain(have)
			switch {
			case has && (prev == nil || prev.Server == nil):
				p.note("%s: the [mcp_servers.%s] table was not added by llms setup: left as it is", path, mcpName)
				return cur, nil
			case has && sameJSON(haveJSON, entry):
				return cur, nil
			case has:
				if cur, err = cfgedit.DeleteTOMLTable(cur, at, hashBlock.begin, hashBlock.end); err != nil {
					return nil, err
				}
			}
			rec.Server = entry
			return cfgedit.AppendTOML(cur, table)
		},
		undo: func(cur []byte, rec *setupRecord) ([]byte, error) {
			have, has, err := cfgedit.TOMLTable(cur, at...)
			if err != nil || !has {
				return cur, err
			}
			haveJSON, _ := cfgedit.MarshalPlain(have)
			switch {
			case rec == nil || rec.Server == nil:
				p.note("%s: the [mcp_servers.%s] table was not added by llms setup: left as it is", path, mcpName)
				return cur, nil
			case !sameJSON(haveJSON, rec.Server):
				p.note("%s: the [mcp_servers.%s] table was changed since setup added it: left as it is", path, mcpName)
				return cur, nil
			}
			// Marker lines an earlier llms wrote, if Codex left them.
			return cfgedit.DeleteTOMLTable(cur, at, hashBlock.begin, hashBlock.end)
		},
		empty: func(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 },
	})
}

// aiderConf makes aider read CONVENTIONS.md. A "read:" key of the user's
// would clash with the block's: then the user is told to add it.
func (p *setupPlan) aiderConf(path string) {
	text, ok := p.outsideBlock(path)
	if !ok {
		return
	}
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, "read:") && !p.remove {
			p.note("%s already has a read: key: add CONVENTIONS.md to it", path)
			return
		}
	}
	p.block(path, hashBlock, "read: CONVENTIONS.md\n", 0o644)
}

// outsideBlock returns what a file holds besides setup's block.
func (p *setupPlan) outsideBlock(path string) (string, bool) {
	old, _, _ := p.read(path, 0)
	if p.err != nil {
		return "", false
	}
	text := string(old)
	if start, end, ok, err := hashBlock.findBlock(text); err == nil && ok {
		text = text[:start] + text[end:]
	}
	return text, true
}
