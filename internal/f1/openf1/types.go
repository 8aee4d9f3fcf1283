package openf1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Meeting is one row of /v1/meetings: a Grand Prix or testing weekend.
type Meeting struct {
	MeetingKey          int    `json:"meeting_key"`
	MeetingName         string `json:"meeting_name"` // e.g. "Bahrain Grand Prix"
	MeetingOfficialName string `json:"meeting_official_name"`
	Location            string `json:"location"`
	CountryKey          int    `json:"country_key"`
	CountryCode         string `json:"country_code"`
	CountryName         string `json:"country_name"`
	CircuitKey          int    `json:"circuit_key"`
	CircuitShortName    string `json:"circuit_short_name"`
	DateStart           Time   `json:"date_start"`
	DateEnd             Time   `json:"date_end"`
	GMTOffset           string `json:"gmt_offset"` // e.g. "03:00:00", "-05:00:00"
	Year                int    `json:"year"`
}

// Session is one row of /v1/sessions.
type Session struct {
	SessionKey       int    `json:"session_key"`
	SessionName      string `json:"session_name"` // "Race", "Sprint", "Qualifying", "Practice 1", ...
	SessionType      string `json:"session_type"` // "Race", "Qualifying", "Practice"
	MeetingKey       int    `json:"meeting_key"`
	DateStart        Time   `json:"date_start"`
	DateEnd          Time   `json:"date_end"`
	GMTOffset        string `json:"gmt_offset"`
	Year             int    `json:"year"`
	Location         string `json:"location"`
	CountryKey       int    `json:"country_key"`
	CountryCode      string `json:"country_code"`
	CountryName      string `json:"country_name"`
	CircuitKey       int    `json:"circuit_key"`
	CircuitShortName string `json:"circuit_short_name"`
}

// LocalDate returns the session's start date in the circuit's time zone
// (date_start shifted by gmt_offset), as YYYY-MM-DD; empty when unknown.
func (s Session) LocalDate() string {
	if s.DateStart.IsZero() {
		return ""
	}
	return s.DateStart.Add(parseGMTOffset(s.GMTOffset)).Format(time.DateOnly)
}

// parseGMTOffset reads OpenF1's "03:00:00" / "-05:00:00"; zero when unreadable.
func parseGMTOffset(s string) time.Duration {
	s = strings.TrimSpace(s)
	sign := time.Duration(1)
	switch {
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0
	}
	var d time.Duration
	units := []time.Duration{time.Hour, time.Minute, time.Second}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0
		}
		d += time.Duration(n) * units[i]
	}
	return sign * d
}

// Driver is one row of /v1/drivers: a driver as entered in one session.
type Driver struct {
	DriverNumber  int    `json:"driver_number"`
	BroadcastName string `json:"broadcast_name"` // "M VERSTAPPEN"
	FullName      string `json:"full_name"`      // "Max VERSTAPPEN"
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	NameAcronym   string `json:"name_acronym"` // "VER"
	TeamName      string `json:"team_name"`
	// TeamColour is normalised: 6 upper-case hex digits without '#', empty
	// when OpenF1 has none.
	TeamColour  Colour `json:"team_colour"`
	HeadshotURL string `json:"headshot_url"`
	CountryCode string `json:"country_code"`
	SessionKey  int    `json:"session_key"`
	MeetingKey  int    `json:"meeting_key"`
}

// Name returns the driver's name as podium prints it: "Max Verstappen".
func (d Driver) Name() string {
	if d.FirstName != "" && d.LastName != "" {
		return d.FirstName + " " + d.LastName
	}
	return titleName(d.FullName)
}

// titleName turns OpenF1's "Max VERSTAPPEN" into "Max Verstappen".
func titleName(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if w == strings.ToUpper(w) {
			r := []rune(strings.ToLower(w))
			if len(r) > 0 {
				r[0] = []rune(strings.ToUpper(string(r[0])))[0]
			}
			words[i] = string(r)
		}
	}
	return strings.Join(words, " ")
}

// SessionResult is one row of /v1/session_result: a car's standing after a
// session.
type SessionResult struct {
	SessionKey   int `json:"session_key"`
	MeetingKey   int `json:"meeting_key"`
	DriverNumber int `json:"driver_number"`
	// Position is nil when OpenF1 gives none (typically DNF, DNS or DSQ).
	Position     *int     `json:"position"`
	NumberOfLaps int      `json:"number_of_laps"`
	Points       *float64 `json:"points"`
	DNF          bool     `json:"dnf"`
	DNS          bool     `json:"dns"`
	DSQ          bool     `json:"dsq"`
	// Duration is the race time (races) or best lap (practice); an array
	// of Q1/Q2/Q3 in qualifying.
	Duration Duration `json:"duration"`
	// GapToLeader is 0 for the winner, seconds, "+N LAP(S)", null, or an
	// array of Q1/Q2/Q3 gaps in qualifying.
	GapToLeader Gap `json:"gap_to_leader"`
}

// StartingGrid is one row of /v1/starting_grid, keyed by the race session.
type StartingGrid struct {
	SessionKey   int      `json:"session_key"`
	MeetingKey   int      `json:"meeting_key"`
	DriverNumber int      `json:"driver_number"`
	Position     *int     `json:"position"`
	LapDuration  *float64 `json:"lap_duration"` // the qualifying lap
}

// Position is one row of /v1/position: a car's place in the running order
// from Date on.
type Position struct {
	Date         Time `json:"date"`
	SessionKey   int  `json:"session_key"`
	MeetingKey   int  `json:"meeting_key"`
	DriverNumber int  `json:"driver_number"`
	Position     *int `json:"position"`
}

