package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"
)

// Kind is the type of a setting's value. Every value is given as text (flag,
// environment variable or YAML scalar) and parsed according to its kind.
type Kind int

// The kinds of settings.
const (
	// KindString is free text, checked by Setting.Allowed and Setting.Check.
	KindString Kind = iota
	// KindBool is true/false (also 1/0, yes/no, on/off). Its flag takes no
	// value: --flag means true, --flag=false false.
	KindBool
	// KindInt is a whole number.
	KindInt
	// KindDuration is a Go duration or a number of days: see ParseDuration.
	KindDuration
	// KindBytes is a size in bytes with an optional unit: see ParseBytes.
	KindBytes
)

// Source says where a value came from.
type Source string

// The sources of values, from the weakest to the strongest.
const (
	SourceDefault Source = "default"
	SourceFile    Source = "file"
	SourceEnv     Source = "env"
	SourceFlag    Source = "flag"
	// SourceCode marks a value a program changed in Config after Load.
	SourceCode Source = "code"
)

// Setting declares one configuration value: its key in the YAML file, its
// flag, its environment variable and its default. The precedence (flag >
// environment > file > default), parsing, validation, masking and source
// reporting are written once, in Schema, for every setting.
//
// A package that needs its own settings declares them in a function the
// binary registers, with every other package's, in one list before the
// command line is parsed (cmd/podium's root.go):
//
//	func Settings() []config.Setting {
//		return []config.Setting{{
//			Key:     "f1.poll_interval",
//			Flag:    "f1-poll-interval",
//			Default: "5s",
//			Kind:    config.KindDuration,
//			Usage:   "how often to poll the F1 live timing feed",
//		}}
//	}
//
// and reads the value from the loaded configuration with
// cfg.Get("f1.poll_interval").Duration().
type Setting struct {
	// Key is the setting's path in the YAML file: lower-case snake_case
	// names joined by dots, one per nested mapping ("retention.max_age" is
	// max_age inside retention:).
	Key string
	// Flag is the command-line flag name without dashes; empty for no flag.
	// Secrets must not have flags (command lines are visible to every user
	// of the machine and end up in shell histories).
	Flag string
	// LocalFlag keeps the flag out of AddFlags: the commands that use the
	// setting add it themselves with AddSettingFlags.
	LocalFlag bool
	// Env is the environment variable; empty means PODIUM_ followed by the
	// upper-cased key with dots turned into underscores.
	Env string
	// Default is the value used when no flag, variable or file sets it;
	// empty means false, 0 or 0s for the other kinds than KindString.
	Default string
	// Usage describes the setting in flag help, one line, no trailing dot.
	Usage string
	// Kind is the type of the value.
	Kind Kind
	// Secret masks the value in Masked output and error messages.
	Secret bool
	// Allowed, when not empty, lists the only values accepted (compared
	// case-insensitively and stored as written here). The empty value is
	// accepted when Default is empty.
	Allowed []string
	// Check, when set, validates a non-empty value after parsing; it
	// returns what is wrong and how to fix it ("use nats://host:4222, ...").
	Check func(value string) error
}

// envName returns the environment variable of s.
func (s *Setting) envName() string {
	if s.Env != "" {
		return s.Env
	}
	return "PODIUM_" + strings.ToUpper(strings.ReplaceAll(s.Key, ".", "_"))
}

// where lists the ways to set s, for error messages.
func (s *Setting) where() string {
	var ways []string
	if s.Flag != "" {
		ways = append(ways, "flag --"+s.Flag)
	}
	ways = append(ways, "env "+s.envName())
	ways = append(ways, "or "+s.Key+" in the config file")
	return strings.Join(ways, ", ")
}

var keyRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// Schema is a set of settings. Load uses the package's schema, to which
// Register adds; tests and tools may build their own with NewSchema.
type Schema struct {
	mu       sync.RWMutex
	settings []*Setting
	byKey    map[string]*Setting
}

// NewSchema returns a schema holding settings. It panics like Register.
func NewSchema(settings ...Setting) *Schema {
	s := &Schema{byKey: map[string]*Setting{}}
	s.Register(settings...)
	return s
}

