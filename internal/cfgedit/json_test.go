package cfgedit

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

var entry = map[string]any{"command": "/usr/local/bin/llms", "args": []string{"mcp"}, "env": map[string]string{"LLM_SECRETS_MACAROON_FILE": "/t"}}

// Layouts the agents and their users write.
var layouts = map[string]string{
	"claude (2 spaces, no newline)": "{\n  \"numStartups\": 3,\n  \"mcpServers\": {\n    \"github\": {\n      \"command\": \"gh\"\n    }\n  }\n}",
	"tabs":                          "{\n\t\"permissions\": {\n\t\t\"allow\": [\n\t\t\t\"Bash(npm test)\"\n\t\t]\n\t}\n}\n",
	"four spaces":                   "{\n    \"ui\": {\n        \"theme\": \"GitHub\"\n    }\n}",
	"one line":                      `{"numStartups":3,"mcpServers":{"github":{"command":"gh"}}}`,
	"one line, spaced":              `{ "a": 1, "b": [1, 2] }`,
	"crlf":                          "{\r\n  \"mcpServers\": {}\r\n}\r\n",
	"empty object":                  "{}",
	"empty object, lines":           "{\n}\n",
	"nested empty":                  "{\n  \"mcpServers\": {},\n  \"permissions\": {\"deny\": []}\n}\n",
	"escapes":                       "{\n  \"k\\\"ey\": \"v\\u00e9}\\\\\",\n  \"x\": [\"]\", \"{\"]\n}\n",
}

// Putting a member in and taking it out gives the bytes back, at every
// depth; what is added keeps the layout around it.
func TestSetThenDeleteGivesTheBytesBack(t *testing.T) {
	for name, doc := range layouts {
		for _, path := range [][]string{{"mcpServers", "llms"}, {"llms"}, {"new", "b", "c"}} {
			t.Run(fmt.Sprintf("%s/%s", name, strings.Join(path, ".")), func(t *testing.T) {
				set, err := SetJSON([]byte(doc), path, entry)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(string(set), doc[:1]) || strings.Count(string(set), "\n") > 0 != (strings.Count(doc, "\n") > 0) {
					t.Errorf("layout changed:\n%s", set)
				}
				again, err := SetJSON(set, path, entry)
				if err != nil || string(again) != string(set) {
					t.Errorf("setting the same value again changed the text:\n%s\n%v", again, err)
				}
				back := set
				// Take out what was created on the way, deepest first.
				for i := len(path); i >= 1; i-- {
					if _, ok, _ := GetJSON([]byte(doc), path[:i]...); ok {
						break
					}
					if back, err = DeleteJSON(back, path[:i]...); err != nil {
						t.Fatal(err)
					}
				}
				want := doc
				if name == "empty object, lines" {
					want = "{}\n" // an object left empty is written {}
				}
				if string(back) != want {
					t.Errorf("after delete:\n%q\nwant\n%q", back, want)
				}
			})
		}
	}
}

