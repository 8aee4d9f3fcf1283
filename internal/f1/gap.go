package f1

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// A gap to the leader is printed one way everywhere podium shows one — in
// Result.Time, the race page's classification and the live running order,
// whichever source it came from: "+1.234" for a time, "+1 LAP" and
// "+2 LAPS" for lapped cars.

// FormatGapSeconds prints a time gap in seconds: "+1.234".
func FormatGapSeconds(seconds float64) string {
	return "+" + strconv.FormatFloat(seconds, 'f', 3, 64)
}

// CanonicalGap returns a gap in the one format podium prints ("+1:14.385"
// becomes "+74.385", "+1 lap" "+1 LAP"); any other text (a winner's race
// time, "") is returned as it is.
func CanonicalGap(s string) string {
	if n, ok := ParseGapLaps(s); ok {
		return FormatGapLaps(n)
	}
	if strings.HasPrefix(strings.TrimSpace(s), "+") {
		if secs, ok := ParseGapSeconds(s); ok {
			return FormatGapSeconds(secs)
		}
	}
	return s
}

// ParseGapSeconds reads a time gap, "+20.886" or "+1:09.473" (the + is
// optional; "1:35:21.362" reads too), and returns it in seconds; ok is
// false for any other text.
func ParseGapSeconds(s string) (seconds float64, ok bool) {
	parts := strings.Split(strings.TrimPrefix(strings.TrimSpace(s), "+"), ":")
	if len(parts) > 3 {
		return 0, false
	}
	for _, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, false
		}
		seconds = seconds*60 + v
	}
	return seconds, true
}

// FormatGapLaps prints a gap of n laps: "+1 LAP", "+2 LAPS".
func FormatGapLaps(n int) string {
	if n == 1 {
		return "+1 LAP"
	}
	return "+" + strconv.Itoa(n) + " LAPS"
}

// gapLapsRE matches the ways sources write a lap gap: "+1 LAP", "+2 LAPS",
// "1L", "+3 laps".
var gapLapsRE = regexp.MustCompile(`(?i)^\+?\s*(\d{1,4})\s*(?:L|LAP|LAPS)$`)

// ParseGapLaps reads a lap gap ("+1 LAP", "+2 LAPS", "1L", "+3 laps") and
// returns its number of laps; ok is false for any other text.
func ParseGapLaps(s string) (laps int, ok bool) {
	m := gapLapsRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}