// Register adds settings to s. It panics on a programming error: a bad or
// duplicate key, flag or environment variable, a key that is also a section
// (the prefix of another key), a secret with a flag, or a default that does
// not parse.
func (s *Schema) Register(settings ...Setting) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range settings {
		st := settings[i]
		if !keyRE.MatchString(st.Key) {
			panic(fmt.Sprintf("config: invalid setting key %q: use lower-case snake_case names joined by dots", st.Key))
		}
		if st.Secret && st.Flag != "" {
			panic(fmt.Sprintf("config: secret setting %s must not have a flag", st.Key))
		}
		if st.Default == "" && st.Kind != KindString {
			st.Default = map[Kind]string{KindBool: "false", KindInt: "0", KindDuration: "0s", KindBytes: "0"}[st.Kind]
		}
		if _, err := parseKind(st.Kind, st.Default); err != nil {
			panic(fmt.Sprintf("config: default of %s: %v", st.Key, err))
		}
		for _, o := range s.settings {
			switch {
			case o.Key == st.Key:
				panic(fmt.Sprintf("config: setting %s registered twice", st.Key))
			case strings.HasPrefix(o.Key, st.Key+"."), strings.HasPrefix(st.Key, o.Key+"."):
				panic(fmt.Sprintf("config: settings %s and %s: a key cannot also be a section", o.Key, st.Key))
			case st.Flag != "" && o.Flag == st.Flag:
				panic(fmt.Sprintf("config: settings %s and %s share flag --%s", o.Key, st.Key, st.Flag))
			case o.envName() == st.envName():
				panic(fmt.Sprintf("config: settings %s and %s share variable %s", o.Key, st.Key, st.envName()))
			}
		}
		if st.Flag == "config" || st.envName() == EnvConfigFile {
			panic(fmt.Sprintf("config: setting %s uses the --config flag or %s", st.Key, EnvConfigFile))
		}
		s.settings = append(s.settings, &st)
		s.byKey[st.Key] = &st
	}
}

// Settings returns the settings of s in registration order.
func (s *Schema) Settings() []Setting {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Setting, len(s.settings))
	for i, st := range s.settings {
		out[i] = *st
	}
	return out
}

// snapshot returns the settings of s, for a Resolve.
func (s *Schema) snapshot() []*Setting {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.settings)
}

func (s *Schema) lookup(key string) (*Setting, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.byKey[key]
	return st, ok
}

// FlagConfigFile and EnvConfigFile name the YAML configuration file.
const (
	FlagConfigFile = "config"
	EnvConfigFile  = "PODIUM_CONFIG"
)

// AddFlags registers on fs the --config flag and the flags of the settings
// of s, except local flags (see Setting.LocalFlag). Flags already defined on
// fs are left alone.
func (s *Schema) AddFlags(fs *pflag.FlagSet) {
	if fs.Lookup(FlagConfigFile) == nil {
		fs.String(FlagConfigFile, "", "YAML configuration file (env "+EnvConfigFile+")")
	}
	for _, st := range s.snapshot() {
		if st.Flag != "" && !st.LocalFlag {
			addFlag(fs, st)
		}
	}
}

// AddSettingFlags registers on fs the flags of the settings with the given
// keys, local or not. It panics on an unknown key or a setting without flag.
func (s *Schema) AddSettingFlags(fs *pflag.FlagSet, keys ...string) {
	for _, k := range keys {
		st, ok := s.lookup(k)
		if !ok {
			panic("config: unknown setting " + k)
		}
		if st.Flag == "" {
			panic("config: setting " + k + " has no flag")
		}
		addFlag(fs, st)
	}
}

func addFlag(fs *pflag.FlagSet, st *Setting) {
	if fs.Lookup(st.Flag) != nil {
		return
	}
	usage := st.Usage
	if len(st.Allowed) > 0 {
		usage += ": " + strings.Join(st.Allowed, ", ")
	}
	usage += " (env " + st.envName() + ")"
	if st.Kind == KindBool {
		b, _ := parseBool(st.Default)
		fs.Bool(st.Flag, b, usage)
		return
	}
	fs.String(st.Flag, st.Default, usage)
}

