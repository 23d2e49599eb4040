package dotenv

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := "# comment\n\nA=1\nexport B = two words  # trailing comment\nC='lit $X \\n'\nD=\"a\\nb\\\"c\\$\"\nE=\nF=\"-----BEGIN-----\nline2\n-----END-----\"\r\nG=x#not-a-comment\n"
	got, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		k, v string
		line int
	}{
		{"A", "1", 3}, {"B", "two words", 4}, {"C", `lit $X \n`, 5}, {"D", "a\nb\"c$", 6}, {"E", "", 7},
		{"F", "-----BEGIN-----\nline2\n-----END-----", 8}, {"G", "x#not-a-comment", 11},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Key != w.k || string(got[i].Value) != w.v || got[i].Line != w.line {
			t.Errorf("entry %d = %s=%q line %d, want %s=%q line %d", i, got[i].Key, got[i].Value, got[i].Line, w.k, w.v, w.line)
		}
	}
}

func TestParseErrorsNameLineNotValue(t *testing.T) {
	const canary = "CANARY-dotenv-91ce"
	cases := map[string]string{
		"A=1\nA=" + canary + "\n":             "line 2",
		"A=1\nB='" + canary + "\n":            "line 2",
		"A=1\nB=\"" + canary + "\" x\n":       "line 2",
		"=" + canary + "\n":                   "line 1",
		"A " + canary + "\n":                  "line 1",
		"1A=" + canary + "\n":                 "line 1",
		"B=\"\\q" + canary + "\"\n":           "line 1",
		"A=" + canary + "\x00\n":              "NUL",
		"K=-----BEGIN-----\n" + canary + "\n": "line 2",
		canary + "\n":                         "line 1",
		"K=\"a\\" + canary + "\"\n":           "unknown escape",
	}
	for in, wantSub := range cases {
		_, err := Parse([]byte(in))
		if err == nil {
			t.Errorf("Parse(%q) accepted", in)
			continue
		}
		if !strings.Contains(err.Error(), wantSub) || strings.Contains(err.Error(), canary) {
			t.Errorf("Parse(%q) error %q: want %q and no value", in, err, wantSub)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"A=1\n", "export B='x'\n", "C=\"a\\nb\"\n", "# c\nD=e #f\n", "E=\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := Parse(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, e := range es {
			if e.Key == "" || seen[e.Key] || e.Line < 1 {
				t.Fatalf("bad entry %+v", e)
			}
			seen[e.Key] = true
		}
	})
}
