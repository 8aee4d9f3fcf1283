// Package suggest words the error for a name podium does not know (a topic,
// a stage, a session, a table): what was given, the closest known names
// ("did you mean") and the list of known ones.
package suggest

import (
	"fmt"
	"slices"
	"strings"
)

// maxDistance is the largest edit distance a suggestion may have.
const maxDistance = 2

// Closest returns the known names within a small edit distance of name, or
// that start with it or contain it, nearest first.
func Closest(name string, known []string) []string {
	type cand struct {
		s string
		d int
	}
	var cs []cand
	lower := strings.ToLower(name)
	for _, k := range known {
		kl := strings.ToLower(k)
		if kl == lower {
			continue
		}
		d := Distance(lower, kl)
		switch {
		case d <= maxDistance:
		case len(lower) >= 3 && strings.Contains(kl, lower):
			d = maxDistance + 1
		default:
			continue
		}
		cs = append(cs, cand{k, d})
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return a.d - b.d })
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		if !slices.Contains(out, c.s) {
			out = append(out, c.s)
		}
	}
	return out
}

// Error is the error for an unknown name of a kind ("topic", "stage").
type Error struct {
	Kind  string
	Name  string
	Known []string
	// Hint ends the message, e.g. how to list them.
	Hint string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unknown %s %q", e.Kind, e.Name)
	if s := Closest(e.Name, e.Known); len(s) > 0 {
		fmt.Fprintf(&b, ": did you mean %q?", s[0])
	}
	if len(e.Known) > 0 {
		fmt.Fprintf(&b, " (known: %s)", strings.Join(e.Known, ", "))
	} else {
		fmt.Fprintf(&b, " (there is no %s yet)", e.Kind)
	}
	if e.Hint != "" {
		b.WriteString("; " + e.Hint)
	}
	return b.String()
}

// Check returns nil when name is one of known, else an *Error.
func Check(kind, name string, known []string) error {
	if slices.Contains(known, name) {
		return nil
	}
	return &Error{Kind: kind, Name: name, Known: known}
}

// Distance is the Levenshtein distance of a and b, in runes: the one
// measure of "close" of podium's suggestions (settings, sports, names).
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
