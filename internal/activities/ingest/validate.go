package ingest

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/podiumhq/podium/internal/activities"
)

// Limits of a plausible activity.
const (
	// MaxDistanceM is the longest distance accepted: 1,000 km.
	MaxDistanceM = 1_000_000
	// MaxElapsed is the longest duration accepted: a week.
	MaxElapsed = 7 * 24 * time.Hour
	// MaxSpeedKmh is the highest average speed accepted.
	MaxSpeedKmh = 120
	// MaxComment is the longest comment accepted, in characters.
	MaxComment = 500
	// MaxEmployeeID is the longest employee id accepted, in characters.
	MaxEmployeeID = 64
	// futureSlack is how far in the future an activity may start (clocks
	// differ).
	futureSlack = time.Hour
)

// minStart is the earliest start time accepted.
var minStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// FieldError is an activity refused: the field at fault and why.
type FieldError struct {
	// Field is the JSON name of the field, empty when the activity as a
	// whole is at fault.
	Field string
	// Index is the position of the activity in a batch, -1 for a single
	// one.
	Index int
	Msg   string
	// BadBytes marks bytes no text column keeps (NUL, control
	// characters, invalid UTF-8): the request is malformed (400), not
	// merely invalid (422).
	BadBytes bool
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// fieldErr returns a FieldError of a single activity.
func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Index: -1, Msg: fmt.Sprintf(format, args...)}
}

// badBytes is fieldErr for bytes no text column keeps.
func badBytes(field, format string, args ...any) *FieldError {
	fe := fieldErr(field, format, args...)
	fe.BadBytes = true
	return fe
}

// Check reports the first implausible value of a (whatever its writer), at
// now: an empty or odd employee id, a start time before 2000 or in the
// future, an unknown sport type, a negative, huge or too fast distance, a
// duration that is not positive or longer than a week, a long comment.
func Check(a activities.Activity, now time.Time) *FieldError {
	switch {
	case strings.TrimSpace(a.EmployeeID) == "":
		return fieldErr("employee_id", "is empty: give the employee id of the HR register")
	case utf8.RuneCountInString(a.EmployeeID) > MaxEmployeeID:
		return fieldErr("employee_id", "is longer than %d characters", MaxEmployeeID)
	case !utf8.ValidString(a.EmployeeID):
		return badBytes("employee_id", "is not valid UTF-8")
	case strings.IndexFunc(a.EmployeeID, unicode.IsControl) >= 0:
		return badBytes("employee_id", "holds control characters")
	}
	if a.StartTime.Before(minStart) {
		return fieldErr("start_time", "%s is before %s", a.StartTime.UTC().Format(time.RFC3339), minStart.Format("2006-01-02"))
	}
	if a.StartTime.After(now.Add(futureSlack)) {
		return fieldErr("start_time", "%s is in the future", a.StartTime.UTC().Format(time.RFC3339))
	}
	if _, ok := NormalizeSport(a.SportType); !ok {
		return fieldErr("sport_type", "unknown sport type %q: use one of %s", a.SportType, strings.Join(sportTypes, ", "))
	}
	switch {
	case math.IsNaN(a.DistanceM) || math.IsInf(a.DistanceM, 0):
		return fieldErr("distance_m", "is not a number")
	case a.DistanceM < 0:
		return fieldErr("distance_m", "%g is negative", a.DistanceM)
	case a.DistanceM > MaxDistanceM:
		return fieldErr("distance_m", "%g m is implausible: at most %d km", a.DistanceM, MaxDistanceM/1000)
	}
	switch {
	case a.ElapsedS <= 0:
		return fieldErr("elapsed_s", "must be a positive number of seconds, got %d", a.ElapsedS)
	case time.Duration(a.ElapsedS)*time.Second > MaxElapsed:
		return fieldErr("elapsed_s", "%d s is implausible: at most a week (%d s)", a.ElapsedS, int(MaxElapsed.Seconds()))
	}
	if kmh := a.DistanceM / float64(a.ElapsedS) * 3.6; kmh > MaxSpeedKmh {
		return fieldErr("distance_m", "%g m in %d s is %.0f km/h on average: implausible (at most %d km/h)", a.DistanceM, a.ElapsedS, kmh, MaxSpeedKmh)
	}
	switch {
	case !utf8.ValidString(a.Comment):
		return badBytes("comment", "is not valid UTF-8")
	case strings.ContainsRune(a.Comment, 0):
		return badBytes("comment", "holds a NUL character (\\u0000), which no text column can keep: remove it")
	case utf8.RuneCountInString(a.Comment) > MaxComment:
		return fieldErr("comment", "is longer than %d characters", MaxComment)
	}
	return nil
}
