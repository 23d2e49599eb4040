package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
	files  []fileChange
	notes  []string
	err    error
}

func (p *setupPlan) note(format string, args ...any) {
	p.notes = append(p.notes, fmt.Sprintf(format, args...))
}

// changes are the files whose content changes.
func (p *setupPlan) changes() []fileChange {
	var out []fileChange
	for _, f := range p.files {
		if f.delete || !bytes.Equal(f.old, f.new) {
			out = append(out, f)
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
		p.err = usageError{fmt.Errorf("%s: %w; nothing was changed", path, err)}
	}
}

// add records path's new content; empty content when removing deletes it.
func (p *setupPlan) add(path string, old []byte, exists bool, mode fs.FileMode, new []byte) {
	ch := fileChange{path: path, old: old, shown: old, new: new, exists: exists, mode: mode}
	if p.remove && len(bytes.TrimSpace(new)) == 0 {
		if !exists {
			return
		}
		ch.delete, ch.new = true, nil
	}
	p.files = append(p.files, ch)
}

// editJSON applies edit (or, when removing, undo) to a JSON file. A
// document left empty by undo is deleted.
func (p *setupPlan) editJSON(path string, mode fs.FileMode, edit, undo func(*jsonNode) error) {
	old, exists, mode := p.read(path, mode)
	if p.err != nil {
		return
	}
	doc, err := parseJSON(old)
	if err == nil && doc.kind != '{' {
		err = errors.New("is not a JSON object")
	}
	if err == nil {
		if p.remove {
			err = undo(doc)
		} else {
			err = edit(doc)
		}
	}
	if err != nil {
		p.fail(path, err)
		return
	}
	if !exists && doc.empty() {
		return
	}
	newText := doc.bytes()
	if p.remove && doc.empty() {
		newText = nil
	}
	if exists && doc.equal(mustParse(old)) {
		newText = old // unchanged: keep the bytes, whatever their layout
	}
	p.add(path, old, exists, mode, newText)
	if ch := &p.files[len(p.files)-1]; len(p.files) > 0 && ch.path == path && exists {
		ch.shown = mustParse(old).bytes()
		ch.relaid = !bytes.Equal(ch.shown, old) && !ch.delete
	}
}

func mustParse(data []byte) *jsonNode {
	n, err := parseJSON(data)
	if err != nil {
		return newObject()
	}
	return n
}

// block writes (or takes out) a marked block in a text file.
func (p *setupPlan) block(path string, st blockStyle, body string, mode fs.FileMode) {
	old, exists, mode := p.read(path, mode)
	if p.err != nil {
		return
	}
	var text string
	var err error
	if p.remove {
		text, err = st.withoutBlock(string(old))
	} else {
		text, err = st.withBlock(string(old), body)
	}
	if err != nil {
		p.fail(path, err)
		return
	}
	p.add(path, old, exists, mode, []byte(text))
}

// wholeFile writes a file that is setup's alone; removing deletes it only
// if it is still what setup wrote.
func (p *setupPlan) wholeFile(path, content string) {
	old, exists, mode := p.read(path, 0o644)
	if p.err != nil {
		return
	}
	switch {
	case !p.remove:
		p.add(path, old, exists, mode, []byte(content))
	case exists && string(old) == content:
		p.add(path, old, exists, mode, nil)
	case exists:
		p.note("%s was changed since setup wrote it: left in place", path)
	}
}

// mcpJSON puts the server entry in the object at key of a JSON file;
// undoing takes it out only if it is still the entry setup writes.
func (p *setupPlan) mcpJSON(path, client, key string, e setupEnv, mode fs.FileMode) {
	p.mcp = true
	entry, err := toNode(mcpServer(client, e.command, e.tokenFile))
	if err != nil {
		p.fail(path, err)
		return
	}
	p.editJSON(path, mode, func(doc *jsonNode) error {
		servers, err := doc.object(key)
		if err == nil {
			servers.set(mcpName, entry)
		}
		return err
	}, func(doc *jsonNode) error {
		servers, ok := doc.members[key]
		if !ok || servers.kind != '{' {
			return nil
		}
		if cur, ok := servers.members[mcpName]; ok {
			if !cur.equal(entry) {
				p.note("%s: the %q server is not the one setup writes: left in place", path, mcpName)
				return nil
			}
			servers.remove(mcpName)
		}
		if servers.empty() {
			doc.remove(key)
		}
		return nil
	})
}

// denyJSON adds rules to permissions.deny of a Claude Code settings file.
func (p *setupPlan) denyJSON(path string, rules []string) {
	p.editJSON(path, 0o644, func(doc *jsonNode) error {
		perms, err := doc.object("permissions")
		if err == nil {
			err = perms.addStrings("deny", rules)
		}
		return err
	}, func(doc *jsonNode) error {
		if perms, ok := doc.members["permissions"]; ok && perms.kind == '{' {
			perms.removeStrings("deny", rules)
			if perms.empty() {
				doc.remove("permissions")
			}
		}
		return nil
	})
}

// claudeRules are Claude Code's deny rules: .env files anywhere under the
// working directory, and the store.
func claudeRules(e setupEnv) []string {
	store := "//" + strings.TrimPrefix(e.storeDir, "/")
	if short := tildePath(e.home, e.storeDir); short != e.storeDir {
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
			return usagef("aider keeps its ignore file and conventions per repository: use llms setup aider --project")
		}
		p.block(filepath.Join(pr, ".aiderignore"), hashBlock, ignoreBody(e), 0o644)
		p.block(filepath.Join(pr, "CONVENTIONS.md"), markdownBlock, setupInstructions, 0o644)
		p.aiderConf(filepath.Join(pr, ".aider.conf.yml"))
		p.note("aider has no MCP client: it uses llms through llms exec, as the conventions say")
	}
	return nil
}

// codexTOML writes the server table as a marked block of Codex's
// config.toml. A table of that name outside the block would be a second
// definition, which TOML forbids: refused.
func (p *setupPlan) codexTOML(path string, e setupEnv) {
	p.mcp = true
	text, ok := p.outsideBlock(path)
	if !ok {
		return
	}
	if lineIndex(text, "[mcp_servers."+mcpName+"]") >= 0 && !p.remove {
		p.fail(path, fmt.Errorf("already defines [mcp_servers.%s]", mcpName))
		return
	}
	p.block(path, hashBlock, codexMCPTable(mcpName, e.command, e.tokenFile), 0o600)
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
