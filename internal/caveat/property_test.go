package caveat

import (
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// Small alphabets, so that random caveats and contexts often agree and the
// properties are not satisfied vacuously.
var (
	genSecrets  = []string{"A", "B", "C", "D"}
	genOps      = []string{OpExec, OpPeek, OpList}
	genAgents   = []string{"claude", "codex", "aider"}
	genRepos    = []string{"github.com/acme/api", "github.com/acme/*", "github.com/**", "**", "gitlab.com/acme/web"}
	genBranches = []string{"main", "feature/*", "feature/**", "**", "dev"}
	genWho      = []string{"alice@acme.com", "*@acme.com", "bob@evil.org", "**"}
	genCmds     = []string{"make", "terraform", "/usr/bin/make", "/usr/bin/terraform"}
	genLaunches = []string{launchA, launchB}
)

func genList(pool []string) *rapid.Generator[[]string] {
	return rapid.SliceOfNDistinct(rapid.SampledFrom(pool), 1, len(pool), rapid.ID[string])
}

func genCaveat() *rapid.Generator[Caveat] {
	return rapid.Custom(func(t *rapid.T) Caveat {
		var c Caveat
		var err error
		switch rapid.IntRange(0, 9).Draw(t, "kind") {
		case 0:
			c, err = List(NameSecret, genList(genSecrets).Draw(t, "secrets")...)
		case 1:
			offset := rapid.IntRange(-3*3600, 3*3600).Draw(t, "expiry")
			c, err = ExpiresAt(now.Add(time.Duration(offset) * time.Second))
		case 2:
			c, err = List(NameRepo, genList(genRepos).Draw(t, "repos")...)
		case 3:
			c, err = List(NameBranch, genList(genBranches).Draw(t, "branches")...)
		case 4:
			c, err = List(NameAgent, genList(genAgents).Draw(t, "agents")...)
		case 5:
			c, err = List(NameWho, genList(genWho).Draw(t, "who")...)
		case 6:
			c, err = List(NameCmd, genList(genCmds).Draw(t, "cmds")...)
		case 7:
			c, err = List(NameKeepEnv, genList(genSecrets).Draw(t, "keep")...)
		case 8:
			c, err = List(NameLaunch, genList(genLaunches).Draw(t, "launches")...)
		default:
			c, err = List(NameOp, genList(genOps).Draw(t, "ops")...)
		}
		if err != nil {
			t.Fatalf("constructor: %v", err)
		}
		return c
	})
}

func genContext() *rapid.Generator[Context] {
	return rapid.Custom(func(t *rapid.T) Context {
		return Context{
			Now:           now.Add(time.Duration(rapid.IntRange(-3*3600, 3*3600).Draw(t, "now")) * time.Second),
			Op:            rapid.SampledFrom(genOps).Draw(t, "op"),
			Secrets:       rapid.SliceOfDistinct(rapid.SampledFrom(genSecrets), rapid.ID[string]).Draw(t, "asked"),
			Program:       rapid.SampledFrom([]string{"", "/usr/bin/make", "/usr/bin/terraform", "/opt/make", "make"}).Draw(t, "program"),
			SystemProgram: rapid.Bool().Draw(t, "system"),
			Repo:          rapid.SampledFrom([]string{"", "github.com/acme/api", "github.com/acme/x/y", "gitlab.com/acme/web"}).Draw(t, "repo"),
			Branch:        rapid.SampledFrom([]string{"", "main", "feature/x", "feature/x/y"}).Draw(t, "branch"),
			Who:           rapid.SampledFrom([]string{"", "alice@acme.com", "Bob@Evil.org"}).Draw(t, "who"),
			Agents:        rapid.SampledFrom([][]string{nil, {"claude-code"}, {"codex"}, {"claude-code", "codex"}}).Draw(t, "agents"),
			Launch:        rapid.SampledFrom([]string{"", launchA, launchB}).Draw(t, "launch"),
		}
	})
}

// Attenuation never widens: whatever S+E allows, S allows.
func TestPropertyAttenuationNarrows(t *testing.T) {
	held := 0
	rapid.Check(t, func(t *rapid.T) {
		s := Set(rapid.SliceOfN(genCaveat(), 0, 5).Draw(t, "S"))
		e := Set(rapid.SliceOfN(genCaveat(), 1, 3).Draw(t, "E"))
		ctx := genContext().Draw(t, "ctx")
		se := append(slices.Clone(s), e...)

		if se.Check(ctx) == nil {
			held++
			if err := s.Check(ctx); err != nil {
				t.Fatalf("S+E holds but S does not: %v", err)
			}
		}

		sNames, sAll := s.AllowedSecrets()
		seNames, seAll := se.AllowedSecrets()
		if seAll && !sAll {
			t.Fatalf("S+E allows all secrets, S allows only %q", sNames)
		}
		if !sAll {
			for _, n := range seNames {
				if !slices.Contains(sNames, n) {
					t.Fatalf("S+E allows secret %q, S does not", n)
				}
			}
		}

		// keep_env: once S names variables, S+E keeps no others. (When S
		// has none, the broker ignores what E adds: it honours only names
		// present at mint.)
		if sKeep, found := s.Items(NameKeepEnv); found {
			seKeep, _ := se.Items(NameKeepEnv)
			for _, n := range seKeep {
				if !slices.Contains(sKeep, n) {
					t.Fatalf("S+E keeps %q, S does not", n)
				}
			}
		}

		if sExp, ok := s.Expiry(); ok {
			seExp, _ := se.Expiry()
			if seExp.After(sExp) {
				t.Fatalf("S+E expires at %v, after S at %v", seExp, sExp)
			}
		}
	})
	if held == 0 {
		t.Fatal("no generated S+E ever held: the property was vacuous")
	}
}

// Caveats are a conjunction: their order does not matter.
func TestPropertyOrderIrrelevant(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := Set(rapid.SliceOfN(genCaveat(), 0, 6).Draw(t, "S"))
		ctx := genContext().Draw(t, "ctx")
		perm := rapid.Permutation(s).Draw(t, "perm")
		if (s.Check(ctx) == nil) != (perm.Check(ctx) == nil) {
			t.Fatalf("order changed the verdict: %+v vs %+v", s, perm)
		}
	})
}

func TestPropertyConstructedCaveatsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCaveat().Draw(t, "c")
		got, err := Parse(c.Bytes())
		if err != nil || got != c {
			t.Fatalf("Parse(%q) = %+v, %v", c.Bytes(), got, err)
		}
	})
}
