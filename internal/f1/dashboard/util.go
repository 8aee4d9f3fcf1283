package dashboard

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/podiumhq/podium/internal/f1"
)

func containsInt(s []int, v int) bool { return slices.Contains(s, v) }

func sortDesc(s []int) { slices.SortFunc(s, func(a, b int) int { return cmp.Compare(b, a) }) }

func indexRound(rounds []f1.RoundInfo, round int) int {
	return slices.IndexFunc(rounds, func(r f1.RoundInfo) bool { return r.Round == round })
}

func indexSession(ss []f1.SessionInfo, session string) int {
	return slices.IndexFunc(ss, func(s f1.SessionInfo) bool { return s.Session == session })
}

// sessionOrder puts the sprint before the race, as f1.Rounds does.
func sessionOrder(s string) int {
	if s == f1.Sprint {
		return 0
	}
	return 1
}

func sortSessions(ss []f1.SessionInfo) {
	slices.SortStableFunc(ss, func(a, b f1.SessionInfo) int { return cmp.Compare(sessionOrder(a.Session), sessionOrder(b.Session)) })
}

func sortRounds(rs []f1.RoundInfo) {
	slices.SortStableFunc(rs, func(a, b f1.RoundInfo) int { return cmp.Compare(a.Round, b.Round) })
}

// initials returns the initials of a name: "Max Verstappen" → "MV", a
// single name's first two letters.
func initials(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r == '-' })
	first := func(w string) string {
		r, _ := utf8.DecodeRuneInString(w)
		return string(unicode.ToUpper(r))
	}
	switch len(words) {
	case 0:
		return "?"
	case 1:
		rs := []rune(words[0])
		return strings.ToUpper(string(rs[:min(2, len(rs))]))
	}
	return first(words[0]) + first(words[len(words)-1])
}

// lightColour reports whether a 6-hex-digit colour is light enough to need
// dark text on it.
func lightColour(hex string) bool {
	hex = strings.TrimPrefix(hex, "#")
	if len(hex) != 6 {
		return false
	}
	var rgb [3]float64
	for i := range rgb {
		var v int
		for _, c := range hex[2*i : 2*i+2] {
			v *= 16
			switch {
			case c >= '0' && c <= '9':
				v += int(c - '0')
			case c >= 'a' && c <= 'f':
				v += int(c-'a') + 10
			case c >= 'A' && c <= 'F':
				v += int(c-'A') + 10
			default:
				return false
			}
		}
		rgb[i] = float64(v) / 255
	}
	// Perceived brightness (ITU-R BT.601 weights).
	return 0.299*rgb[0]+0.587*rgb[1]+0.114*rgb[2] > 0.6
}
