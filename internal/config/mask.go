package config

import (
	"bytes"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Mask replaces a set secret in output.
const Mask = "****"

var (
	schemeRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://`)
	// secretParamRE matches password=..., token=..., secret=... in URL
	// queries and PostgreSQL keyword/value strings.
	secretParamRE = regexp.MustCompile(`(?i)((?:^|[?&;\s])[a-z_]*(?:password|passwd|pwd|token|secret)[a-z_]*=)('[^']*'|[^&;\s]*)`)
)

// MaskURL hides the passwords in s, which may be one URL, a comma-separated
// list of URLs or of hosts after one scheme, or plain text: the password of
// user:password@ (postgres://user:****@host/db), a bare NATS token
// (nats://****@host:4222), and password=, token= or secret= parameters.
// It errs on the side of masking too much: a URL that cannot be parsed is
// masked from its scheme to its last @.
func MaskURL(s string) string {
	locs := schemeRE.FindAllStringIndex(s, -1)
	if len(locs) > 0 {
		var b strings.Builder
		b.WriteString(s[:locs[0][0]])
		for i, loc := range locs {
			end := len(s)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			scheme := strings.ToLower(s[loc[0] : loc[1]-3])
			b.WriteString(s[loc[0]:loc[1]])
			b.WriteString(maskUserinfo(scheme, s[loc[1]:end]))
		}
		s = b.String()
	}
	return secretParamRE.ReplaceAllString(s, "${1}"+Mask)
}

// maskUserinfo masks the password in rest, the part of a URL after
// "scheme://". The userinfo ends at the last @, so that an unescaped @, /,
// : or , in a password is masked too.
func maskUserinfo(scheme, rest string) string {
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return rest
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	switch {
	case hasPass:
		return user + ":" + Mask + rest[at:]
	case scheme == "nats" || scheme == "tls" || scheme == "ws" || scheme == "wss":
		// nats://token@host: the user part is a token.
		return Mask + rest[at:]
	}
	return rest
}

// maskValue returns what may be shown of v.
func maskValue(v Value) string {
	if v.Secret {
		if v.Raw == "" {
			return ""
		}
		return Mask
	}
	return MaskURL(v.Raw)
}

// Effective is a configuration fit for printing: every setting with its
// value, secrets masked, and where the value came from. It marshals to JSON
// as is; YAML renders it as the nested configuration file layout with the
// sources as comments.
type Effective struct {
	// ConfigFile is the configuration file read, empty if none, and
	// ConfigFileSource who named it ("flag --config", "env PODIUM_CONFIG").
	ConfigFile       string             `json:"config_file,omitempty"`
	ConfigFileSource string             `json:"config_file_source,omitempty"`
	Settings         []EffectiveSetting `json:"settings"`
}

// EffectiveSetting is one setting of an Effective configuration.
type EffectiveSetting struct {
	// Key is the setting's key ("retention.max_age").
	Key string `json:"key"`
	// Value is the value as text, masked.
	Value string `json:"value"`
	// Source is where the value came from; Origin says precisely (the
	// flag, variable, or file:line), empty for defaults.
	Source Source `json:"source"`
	Origin string `json:"origin,omitempty"`
	// Secret marks a secret setting, whose Value is "****" when set.
	Secret bool `json:"secret,omitempty"`

	kind Kind
}

// Masked returns the values of vs with secrets masked.
func (vs *Values) Masked() Effective {
	e := Effective{ConfigFile: vs.File, ConfigFileSource: vs.FileOrigin, Settings: []EffectiveSetting{}}
	for _, v := range vs.All() {
		e.Settings = append(e.Settings, EffectiveSetting{
			Key: v.Key, Value: maskValue(v), Source: v.Source, Origin: v.Origin, Secret: v.Secret, kind: v.kind,
		})
	}
	return e
}

// YAML renders e as a YAML document laid out like the configuration file,
// with a comment after each value saying where it came from.
func (e Effective) YAML() []byte {
	head := "podium configuration, secrets masked; the comments say where each value comes from\n"
	if e.ConfigFile != "" {
		head += "config file: " + e.ConfigFile + " (" + e.ConfigFileSource + ")"
	} else {
		head += "no config file (set one with --config or " + EnvConfigFile + ")"
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: head, Content: []*yaml.Node{e.node()}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil { // cannot happen: the tree holds only scalars
		return []byte("# " + err.Error() + "\n")
	}
	_ = enc.Close()
	return buf.Bytes()
}

// String returns e as YAML.
func (e Effective) String() string { return string(e.YAML()) }

// MarshalYAML renders e as a mapping laid out like the configuration file.
func (e Effective) MarshalYAML() (any, error) { return e.node(), nil }

func (e Effective) node() *yaml.Node {
	root := &yaml.Node{Kind: yaml.MappingNode}
	sections := map[string]*yaml.Node{"": root}
	for _, s := range e.Settings {
		parent, prefix := root, ""
		parts := strings.Split(s.Key, ".")
		for _, p := range parts[:len(parts)-1] {
			if prefix != "" {
				prefix += "."
			}
			prefix += p
			m, ok := sections[prefix]
			if !ok {
				m = &yaml.Node{Kind: yaml.MappingNode}
				parent.Content = append(parent.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: p}, m)
				sections[prefix] = m
			}
			parent = m
		}
		val := &yaml.Node{Kind: yaml.ScalarNode, Value: s.Value, LineComment: describe(s.Source, s.Origin)}
		if s.kind == KindString {
			val.Tag = "!!str"
		}
		parent.Content = append(parent.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: parts[len(parts)-1]}, val)
	}
	return root
}

func describe(src Source, origin string) string {
	return Value{Source: src, Origin: origin}.describe()
}
