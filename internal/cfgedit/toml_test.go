package cfgedit

import (
	"strings"
	"testing"
)

const llmsTable = "[mcp_servers.llms]\ncommand = \"/usr/local/bin/llms\"\nargs = [\"mcp\"]\n\n[mcp_servers.llms.env]\nLLM_SECRETS_MACAROON_FILE = \"/t\"\n"

var llmsPath = []string{"mcp_servers", "llms"}

// Appending the table and taking it out gives the bytes back; comments,
// multi-line strings and arrays holding brackets and '#' are kept.
func TestAppendThenDeleteTOML(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":           "",
		"no newline":      "model = \"o3\"",
		"comments":        "# my config\nmodel = \"o3\" # inline\n\n[profiles.x] # trailing\nmodel = \"gpt\"\n",
		"other servers":   "[mcp_servers.docs]\ncommand = \"docs-mcp\"\nargs = []\n",
		"multi-line":      "notes = \"\"\"\n[mcp_servers.llms]\n# not a table\n\"\"\"\nlist = [\n  \"a]\", # a comment ]\n  'b#',\n]\nlit = '''\n[x]\n'''\n",
		"crlf":            "model = \"o3\"\r\n[tui]\r\nx = 1\r\n",
		"array of tables": "[[profiles]]\nname = \"a\"\n\n[[profiles]]\nname = \"b\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			added, err := AppendTOML([]byte(doc), llmsTable)
			if err != nil {
				t.Fatal(err)
			}
			table, ok, err := TOMLTable(added, llmsPath...)
			if err != nil || !ok || table["command"] != "/usr/local/bin/llms" {
				t.Fatalf("the table is not there: %v %v %v", table, ok, err)
			}
			back, err := DeleteTOMLTable(added, llmsPath)
			if err != nil {
				t.Fatal(err)
			}
			want := doc
			if want != "" && !strings.HasSuffix(want, "\n") {
				want += "\n" // the newline a last line gets stays
			}
			if string(back) != want {
				t.Errorf("back is\n%q\nwant\n%q", back, want)
			}
		})
	}
}

// Codex rewrites every [mcp_servers.*] table when it adds a server: the
// env becomes a sub-table, comments before a table are dropped, a marker
// comment ends up after the last key. The table is still found and taken
// out, with nothing else.
func TestDeleteTOMLTableAfterCodexRewrite(t *testing.T) {
	doc := "# my config\nmodel = \"o3\"\n\n[mcp_servers.llms]\ncommand = \"/usr/bin/llms\"\nargs = [\"mcp\"]\n\n" +
		"[mcp_servers.llms.env]\nLLM_SECRETS_MACAROON_FILE = \"/t\"\n\n[mcp_servers.other]\ncommand = \"/bin/echo\"\n" +
		"args = [\"hi\"]\n# llms setup: end\n\n[profiles.x] # trailing\nmodel=\"gpt\"\n"
	got, err := DeleteTOMLTable([]byte(doc), llmsPath, "# llms setup: end")
	if err != nil {
		t.Fatal(err)
	}
	want := "# my config\nmodel = \"o3\"\n\n[mcp_servers.other]\ncommand = \"/bin/echo\"\nargs = [\"hi\"]\n\n[profiles.x] # trailing\nmodel=\"gpt\"\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// At the top of the document, the blank line after it goes.
	got, err = DeleteTOMLTable([]byte(llmsTable+"\n[tui]\nx = 1\n"), llmsPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "[tui]\nx = 1\n" {
		t.Errorf("from the top: %q", got)
	}
}

func TestTOMLRefusals(t *testing.T) {
	// Defined another way than by headers: said, not guessed.
	for _, doc := range []string{
		"[mcp_servers]\nllms = { command = \"x\" }\n",
		"mcp_servers.llms.command = \"x\"\n",
		"[mcp_servers]\nllms.command = \"x\"\n",
	} {
		if _, err := DeleteTOMLTable([]byte(doc), llmsPath); err == nil || !strings.Contains(err.Error(), "does not edit") {
			t.Errorf("%q: %v", doc, err)
		}
		if _, err := AppendTOML([]byte(doc), llmsTable); err == nil {
			t.Errorf("%q: a second definition was added", doc)
		}
	}
	for name, doc := range map[string]string{
		"broken":            "model = \n",
		"defined twice":     llmsTable,
		"servers inline":    "mcp_servers = { other = { command = \"x\" } }\n",
		"servers not table": "mcp_servers = 3\n",
	} {
		if _, err := AppendTOML([]byte(doc), llmsTable); err == nil {
			t.Errorf("%s: appended", name)
		}
	}
	if _, _, err := TOMLTable([]byte("[mcp_servers]\nllms = 1\n"), llmsPath...); err == nil {
		t.Error("a key that is not a table")
	}
}
