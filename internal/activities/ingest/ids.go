package ingest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// The id ranges of the writers of sport_activities (see the package
// documentation). generate.LiveIDBase is 1<<60.
const (
	// StravaIDBase is added to Strava's activity ids.
	StravaIDBase int64 = 1 << 61
	// APIIDBase starts the ids of the API's activities.
	APIIDBase int64 = 3 << 60
	// idSpan is the size of the Strava and API ranges.
	idSpan int64 = 1 << 60
)

// StravaID returns the id in sport_activities of Strava's activity id.
func StravaID(stravaActivityID int64) (int64, error) {
	if stravaActivityID <= 0 || stravaActivityID >= idSpan {
		return 0, fmt.Errorf("Strava activity id %d out of range", stravaActivityID)
	}
	return StravaIDBase + stravaActivityID, nil
}

// StravaActivityID returns Strava's id of a Strava activity's id in
// sport_activities; ok is false for the ids of other writers.
func StravaActivityID(id int64) (stravaID int64, ok bool) {
	if id <= StravaIDBase || id >= StravaIDBase+idSpan {
		return 0, false
	}
	return id - StravaIDBase, true
}

// IsAPIID reports whether id lies in the API's range.
func IsAPIID(id int64) bool { return id >= APIIDBase && id < APIIDBase+idSpan }

// APIID returns the id the API assigns to an activity without one: a hash of
// the employee, the start time (to the microsecond, as stored) and the sport
// type, in the API's range. The same activity posted twice gets the same id.
func APIID(employeeID string, start time.Time, sportType string) int64 {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s", employeeID, start.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano), sportType)
	sum := h.Sum(nil)
	return APIIDBase + int64(binary.BigEndian.Uint64(sum[:8])&uint64(idSpan-1))
}
