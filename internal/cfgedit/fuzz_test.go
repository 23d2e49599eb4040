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
		want, got := decodeBoth(t, decodeJSON, doc, back)
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
		want, got := decodeBoth(t, decodeTOML, doc, back)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q -> %q", doc, back)
		}
	})
}

// decodeBoth decodes a document the editor accepted and the document after
// an edit and its undoing. Either failing fails the test: two failures
// would otherwise compare equal.
func decodeBoth(t *testing.T, decode func([]byte) (map[string]any, error), doc, back []byte) (want, got map[string]any) {
	t.Helper()
	want, err := decode(doc)
	if err != nil {
		t.Fatalf("the editor accepted %q, which does not decode: %v", doc, err)
	}
	if got, err = decode(back); err != nil {
		t.Fatalf("%q -> %q does not decode: %v", doc, back, err)
	}
	return want, got
}
