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
		want, err := decodeJSON(doc)
		if err != nil {
			t.Fatalf("SetJSON accepted %q, which does not decode: %v", doc, err)
		}
		got, err := decodeJSON(back)
		if err != nil {
			t.Fatalf("%q -> %q does not decode: %v", doc, back, err)
		}
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
		want, err := decodeTOML(doc)
		if err != nil {
			t.Fatalf("AppendTOML accepted %q, which does not decode: %v", doc, err)
		}
		got, err := decodeTOML(back)
		if err != nil {
			t.Fatalf("%q -> %q does not decode: %v", doc, back, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q -> %q", doc, back)
		}
	})
}
