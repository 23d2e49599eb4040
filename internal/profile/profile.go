// Package profile reads profiles.toml: named bundles of secrets, the
// environment variables they are injected as, a lifetime and caveats, so a
// human can delegate a whole task with one name.
//
// The format is llm-secrets v3's: one top-level table per profile,
//
//	[db]
//	secrets = ["db_password"]
//	ttl = "5m"
//	[db.env]
//	DB_PASS = "db_password"
//
// plus one optional key per list caveat (caveat.ListKinds), and
// allow_host, the hosts `llms agent --profile` lets the agent reach beside
// its own API (internal/egress's rules and @presets). It owns the
// file format and its validation. It refuses a file that is not a regular
// file or is larger than 1 MiB, unknown keys, the [profiles.NAME] form an
// earlier llms read (with an error that says what to write instead), empty
// secret lists (llm-secrets v3's "empty profile = all secrets" is exactly
// the flaw we do not copy) and empty caveat lists, mappings to secrets the
// profile does not name,
// and lifetimes that are missing or not positive. It never sees a value.
package profile

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/llm-secrets/llms/internal/agentid"
	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/egress"
	"github.com/llm-secrets/llms/internal/names"
	"github.com/llm-secrets/llms/internal/smallfile"
)

// Profile is one validated [NAME] table.
type Profile struct {
	Name    string
	Secrets []string
	// Env maps variable → secret; every secret appears at least once
	// (defaulting to a variable of its own name).
	Env map[string]string
	TTL time.Duration
	// Caveats holds the profile's other list caveats (caveat.ListKinds),
	// keyed by caveat name, which is also their key in the file.
	Caveats map[string][]string
	// AllowHost is allow_host: egress rules for agent mode, as written.
	AllowHost []string
}

// file mirrors the TOML: a table per profile. A profile's keys are
// decoded one by one, because the caveat keys come from caveat.ListKinds.
type file map[string]toml.Primitive

// rawProfile is one profile as written; a string for the duration so that
// errors can name it.
type rawProfile struct {
	Secrets   []string
	Env       map[string]string
	TTL       string
	Caveats   map[string][]string
	AllowHost []string
}

