package f1

import (
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
