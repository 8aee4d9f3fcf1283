package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/podiumhq/podium/internal/suggest"
)

// fileValue is a setting's value in the configuration file.
type fileValue struct {
	raw  string
	line int
}

// readFile reads the YAML configuration file path, named by origin: mappings of the keys of
// the settings of s. Unknown keys, duplicate keys, lists and values where a
// mapping is expected (and the reverse) are errors naming the key and line.
// Null values (key: with nothing after it, or ~) count as unset.
//
// The file is walked as a yaml.Node tree rather than decoded into a struct
// with KnownFields(true) because the set of keys is open: any package may
// Register settings, in sections of their own.
func readFile(path, origin string, s *Schema) (map[string]fileValue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file (set by %s): %w", origin, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) { // empty file
			return nil, nil
		}
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config file %s holds more than one YAML document: keep one", path)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}

	settings := s.snapshot()
	w := walker{path: path, out: map[string]fileValue{}, keys: map[string]bool{}, sections: map[string]bool{}}
	for _, st := range settings {
		w.keys[st.Key] = true
		parts := strings.Split(st.Key, ".")
		for i := 1; i < len(parts); i++ {
			w.sections[strings.Join(parts[:i], ".")] = true
		}
	}
	if err := w.mapping(root, ""); err != nil {
		return nil, err
	}
	return w.out, nil
}

type walker struct {
	path     string
	keys     map[string]bool // setting keys
	sections map[string]bool // key prefixes that are mappings
	out      map[string]fileValue
}

// mapping walks the mapping n found at section prefix ("" at the top).
func (w *walker) mapping(n *yaml.Node, prefix string) error {
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		what := "the config file"
		if prefix != "" {
			what = fmt.Sprintf("%q", prefix)
		}
		return fmt.Errorf("config file %s line %d: %s must be a mapping of %s", w.path, n.Line, what, strings.Join(w.children(prefix), ", "))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], resolveAlias(n.Content[i+1])
		if kn.Kind != yaml.ScalarNode {
			return fmt.Errorf("config file %s line %d: keys must be plain names", w.path, kn.Line)
		}
		if kn.Value == "<<" {
			return fmt.Errorf("config file %s line %d: merge keys (<<) are not supported", w.path, kn.Line)
		}
		key := kn.Value
		if prefix != "" {
			key = prefix + "." + kn.Value
		}
		if seen[kn.Value] {
			return fmt.Errorf("config file %s line %d: key %q appears twice", w.path, kn.Line, key)
		}
		seen[kn.Value] = true
		switch {
		case w.keys[key]:
			switch {
			case vn.Kind == yaml.ScalarNode && vn.Tag == "!!null":
				// unset
			case vn.Kind == yaml.ScalarNode:
				w.out[key] = fileValue{raw: vn.Value, line: vn.Line}
			default:
				return fmt.Errorf("config file %s line %d: %q must be a single value, not a list or mapping", w.path, vn.Line, key)
			}
		case w.sections[key]:
			if vn.Kind == yaml.ScalarNode && vn.Tag == "!!null" {
				continue // an empty section
			}
			if err := w.mapping(vn, key); err != nil {
				return err
			}
		default:
			msg := fmt.Sprintf("config file %s line %d: unknown key %q", w.path, kn.Line, key)
			known := w.children(prefix)
			if s := closest(kn.Value, known); s != "" {
				if prefix != "" {
					s = prefix + "." + s
				}
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			where := "at the top level"
			if prefix != "" {
				where = "in " + prefix
			}
			return fmt.Errorf("%s; known keys %s: %s", msg, where, strings.Join(known, ", "))
		}
	}
	return nil
}

// children lists the names directly under section prefix, sorted.
func (w *walker) children(prefix string) []string {
	set := map[string]bool{}
	for k := range w.keys {
		rest, ok := k, prefix == ""
		if !ok {
			rest, ok = strings.CutPrefix(k, prefix+".")
		}
		if ok {
			name, _, _ := strings.Cut(rest, ".")
			set[name] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// closest returns the candidate nearest to s if it is near enough to be a
// likely typo.
func closest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := suggest.Distance(s, c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}
