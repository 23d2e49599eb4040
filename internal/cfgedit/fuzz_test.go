package cfgedit

import (
	"reflect"
	"testing"
)

// Whatever the document, an edit never panics, and one that succeeds is
// undone by its inverse up to decoding.
func FuzzJSONEdit(f *testing.F) {
	for _, doc := range layouts {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		path := []string{"mcpServers", "llms"}
		set, err := SetJSON(doc, path, entry)
		if err != nil {
			return
		}
		if _, had, _ := GetJSON(doc, path...); had {
			return
		}
		back, err := DeleteJSON(set, path...)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := decodeJSON(doc)
		got, _ := decodeJSON(back)
		if _, hadServers, _ := GetJSON(doc, "mcpServers"); !hadServers {
			delete(got, "mcpServers")
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q -> %q -> %q", doc, set, back)
		}
	})
}

func FuzzTOMLEdit(f *testing.F) {
	for _, doc := range []string{"", "a = 1\n", "[mcp_servers.x]\ncommand = \"y\"\n", "s = \"\"\"\n[x]\n\"\"\"\n", llmsTable} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		added, err := AppendTOML(doc, llmsTable)
		if err != nil {
			return
		}
		back, err := DeleteTOMLTable(added, llmsPath)
		if err != nil {
			t.Fatalf("%q: %v", added, err)
		}
		want, _ := decodeTOML(doc)
		got, _ := decodeTOML(back)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q -> %q", doc, back)
		}
	})
}
