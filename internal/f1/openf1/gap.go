package openf1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/podiumhq/podium/internal/f1"
)

// GapKind says what a Gap holds.
type GapKind uint8

// Gap kinds.
const (
	// GapNone is null or absent: the leader's interval, an unknown gap.
	GapNone GapKind = iota
	// GapTime is a time gap in Seconds.
	GapTime
	// GapLaps is a gap of Laps laps ("+1 LAP").
	GapLaps
	// GapTextual is a text OpenF1 sent that is neither, kept in Text.
	GapTextual
)

// Gap is OpenF1's gap_to_leader or interval: a number of seconds, a
// "+1 LAP" / "+N LAPS" text, or null. In qualifying session results it is
// an array of one gap per part (Parts).
type Gap struct {
	Kind    GapKind
	Seconds float64 // GapTime
	Laps    int     // GapLaps
	Text    string  // GapTextual
	Parts   []Gap   // Q1, Q2, Q3 when the field was an array
}

// SecondsGap returns a time gap.
func SecondsGap(s float64) Gap { return Gap{Kind: GapTime, Seconds: s} }

// LapsGap returns a gap of n laps.
func LapsGap(n int) Gap { return Gap{Kind: GapLaps, Laps: n} }

// ParseGap reads a gap as OpenF1 prints it: "+1 LAP", "+2 LAPS",
// "+20.886", "+1:09.473"; empty is GapNone and other text GapTextual.
func ParseGap(s string) Gap {
	s = strings.TrimSpace(s)
	if s == "" {
		return Gap{}
	}
	if n, ok := f1.ParseGapLaps(s); ok {
		return LapsGap(n)
	}
	if secs, ok := f1.ParseGapSeconds(s); ok {
		return SecondsGap(secs)
	}
	return Gap{Kind: GapTextual, Text: s}
}

// String prints the gap as a classification does: "+20.886", "+1 LAP",
// "+2 LAPS"; empty for GapNone.
func (g Gap) String() string {
	switch {
	case g.Parts != nil:
		ss := make([]string, 0, len(g.Parts))
		for _, p := range g.Parts {
			ss = append(ss, p.String())
		}
		return strings.Join(ss, " / ")
	case g.Kind == GapTime:
		return f1.FormatGapSeconds(g.Seconds)
	case g.Kind == GapLaps:
		return f1.FormatGapLaps(g.Laps)
	case g.Kind == GapTextual:
		return g.Text
	}
	return ""
}

// IsZero reports whether g is null.
func (g Gap) IsZero() bool { return g.Kind == GapNone && g.Parts == nil }

// UnmarshalJSON implements json.Unmarshaler.
func (g *Gap) UnmarshalJSON(b []byte) error {
	*g = Gap{}
	b = bytes.TrimSpace(b)
	switch {
	case isNull(b):
		return nil
	case b[0] == '[':
		parts := []Gap{}
		if err := json.Unmarshal(b, &parts); err != nil {
			return fmt.Errorf("openf1 gap %s: %w", b, err)
		}
		g.Parts = parts
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("openf1 gap %s: %w", b, err)
		}
		*g = ParseGap(s)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("openf1 gap %s: %w", b, err)
	}
	*g = SecondsGap(f)
	return nil
}

// MarshalJSON implements json.Marshaler in OpenF1's shape: a number of
// seconds, "+N LAP(S)", the original text, null, or an array.
func (g Gap) MarshalJSON() ([]byte, error) {
	switch {
	case g.Parts != nil:
		return json.Marshal(g.Parts)
	case g.Kind == GapTime:
		return json.Marshal(g.Seconds)
	case g.Kind == GapLaps, g.Kind == GapTextual:
		return json.Marshal(g.String())
	}
	return []byte("null"), nil
}
