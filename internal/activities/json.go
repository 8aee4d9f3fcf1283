package activities

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/podiumhq/podium/internal/jsonscan"
)

// DecodeJSON decodes data, an Activity in JSON, exactly as
// json.Unmarshal(data, &a) does: the same Activity and an error when, and
// only when, encoding/json gives one (its error). The common shape of an
// activity, an object whose members are plain JSON values of the fields'
// types, it decodes by hand (jsonscan), several times faster; whatever it
// is not sure to decode as encoding/json does makes it leave data to
// encoding/json: keys with escapes or outside ASCII, keys equal to a
// field's but for case (which encoding/json would match), a key given
// twice, null, values of other types than the field's, numbers an int
// field cannot hold, times time.Time does not read, invalid JSON or JSON
// nesting deeper than jsonscan.MaxDepth. Members of other keys are
// validated and ignored. FuzzDecodeJSON compares the two ways.
func DecodeJSON(data []byte) (Activity, error) {
	if a, ok := decodeJSONFast(data); ok {
		return a, nil
	}
	var a Activity
	err := json.Unmarshal(data, &a)
	return a, err
}

// The members of an Activity in JSON, in the order of activityKeys.
const (
	keyID = iota
	keyEmployeeID
	keyStartTime
	keySportType
	keyDistanceM
	keyElapsedS
	keyComment
	keySource
	keyUpdatedAt
	keyMovingS
	keyManual
	keyTrainer
	keyCommute
)

// activityKeys are the json names of Activity's fields.
var activityKeys = []string{"id", "employee_id", "start_time", "sport_type", "distance_m", "elapsed_s", "comment",
	"source", "updated_at", "moving_s", "manual", "trainer", "commute"}

// decodeJSONFast is DecodeJSON's hand-written path; ok is false when
// encoding/json must decode data.
func decodeJSONFast(data []byte) (a Activity, ok bool) {
	var seen uint32
	ok = jsonscan.Members(data, func(key, val []byte) bool {
		i, ok := jsonscan.MemberIndex(key, activityKeys, &seen)
		if !ok {
			return false
		}
		switch i {
		case keyID:
			a.ID, ok = jsonInt(val, 64)
		case keyEmployeeID:
			a.EmployeeID, ok = jsonString(val)
		case keyStartTime:
			ok = jsonTime(&a.StartTime, val)
		case keySportType:
			a.SportType, ok = jsonString(val)
		case keyDistanceM:
			a.DistanceM, ok = jsonFloat(val)
		case keyElapsedS:
			ok = jsonSetInt(&a.ElapsedS, val)
		case keyComment:
			a.Comment, ok = jsonString(val)
		case keySource:
			a.Source, ok = jsonString(val)
		case keyUpdatedAt:
			ok = jsonTime(&a.UpdatedAt, val)
		case keyMovingS:
			ok = jsonSetInt(&a.MovingS, val)
		case keyManual:
			a.Manual, ok = jsonBool(val)
		case keyTrainer:
			a.Trainer, ok = jsonBool(val)
		case keyCommute:
			a.Commute, ok = jsonBool(val)
		}
		return ok
	})
	return a, ok
}

// The decoders of one member's value, val (valid JSON, validated by
// jsonscan.Members), into a field as encoding/json decodes it; ok is false
// for null, a value of another type, or one encoding/json fails on.

// jsonString decodes a string field.
func jsonString(val []byte) (string, bool) {
	if val[0] != '"' {
		return "", false
	}
	s, err := jsonscan.Unquote(val)
	return s, err == nil
}

// jsonInt decodes an integer field of bits bits: encoding/json parses the
// number with strconv.ParseInt and fails when it is out of range or no
// integer ("1.0", "1e3").
func jsonInt(val []byte, bits int) (int64, bool) {
	if val[0] != '-' && (val[0] < '0' || val[0] > '9') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(val), 10, bits)
	return n, err == nil
}

// jsonSetInt decodes an int field into *dst.
func jsonSetInt(dst *int, val []byte) bool {
	n, ok := jsonInt(val, strconv.IntSize)
	*dst = int(n)
	return ok
}

// jsonFloat decodes a float64 field with strconv.ParseFloat, as
// encoding/json does (which fails beyond float64's range).
func jsonFloat(val []byte) (float64, bool) {
	if val[0] != '-' && (val[0] < '0' || val[0] > '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(val), 64)
	return f, err == nil
}

// jsonBool decodes a bool field.
func jsonBool(val []byte) (b, ok bool) {
	switch string(val) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// jsonTime decodes a time.Time field from a JSON string: encoding/json
// calls (*time.Time).UnmarshalJSON with the raw value, quotes included.
func jsonTime(dst *time.Time, val []byte) bool {
	return val[0] == '"' && dst.UnmarshalJSON(val) == nil
}