// Value is the resolved value of one setting.
type Value struct {
	// Key is the setting's key.
	Key string
	// Raw is the value as given (for Allowed values, as spelled in Allowed).
	Raw string
	// Source is where the value came from; Origin says precisely: the flag
	// ("--store"), the variable ("PODIUM_STORE") or the file and line
	// ("podium.yaml:3"); empty for defaults.
	Source Source
	Origin string
	// Secret is the setting's Secret.
	Secret bool

	kind   Kind
	parsed any // string, bool, int64 or time.Duration, by kind
}

// String returns the value as text (Raw).
func (v Value) String() string { return v.Raw }

// Bool returns the value of a KindBool setting.
func (v Value) Bool() bool { b, _ := v.parsed.(bool); return b }

// Int returns the value of a KindInt or KindBytes setting.
func (v Value) Int() int64 { n, _ := v.parsed.(int64); return n }

// Bytes returns the value of a KindBytes setting, in bytes.
func (v Value) Bytes() int64 { return v.Int() }

// Duration returns the value of a KindDuration setting.
func (v Value) Duration() time.Duration { d, _ := v.parsed.(time.Duration); return d }

// describe names where v came from, for people: "flag --store",
// "env PODIUM_STORE", "file podium.yaml:3" or "default".
func (v Value) describe() string {
	if v.Origin == "" {
		return string(v.Source)
	}
	return string(v.Source) + " " + v.Origin
}

// Values are the resolved values of a schema's settings.
type Values struct {
	// File is the configuration file read, empty if none; FileOrigin says
	// who named it (flag --config or env PODIUM_CONFIG).
	File       string
	FileOrigin string

	order []string
	vals  map[string]Value
}

// Get returns the value of the setting key. It panics if key is not a
// registered setting: that is a programming error.
func (vs *Values) Get(key string) Value {
	v, ok := vs.Lookup(key)
	if !ok {
		panic("config: unknown setting " + key)
	}
	return v
}

// Lookup returns the value of the setting key and whether it exists.
func (vs *Values) Lookup(key string) (Value, bool) {
	if vs == nil {
		return Value{}, false
	}
	v, ok := vs.vals[key]
	return v, ok
}

// All returns every value in registration order.
func (vs *Values) All() []Value {
	out := make([]Value, 0, len(vs.order))
	for _, k := range vs.order {
		out = append(out, vs.vals[k])
	}
	return out
}

// SettingError is an invalid value of one setting. Its message names the
// setting, where the value came from (masked if secret), what is wrong and
// the ways to set it.
type SettingError struct {
	Key     string
	Source  Source
	Origin  string
	Value   string // masked
	Secret  bool
	Problem string // what is wrong and how to fix it
	Where   string // the ways to set the setting
}

func (e *SettingError) Error() string {
	var subject, loc string
	switch e.Source {
	case SourceFlag, SourceEnv:
		subject = e.Origin
	case SourceFile:
		subject, loc = e.Key, " in "+e.Origin
		if i := strings.LastIndexByte(e.Origin, ':'); i >= 0 {
			loc = " in " + e.Origin[:i] + " line " + e.Origin[i+1:]
		}
	default:
		subject = e.Source.String() + " " + e.Key
	}
	val := ""
	if !e.Secret {
		val = " " + strconv.Quote(e.Value)
	}
	return fmt.Sprintf("invalid %s%s%s: %s (%s)", subject, val, loc, e.Problem, e.Where)
}

// String returns s as text.
func (s Source) String() string { return string(s) }