// decodeProfile decodes the keys of one profile it knows and returns the
// others, which Parse refuses.
func decodeProfile(md toml.MetaData, keys map[string]toml.Primitive) (rawProfile, []string, error) {
	raw := rawProfile{Caveats: map[string][]string{}}
	var unknown []string
	for _, k := range sortedKeys(keys) {
		prim := keys[k]
		var err error
		switch {
		case k == "secrets":
			err = md.PrimitiveDecode(prim, &raw.Secrets)
		case k == "env":
			err = md.PrimitiveDecode(prim, &raw.Env)
		case k == "ttl":
			err = md.PrimitiveDecode(prim, &raw.TTL)
		case k == keyAllowHost:
			err = md.PrimitiveDecode(prim, &raw.AllowHost)
			if err == nil && raw.AllowHost == nil {
				raw.AllowHost = []string{}
			}
		case k != caveat.NameSecret && caveat.Settable(k):
			var items []string
			err = md.PrimitiveDecode(prim, &items)
			raw.Caveats[k] = items
		default:
			unknown = append(unknown, k)
		}
		if err != nil {
			return raw, nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return raw, unknown, nil
}

var (
	// ErrNoFile: there is no profiles file at the path.
	ErrNoFile = errors.New("no profiles file")
	// ErrUnknown: the file has no profile of that name.
	ErrUnknown = errors.New("no such profile")
)

// keyAllowHost is the key of a profile's egress rules.
const keyAllowHost = "allow_host"

// MaxTTL bounds a profile's lifetime; mint still bounds it by the session.
const MaxTTL = 24 * time.Hour

// maxFileSize bounds what Load reads: a profiles file is a few kilobytes.
const maxFileSize = 1 << 20

// Load reads and validates every profile in path: a regular file of at
// most maxFileSize bytes (internal/smallfile).
func Load(path string) (map[string]Profile, error) {
	data, err := smallfile.Read(path, maxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrNoFile, path)
	}
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse validates the TOML text of a profiles file; path names it in errors.
// Profiles, and the keys and variables of each, are checked in sorted
// order, so a file with several mistakes always reports the same one first.
func Parse(path string, data []byte) (map[string]Profile, error) {
	var f file
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	raws, err := decodeFile(md, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make(map[string]Profile, len(raws))
	for _, name := range sortedKeys(raws) {
		p, err := validate(name, raws[name])
		if err != nil {
			return nil, fmt.Errorf("%s: profile %q: %w", path, name, err)
		}
		out[name] = p
	}
	return out, nil
}

// decodeFile decodes every profile of the file as written, and refuses
// what is not a profile table and any key it does not know.
func decodeFile(md toml.MetaData, f file) (map[string]rawProfile, error) {
	raws := make(map[string]rawProfile, len(f))
	var unknown []string
	for _, name := range sortedKeys(f) {
		keys, ok := table(md, f[name], name)
		if !ok {
			return nil, fmt.Errorf("%s is not a table: a profile is written [%s], its keys on the lines below", toml.Key{name}, toml.Key{name})
		}
		if old := oldForm(md, name, keys); old != "" {
			return nil, fmt.Errorf("[profiles.%s] is a form llms no longer reads: write [%s] (and [%s.env]); profiles are top-level tables, as in llm-secrets v3", old, old, old)
		}
		raw, und, err := decodeProfile(md, keys)
		if err != nil {
			return nil, fmt.Errorf("profile %q: %v", name, err)
		}
		raws[name] = raw
		for _, k := range und {
			unknown = append(unknown, toml.Key{name, k}.String())
		}
	}
	for _, k := range md.Undecoded() {
		unknown = append(unknown, k.String())
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown key(s): %s", strings.Join(unknown, ", "))
	}
	return raws, nil
}

// validate checks one decoded profile and fills in its defaults.
func validate(name string, raw rawProfile) (Profile, error) {
	if len(name) > 64 || names.Secret(name) != nil {
		return Profile{}, errors.New("invalid profile name")
	}
	if len(raw.Secrets) == 0 {
		return Profile{}, errors.New("secrets is empty; a profile must name the secrets it grants")
	}
	for _, s := range raw.Secrets {
		if err := names.Secret(s); err != nil {
			return Profile{}, err
		}
	}
	ttl, err := parseTTL(raw.TTL)
	if err != nil {
		return Profile{}, err
	}
	if err := checkCaveats(raw.Caveats); err != nil {
		return Profile{}, err
	}
	if err := checkAllowHost(raw.AllowHost); err != nil {
		return Profile{}, err
	}
	env, err := environment(name, raw)
	if err != nil {
		return Profile{}, err
	}
	return Profile{Name: name, Secrets: raw.Secrets, Env: env, TTL: ttl, Caveats: raw.Caveats, AllowHost: raw.AllowHost}, nil
}

// checkAllowHost checks a profile's egress rules with internal/egress's
// grammar; present, the list must name at least one host.
func checkAllowHost(hosts []string) error {
	if hosts == nil {
		return nil
	}
	if len(hosts) == 0 {
		return fmt.Errorf("%s is empty: it would allow nothing; remove it or name at least one host", keyAllowHost)
	}
	if _, err := egress.Parse(hosts); err != nil {
		return fmt.Errorf("%s: %v", keyAllowHost, err)
	}
	return nil
}

// parseTTL reads the required lifetime, between 1s and MaxTTL.
func parseTTL(text string) (time.Duration, error) {
	if text == "" {
		return 0, errors.New("ttl is required (e.g. ttl = \"15m\")")
	}
	ttl, err := time.ParseDuration(text)
	if err != nil || ttl <= 0 || ttl > MaxTTL {
		return 0, fmt.Errorf("ttl %q must be a duration between 1s and %s", text, MaxTTL)
	}
	return ttl, nil
}

// checkCaveats refuses an empty list, which would mint a token without
// that restriction, and an agent name llms does not know.
func checkCaveats(caveats map[string][]string) error {
	for _, k := range sortedKeys(caveats) {
		if len(caveats[k]) == 0 {
			return fmt.Errorf("%s is empty: it would restrict nothing; remove it or name at least one", k)
		}
	}
	for _, a := range caveats[caveat.NameAgent] {
		if _, err := agentid.Canonical(a); err != nil {
			return fmt.Errorf("agent: %v", err)
		}
	}
	return nil
}

// environment maps each variable to its secret: the [NAME.env] table, and
// for every secret it does not map, a variable of the secret's own name.
func environment(name string, raw rawProfile) (map[string]string, error) {
	env := map[string]string{}
	mapped := map[string]bool{}
	for _, v := range sortedKeys(raw.Env) {
		s := raw.Env[v]
		if !names.EnvVar(v) {
			return nil, fmt.Errorf("env: %q is not a valid variable name", v)
		}
		if !slices.Contains(raw.Secrets, s) {
			return nil, fmt.Errorf("env: %s maps to %q, which is not in secrets", v, s)
		}
		env[v], mapped[s] = s, true
	}
	for _, s := range raw.Secrets {
		if mapped[s] {
			continue
		}
		if !names.EnvVar(s) {
			return nil, fmt.Errorf("secret %q is not a valid variable name; map it in [%s.env]", s, name)
		}
		if _, taken := env[s]; taken {
			return nil, fmt.Errorf("variable %s is used twice", s)
		}
		env[s] = s
	}
	return env, nil
}

// oldForm returns NAME when the table "profiles" holds a table NAME other
// than env: the [profiles.NAME] form of an earlier llms.
func oldForm(md toml.MetaData, name string, keys map[string]toml.Primitive) string {
	if name != "profiles" {
		return ""
	}
	for _, k := range sortedKeys(keys) {
		if _, ok := table(md, keys[k], name, k); ok && k != "env" {
			return k
		}
	}
	return ""
}

// table decodes the keys of the table at key; ok is false for any other
// value. A table only implied by a deeper header ([a.b] implies a) has no
// type in the metadata.
func table(md toml.MetaData, p toml.Primitive, key ...string) (map[string]toml.Primitive, bool) {
	if t := md.Type(key...); t != "Hash" && t != "" {
		return nil, false
	}
	var keys map[string]toml.Primitive
	if err := md.PrimitiveDecode(p, &keys); err != nil {
		return nil, false
	}
	return keys, true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Get loads path and returns one profile.
func Get(path, name string) (Profile, error) {
	all, err := Load(path)
	if err != nil {
		return Profile{}, err
	}
	p, ok := all[name]
	if !ok {
		return Profile{}, fmt.Errorf("%w %q in %s", ErrUnknown, name, path)
	}
	return p, nil
}

// Names lists profile names, sorted.
func Names(all map[string]Profile) []string {
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Vars lists a profile's variables, sorted, for a stable injection order.
func (p Profile) Vars() []string {
	vars := make([]string, 0, len(p.Env))
	for v := range p.Env {
		vars = append(vars, v)
	}
	sort.Strings(vars)
	return vars
}
