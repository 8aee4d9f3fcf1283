package jetstream

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// streamPrefix starts the name of every stream podium manages; Topics lists
// only these.
const streamPrefix = "PODIUM_"

// maxNameLen is the longest stream or consumer name JetStream accepts.
const maxNameLen = 255

// streamName returns the JetStream stream that holds topic.
func streamName(topic string) string { return encodeName(streamPrefix, topic) }

// consumerName returns the durable consumer that keeps group's position.
func consumerName(group string) string { return encodeName("", group) }

// encodeName maps s to a valid JetStream name (no '.', '*', '>', '/', '\',
// whitespace) with a prefix-free code, so two different inputs never share
// a name:
//
//	'.'        -> "_"
//	'_'        -> "-_"
//	'-'        -> "--"
//	[A-Za-z0-9] -> itself
//	other byte -> "-" + two upper-case hex digits
//
// Names longer than JetStream allows are cut at a code boundary and end in
// "-h" plus a hash of s; no plain encoding contains "-h".
func encodeName(prefix, s string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(s) + 8)
	b.WriteString(prefix)
	const limit = maxNameLen - len("-h") - 16
	cut := b.Len() // last code boundary within limit
	for i := 0; i < len(s); i++ {
		if b.Len() <= limit {
			cut = b.Len()
		}
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '.':
			b.WriteByte('_')
		case c == '_':
			b.WriteString("-_")
		case c == '-':
			b.WriteString("--")
		default:
			fmt.Fprintf(&b, "-%02X", c)
		}
	}
	name := b.String()
	if len(name) <= maxNameLen {
		return name
	}
	sum := sha256.Sum256([]byte(s))
	return name[:cut] + "-h" + hex.EncodeToString(sum[:8])
}

// validateTopic checks that topic is usable as a NATS subject of its own:
// dot-separated non-empty tokens, no wildcards, no whitespace.
func validateTopic(topic string) error {
	if topic == "" {
		return fmt.Errorf("jetstream: empty topic name")
	}
	if strings.ContainsAny(topic, "*>") {
		return fmt.Errorf("jetstream: topic %q contains a wildcard ('*' or '>')", topic)
	}
	for _, r := range topic {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("jetstream: topic %q contains whitespace or a control character", topic)
		}
	}
	if strings.HasPrefix(topic, ".") || strings.HasSuffix(topic, ".") || strings.Contains(topic, "..") {
		return fmt.Errorf("jetstream: topic %q has an empty token", topic)
	}
	return nil
}