// Interval is one row of /v1/intervals (races only, about every 4 s).
type Interval struct {
	Date         Time `json:"date"`
	SessionKey   int  `json:"session_key"`
	MeetingKey   int  `json:"meeting_key"`
	DriverNumber int  `json:"driver_number"`
	GapToLeader  Gap  `json:"gap_to_leader"` // null (or 0) for the leader
	Interval     Gap  `json:"interval"`      // to the car ahead
}

// Lap is one row of /v1/laps. A lap's row appears when it starts and is
// completed (sectors, duration) as the lap is run.
type Lap struct {
	SessionKey      int      `json:"session_key"`
	MeetingKey      int      `json:"meeting_key"`
	DriverNumber    int      `json:"driver_number"`
	LapNumber       int      `json:"lap_number"`
	DateStart       Time     `json:"date_start"` // approximate; null on some first laps
	LapDuration     *float64 `json:"lap_duration"`
	IsPitOutLap     bool     `json:"is_pit_out_lap"`
	DurationSector1 *float64 `json:"duration_sector_1"`
	DurationSector2 *float64 `json:"duration_sector_2"`
	DurationSector3 *float64 `json:"duration_sector_3"`
	I1Speed         *int     `json:"i1_speed"`
	I2Speed         *int     `json:"i2_speed"`
	STSpeed         *int     `json:"st_speed"`
	SegmentsSector1 []*int   `json:"segments_sector_1"`
	SegmentsSector2 []*int   `json:"segments_sector_2"`
	SegmentsSector3 []*int   `json:"segments_sector_3"`
}

// Pit is one row of /v1/pit: a car going through the pit lane.
type Pit struct {
	Date         Time     `json:"date"`
	SessionKey   int      `json:"session_key"`
	MeetingKey   int      `json:"meeting_key"`
	DriverNumber int      `json:"driver_number"`
	LapNumber    int      `json:"lap_number"`
	PitDuration  *float64 `json:"pit_duration"` // pit lane entry to exit, seconds
	LaneDuration *float64 `json:"lane_duration"`
	StopDuration *float64 `json:"stop_duration"`
}

// RaceControl is one row of /v1/race_control: flags, safety car, incidents.
type RaceControl struct {
	Date         Time   `json:"date"`
	SessionKey   int    `json:"session_key"`
	MeetingKey   int    `json:"meeting_key"`
	DriverNumber *int   `json:"driver_number"` // nil unless the message is about one car
	LapNumber    *int   `json:"lap_number"`
	Category     string `json:"category"` // "Flag", "SafetyCar", "Drs", "CarEvent", "Other"
	Flag         string `json:"flag"`     // "GREEN", "YELLOW", "RED", "CHEQUERED", ...; empty when null
	Scope        string `json:"scope"`    // "Track", "Driver", "Sector"
	Sector       *int   `json:"sector"`
	Message      string `json:"message"`
}

// Time is an OpenF1 timestamp. It reads ISO 8601 with or without an offset
// (no offset means UTC) and null (the zero Time).
type Time struct{ time.Time }

// timeLayouts are the forms OpenF1 timestamps come in.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	time.DateOnly,
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("openf1 time %s: %w", b, err)
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			// A year 0 with an offset east of UTC is in year -1 in UTC,
			// which ISO 8601 without expansion cannot write.
			if y := v.UTC().Year(); y < 1 || y > 9999 {
				return fmt.Errorf("openf1 time %q: year %d in UTC, out of range", s, y)
			}
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("openf1 time %q: not ISO 8601", s)
}

// MarshalJSON implements json.Marshaler: RFC 3339 in UTC, null when zero.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// Colour is a team colour as 6 upper-case hex digits without '#' ("3671C6").
// It reads OpenF1's team_colour, which may be null, lower-case or carry a
// leading '#'.
type Colour string

// UnmarshalJSON implements json.Unmarshaler.
func (c *Colour) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*c = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("openf1 team colour %s: %w", b, err)
	}
	*c = Colour(NormalizeColour(s))
	return nil
}

// NormalizeColour strips spaces and a leading '#' and upper-cases a hex
// colour of 3 or 6 digits (3 doubled to 6); any other value is returned
// without its outer spaces but otherwise unchanged, so that nothing is
// lost. Normalising twice gives what normalising once does.
func NormalizeColour(s string) string {
	s = strings.TrimSpace(s)
	hex := strings.TrimSpace(strings.TrimPrefix(s, "#"))
	if len(hex) != 3 && len(hex) != 6 {
		return s
	}
	for _, r := range hex {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return s
		}
	}
	hex = strings.ToUpper(hex)
	if len(hex) == 3 { // short form: "F00" → "FF0000"
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	return hex
}

// Duration is a time in seconds that OpenF1 gives as a number, null, or (in
// qualifying) an array with one value per part.
type Duration struct {
	Seconds float64
	Valid   bool       // false for null
	Parts   []Duration // Q1, Q2, Q3 when the field was an array
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	*d = Duration{}
	b = bytes.TrimSpace(b)
	switch {
	case isNull(b):
		return nil
	case len(b) > 0 && b[0] == '[':
		return json.Unmarshal(b, &d.Parts)
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("openf1 duration %s: %w", b, err)
	}
	d.Seconds, d.Valid = f, true
	return nil
}

// MarshalJSON implements json.Marshaler in OpenF1's shape.
func (d Duration) MarshalJSON() ([]byte, error) {
	switch {
	case d.Parts != nil:
		return json.Marshal(d.Parts)
	case !d.Valid:
		return []byte("null"), nil
	}
	return json.Marshal(d.Seconds)
}

func isNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" || len(b) == 0 }