func TestSetJSONLayout(t *testing.T) {
	got, err := SetJSON([]byte("{\n\t\"a\": 1\n}"), []string{"mcpServers", "llms"}, map[string]any{"args": []string{"mcp"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n\t\"a\": 1,\n\t\"mcpServers\": {\n\t\t\"llms\": {\n\t\t\t\"args\": [\n\t\t\t\t\"mcp\"\n\t\t\t]\n\t\t}\n\t}\n}"
	if string(got) != want {
		t.Errorf("tabs:\n%s\nwant\n%s", got, want)
	}
	got, err = SetJSON([]byte(`{"a":1}`), []string{"b"}, map[string]any{"c": []int{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"a":1,"b":{"c":[1,2]}}` {
		t.Errorf("one line: %s", got)
	}
	got, err = SetJSON(nil, []string{"mcpServers", "llms"}, map[string]any{"args": []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "{\n  \"mcpServers\": {\n    \"llms\": {\n      \"args\": []\n    }\n  }\n}\n" {
		t.Errorf("new document:\n%s", got)
	}
	// Replacing a value keeps its place.
	got, err = SetJSON([]byte("{\n  \"x\": 0,\n  \"llms\": {\"old\": true},\n  \"y\": 1\n}\n"), []string{"llms"}, map[string]any{"new": 1})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "{\n  \"x\": 0,\n  \"llms\": {\n    \"new\": 1\n  },\n  \"y\": 1\n}\n" {
		t.Errorf("replace:\n%s", got)
	}
}

func TestDeleteJSONFromAnyPlace(t *testing.T) {
	doc := "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}"
	for key, want := range map[string]string{
		"a": "{\n  \"b\": 2,\n  \"c\": 3\n}",
		"b": "{\n  \"a\": 1,\n  \"c\": 3\n}",
		"c": "{\n  \"a\": 1,\n  \"b\": 2\n}",
		"d": doc,
	} {
		got, err := DeleteJSON([]byte(doc), key)
		if err != nil || string(got) != want {
			t.Errorf("delete %s: %q, %v", key, got, err)
		}
	}
}

func TestJSONStrings(t *testing.T) {
	for name, doc := range map[string]string{
		"no array":    "{\n\t\"permissions\": {\n\t\t\"allow\": [\n\t\t\t\"Bash(npm test)\"\n\t\t]\n\t}\n}\n",
		"some":        "{\n  \"permissions\": {\n    \"deny\": [\n      \"Read(./secrets)\",\n      \"Read(./.env)\"\n    ]\n  }\n}",
		"empty array": `{"permissions": {"deny": []}}`,
		"one line":    `{"permissions":{"deny":["Read(x)"]}}`,
	} {
		rules := []string{"Read(./.env)", "Read(./.env.*)"}
		added, err := AddJSONStrings([]byte(doc), []string{"permissions", "deny"}, rules)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		again, err := AddJSONStrings(added, []string{"permissions", "deny"}, rules)
		if err != nil || string(again) != string(added) {
			t.Errorf("%s: adding again changed it:\n%s", name, again)
		}
		var had struct{ Permissions struct{ Deny []string } }
		if err := json.Unmarshal([]byte(doc), &had); err != nil {
			t.Fatal(err)
		}
		var fresh []string
		for _, r := range rules {
			if !strings.Contains(strings.Join(had.Permissions.Deny, "\n"), r) {
				fresh = append(fresh, r)
			}
		}
		back, err := DeleteJSONStrings(added, []string{"permissions", "deny"}, fresh)
		if err != nil {
			t.Fatal(err)
		}
		if _, hadArray, _ := GetJSON([]byte(doc), "permissions", "deny"); !hadArray {
			if back, err = DeleteJSON(back, "permissions", "deny"); err != nil {
				t.Fatal(err)
			}
		}
		if string(back) != doc {
			t.Errorf("%s: back is\n%q\nwant\n%q", name, back, doc)
		}
	}
}

func TestJSONRefusals(t *testing.T) {
	for name, doc := range map[string]string{
		"not an object": `["a"]`,
		"key twice":     `{"a": 1, "a": 2}`,
		"broken":        `{ "theme": "GitHub", }`,
		"trailing text": `{} {}`,
		"comment":       "{\n  // mine\n  \"a\": 1\n}",
	} {
		if _, err := SetJSON([]byte(doc), []string{"llms"}, 1); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := SetJSON([]byte(`{"mcpServers": []}`), []string{"mcpServers", "llms"}, 1); err == nil || !strings.Contains(err.Error(), "not an object") {
		t.Errorf("a path through an array: %v", err)
	}
	if _, err := AddJSONStrings([]byte(`{"permissions": {"deny": "x"}}`), []string{"permissions", "deny"}, []string{"a"}); err == nil {
		t.Error("strings added to a string")
	}
}

// Any document encoding/json writes, in any indentation: a member set at
// any depth and deleted again leaves it byte for byte.
func TestSetDeleteProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		doc := genObject(t, 3)
		indent := rapid.SampledFrom([]string{"", "  ", "    ", "\t"}).Draw(t, "indent")
		text, err := json.Marshal(doc)
		if indent != "" {
			text, err = json.MarshalIndent(doc, "", indent)
		}
		if err != nil {
			t.Fatal(err)
		}
		if rapid.Bool().Draw(t, "newline") {
			text = append(text, '\n')
		}
		key := rapid.SampledFrom([]string{"llms", "k0", "new"}).Draw(t, "key")
		parent := []string{}
		if _, ok := doc["k1"].(map[string]any); ok && rapid.Bool().Draw(t, "nested") {
			parent = []string{"k1"}
		}
		path := append(parent, key)
		if _, exists, _ := GetJSON(text, path...); exists {
			return
		}
		set, err := SetJSON(text, path, entry)
		if err != nil {
			t.Fatalf("set: %v\n%s", err, text)
		}
		back, err := DeleteJSON(set, path...)
		if err != nil {
			t.Fatal(err)
		}
		if string(back) != string(text) {
			t.Fatalf("back:\n%q\nwant\n%q", back, text)
		}
	})
}

func genObject(t *rapid.T, depth int) map[string]any {
	n := rapid.IntRange(0, 4).Draw(t, "members")
	obj := map[string]any{}
	for i := range n {
		key := fmt.Sprintf("k%d", i)
		switch kind := rapid.IntRange(0, 3).Draw(t, "kind"); {
		case kind == 0 && depth > 0:
			obj[key] = genObject(t, depth-1)
		case kind == 1:
			obj[key] = rapid.SliceOfN(rapid.String(), 0, 3).Draw(t, "items")
		case kind == 2:
			obj[key] = rapid.Int().Draw(t, "n")
		default:
			obj[key] = rapid.String().Draw(t, "s")
		}
	}
	return obj
}