// Resolve reads the settings of s from the flags in fs (only those defined
// there and set on the command line), the environment through lookupEnv and
// the configuration file named by --config in fs or PODIUM_CONFIG, applies
// the precedence flag > env > file > default, and parses and validates every
// value. Empty environment variables count as unset. All invalid values are
// reported, joined; each is a *SettingError.
func (s *Schema) Resolve(fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) (*Values, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	settings := s.snapshot()
	vs := &Values{vals: make(map[string]Value, len(settings))}
	for _, st := range settings {
		vs.order = append(vs.order, st.Key)
		vs.vals[st.Key] = Value{Key: st.Key, Raw: st.Default, Source: SourceDefault, Secret: st.Secret, kind: st.Kind}
	}

	// The file, named by flag or environment.
	if fs != nil {
		if f := fs.Lookup(FlagConfigFile); f != nil && f.Changed {
			vs.File, vs.FileOrigin = f.Value.String(), "flag --"+FlagConfigFile
		}
	}
	if vs.FileOrigin == "" {
		if p, ok := lookupEnv(EnvConfigFile); ok && p != "" {
			vs.File, vs.FileOrigin = p, "env "+EnvConfigFile
		}
	}
	if vs.File != "" {
		fileVals, err := readFile(vs.File, vs.FileOrigin, s)
		if err != nil {
			return nil, err
		}
		for k, fv := range fileVals {
			v := vs.vals[k]
			v.Raw, v.Source, v.Origin = fv.raw, SourceFile, fmt.Sprintf("%s:%d", vs.File, fv.line)
			vs.vals[k] = v
		}
	}

	for _, st := range settings {
		v := vs.vals[st.Key]
		if e, ok := lookupEnv(st.envName()); ok && e != "" {
			v.Raw, v.Source, v.Origin = e, SourceEnv, st.envName()
		}
		if fs != nil && st.Flag != "" {
			if f := fs.Lookup(st.Flag); f != nil && f.Changed {
				v.Raw, v.Source, v.Origin = f.Value.String(), SourceFlag, "--"+st.Flag
			}
		}
		vs.vals[st.Key] = v
	}

	var errs []error
	for _, st := range settings {
		v := vs.vals[st.Key]
		if !st.Secret {
			v.Raw = strings.TrimSpace(v.Raw)
		}
		raw, parsed, problem := check(st, v.Raw)
		if problem != "" {
			errs = append(errs, &SettingError{
				Key: st.Key, Source: v.Source, Origin: v.Origin, Value: MaskURL(v.Raw),
				Secret: st.Secret, Problem: problem, Where: st.where(),
			})
			continue
		}
		v.Raw, v.parsed = raw, parsed
		vs.vals[st.Key] = v
	}
	return vs, errors.Join(errs...)
}

// check parses and validates raw for st, returning the canonical text, the
// parsed value, or a problem.
func check(st *Setting, raw string) (string, any, string) {
	if raw == "" {
		if st.Default != "" {
			problem := "must not be empty"
			if h := hint(st); h != "" {
				problem += "; " + h
			}
			return "", nil, problem
		}
		if st.Kind == KindString {
			return "", "", ""
		}
		return "", zero(st.Kind), ""
	}
	parsed, err := parseKind(st.Kind, raw)
	if err != nil {
		return "", nil, hint(st)
	}
	if len(st.Allowed) > 0 {
		i := slices.IndexFunc(st.Allowed, func(a string) bool { return strings.EqualFold(a, raw) })
		if i < 0 {
			return "", nil, hint(st)
		}
		raw = st.Allowed[i]
		if st.Kind == KindString {
			parsed = raw
		}
	}
	if st.Check != nil {
		if err := st.Check(raw); err != nil {
			return "", nil, err.Error()
		}
	}
	return raw, parsed, ""
}

func zero(k Kind) any {
	switch k {
	case KindBool:
		return false
	case KindInt, KindBytes:
		return int64(0)
	case KindDuration:
		return time.Duration(0)
	}
	return ""
}

func parseKind(k Kind, raw string) (any, error) {
	switch k {
	case KindBool:
		return parseBool(raw)
	case KindInt:
		return strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	case KindDuration:
		return ParseDuration(raw)
	case KindBytes:
		return ParseBytes(raw)
	}
	return raw, nil
}

// hint says which values st accepts.
func hint(st *Setting) string {
	if len(st.Allowed) > 0 {
		return "use " + orList(st.Allowed)
	}
	switch st.Kind {
	case KindBool:
		return "use true or false"
	case KindInt:
		return "use a whole number"
	case KindDuration:
		return "use a duration such as 90m, 168h or 7d"
	case KindBytes:
		return "use a size such as 1073741824, 512MiB or 1GB"
	}
	return ""
}

// orList renders ["a", "b", "c"] as "a, b or c".
func orList(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
