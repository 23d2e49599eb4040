package teamsync

import (
	"fmt"
	"testing"
)

func TestMerge(t *testing.T) {
	const s = "secrets/"
	base := files{s + "SAME.age": "1", s + "OURS.age": "1", s + "THEIRS.age": "1", s + "BOTH.age": "1", s + "GONE.age": "1", recipientsPath: "m1"}
	ours := files{s + "SAME.age": "1", s + "OURS.age": "2", s + "THEIRS.age": "1", s + "BOTH.age": "2", s + "NEW.age": "9", recipientsPath: "m2"}
	theirs := files{s + "SAME.age": "1", s + "OURS.age": "1", s + "THEIRS.age": "3", s + "BOTH.age": "3", s + "GONE.age": "4", recipientsPath: "m3"}
	ds, conflicts, members := merge(base, ours, theirs, nil)
	// GONE: we removed it, they changed it — a conflict, as BOTH.
	if fmt.Sprint(conflicts) != "[BOTH GONE]" || !members {
		t.Fatalf("conflicts %v, members %v", conflicts, members)
	}
	got := map[string]decision{}
	for _, d := range ds {
		got[d.rel] = d
	}
	for rel, want := range map[string]decision{
		s + "SAME.age":   {rel: s + "SAME.age", take: "1"},
		s + "OURS.age":   {rel: s + "OURS.age", take: "2", changedRemote: true},
		s + "THEIRS.age": {rel: s + "THEIRS.age", take: "3", fromRemote: true},
		s + "NEW.age":    {rel: s + "NEW.age", take: "9", changedRemote: true},
		recipientsPath:   {rel: recipientsPath, changedRemote: true},
	} {
		if got[rel] != want {
			t.Errorf("%s: %+v, want %+v", rel, got[rel], want)
		}
	}
	// A resolution keeps ours only over the remote version it was made
	// against, and an absent resolution never matches a removal.
	_, conflicts, _ = merge(base, ours, theirs, map[string]string{s + "BOTH.age": "3", s + "GONE.age": "5"})
	if fmt.Sprint(conflicts) != "[GONE]" {
		t.Fatalf("after resolving BOTH: %v", conflicts)
	}
	_, conflicts, _ = merge(files{s + "X.age": "1"}, files{s + "X.age": "2"}, files{}, nil)
	if fmt.Sprint(conflicts) != "[X]" {
		t.Fatalf("changed here, removed there: %v", conflicts)
	}
}

func TestStorePath(t *testing.T) {
	for p, want := range map[string]bool{
		"recipients.txt": true, "secrets/DB.age": true, ".gitattributes": true,
		"identity.txt": false, "secrets/.write.tmp": false, "secrets/-x.age": false, "secrets/a/b.age": false, "x/recipients.txt": false, "DB.age": false, "secrets/.age": false, "secrets/a.b-c_1.age": true,
	} {
		if storePath(p) != want {
			t.Errorf("storePath(%q) = %v", p, !want)
		}
	}
}

func TestHeldBack(t *testing.T) {
	ds := []decision{
		{rel: recipientsPath, take: "m2", fromRemote: true},
		{rel: "secrets/MINE.age", take: "2", changedRemote: true},
		{rel: "secrets/GONE.age", take: "", changedRemote: true},
		{rel: "secrets/THEIRS.age", take: "3", fromRemote: true},
	}
	// Members changed there: what changed here was encrypted to the set of
	// before (a removal needs no re-encryption).
	if got := fmt.Sprint(heldBack(ds, false)); got != "[MINE]" {
		t.Fatalf("held: %s", got)
	}
	if got := fmt.Sprint(heldBack(ds, true)); got != "[*]" {
		t.Fatalf("held after a union: %s", got)
	}
	ds[0].fromRemote = false
	if got := heldBack(ds, false); got != nil {
		t.Fatalf("held with the members unchanged there: %v", got)
	}
}
