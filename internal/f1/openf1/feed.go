package openf1

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The follower reads OpenF1 rows from three sources — REST lists, MQTT
// messages (the same rows with "_id" and "_key" added) and recordings — and
// decodes every one with DecodeRow, so that a row means the same whichever
// way it came.

// feedEndpoints are the endpoints the follower reads, in the order their
// rows of one REST poll are handled.
var feedEndpoints = []string{
	EndpointSessions, EndpointMeetings, EndpointDrivers, EndpointStartingGrid,
	EndpointPosition, EndpointIntervals, EndpointLaps, EndpointPit, EndpointRaceControl,
	EndpointSessionResult,
}

// maxRow caps one row: OpenF1's largest (a lap with its mini-sectors) is
// under 1 kB.
const maxRow = 64 << 10

// DecodeRow decodes one OpenF1 row of endpoint (one of the Endpoint…
// constants the follower reads) into its type: Session, Meeting, Driver,
// StartingGrid, Position, Interval, Lap, Pit, RaceControl or
// SessionResult. raw is the row as REST lists it, as MQTT pushes it (its
// "_id" and "_key" fields are ignored) or as a recording holds it. A row
// that is not a JSON object, has a field of the wrong type, or lacks the
// keys that place it (session_key; driver_number for a car's row) is an
// error.
func DecodeRow(endpoint string, raw []byte) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > maxRow {
		return nil, fmt.Errorf("openf1 %s row: %d bytes, more than %d", endpoint, len(raw), maxRow)
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("openf1 %s row: not a JSON object", endpoint)
	}
	var (
		v   any
		err error
	)
	switch endpoint {
	case EndpointSessions:
		v, err = decodeAs[Session](raw)
	case EndpointMeetings:
		v, err = decodeAs[Meeting](raw)
	case EndpointDrivers:
		v, err = decodeAs[Driver](raw)
	case EndpointStartingGrid:
		v, err = decodeAs[StartingGrid](raw)
	case EndpointPosition:
		v, err = decodeAs[Position](raw)
	case EndpointIntervals:
		v, err = decodeAs[Interval](raw)
	case EndpointLaps:
		v, err = decodeAs[Lap](raw)
	case EndpointPit:
		v, err = decodeAs[Pit](raw)
	case EndpointRaceControl:
		v, err = decodeAs[RaceControl](raw)
	case EndpointSessionResult:
		v, err = decodeAs[SessionResult](raw)
	default:
		return nil, fmt.Errorf("openf1: endpoint %q is not one the follower reads", endpoint)
	}
	if err != nil {
		return nil, fmt.Errorf("openf1 %s row: %w", endpoint, err)
	}
	if err := checkRow(v); err != nil {
		return nil, fmt.Errorf("openf1 %s row: %w", endpoint, err)
	}
	return v, nil
}

func decodeAs[T any](raw []byte) (T, error) {
	var v T
	err := json.Unmarshal(raw, &v)
	return v, err
}

// checkRow checks the keys that place a row.
func checkRow(v any) error {
	if _, ok := v.(Meeting); ok {
		if v.(Meeting).MeetingKey < 1 {
			return errors.New("no meeting_key")
		}
		return nil
	}
	if rowSessionKey(v) < 1 {
		return errors.New("no session_key")
	}
	switch v.(type) {
	case Session, RaceControl: // race control may be about no car
	default:
		if rowCar(v) < 1 {
			return errors.New("no driver_number")
		}
	}
	return nil
}

// rowSessionKey is the session_key of a decoded row, 0 for a meeting.
func rowSessionKey(v any) int {
	switch r := v.(type) {
	case Session:
		return r.SessionKey
	case Driver:
		return r.SessionKey
	case StartingGrid:
		return r.SessionKey
	case Position:
		return r.SessionKey
	case Interval:
		return r.SessionKey
	case Lap:
		return r.SessionKey
	case Pit:
		return r.SessionKey
	case RaceControl:
		return r.SessionKey
	case SessionResult:
		return r.SessionKey
	}
	return 0
}

// rowCar is the driver_number of a decoded row, 0 when it has none.
func rowCar(v any) int {
	switch r := v.(type) {
	case Driver:
		return r.DriverNumber
	case StartingGrid:
		return r.DriverNumber
	case Position:
		return r.DriverNumber
	case Interval:
		return r.DriverNumber
	case Lap:
		return r.DriverNumber
	case Pit:
		return r.DriverNumber
	case RaceControl:
		if r.DriverNumber != nil {
			return *r.DriverNumber
		}
	case SessionResult:
		return r.DriverNumber
	}
	return 0
}

// rowIdentity names the thing a decoded row is a version of — the same
// identity with another content is an update of it (a lap being
// completed, an amended result) — and the row's date, zero when it has
// none. The identity does not depend on the source: a row OpenF1 gives
// over REST and again over MQTT has one identity and one content hash.
func rowIdentity(v any) (ident string, at time.Time) {
	car := func(n int) string { return strconv.Itoa(n) }
	switch r := v.(type) {
	case Session:
		return "session/" + car(r.SessionKey), r.DateStart.Time
	case Meeting:
		return "meeting/" + car(r.MeetingKey), r.DateStart.Time
	case Driver:
		return "driver/" + car(r.DriverNumber), time.Time{}
	case StartingGrid:
		return "grid/" + car(r.DriverNumber), time.Time{}
	case Position:
		return "position/" + car(r.DriverNumber) + "/" + tsKey(r.Date.Time), r.Date.Time
	case Interval:
		return "interval/" + car(r.DriverNumber) + "/" + tsKey(r.Date.Time), r.Date.Time
	case Lap:
		return "lap/" + car(r.DriverNumber) + "/" + car(r.LapNumber), r.DateStart.Time
	case Pit:
		return "pit/" + car(r.DriverNumber) + "/" + car(r.LapNumber), r.Date.Time
	case RaceControl:
		sum := sha256.Sum256([]byte(r.Category + "\x00" + r.Message))
		return "race_control/" + tsKey(r.Date.Time) + "/" + hex.EncodeToString(sum[:6]), r.Date.Time
	case SessionResult:
		return "result/" + car(r.DriverNumber), time.Time{}
	}
	return "", time.Time{}
}

// rowHash hashes a decoded row's content, re-encoded: the same row hashes
// the same from REST (OpenF1's key order) and from MQTT (with _id, _key).
func rowHash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return contentHash(b)
}

func tsKey(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
