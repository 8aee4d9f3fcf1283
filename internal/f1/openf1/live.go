package openf1

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/f1"
)

// Kinds of LiveUpdate.
const (
	KindPosition    = "position"
	KindInterval    = "interval"
	KindLap         = "lap"
	KindRaceControl = "race_control"
	KindPit         = "pit"
	// KindDriver names a car's driver and team (OpenF1's drivers row):
	// published before the car's first other update, so that a page names
	// the driver from the start.
	KindDriver = "driver"
	// KindSource says where the follower gets the session from (Source)
	// and, when Fallback is set, why it fell back (Message).
	KindSource = "source"
)

// LiveUpdate is one message of f1.live: a change in a live session's
// running order (position), gaps (interval), a lap, a pit stop, a
// race-control message, a car's driver, or the follower's source. Its
// fields other than the identity are those of the OpenF1 row it comes
// from, under the same JSON names; gaps keep OpenF1's shape (seconds,
// "+1 LAP", or absent for the leader).
//
// Messages are keyed season/round/session/driver_number, or
// season/round/session for race control and source changes, so that one
// car's updates (and the race-control messages) are read in order.
type LiveUpdate struct {
	Kind       string `json:"kind"` // one of the Kind… constants
	Season     int    `json:"season"`
	Round      int    `json:"round"`   // 0 when unknown (testing)
	Session    string `json:"session"` // f1.Race, f1.Sprint, or e.g. "QUALIFYING"
	SessionKey int    `json:"session_key"`
	MeetingKey int    `json:"meeting_key,omitempty"`
	GrandPrix  string `json:"grand_prix,omitempty"`
	// Source is where the row came from: f1.SourceOpenF1MQTT,
	// f1.SourceOpenF1REST or f1.SourceFile.
	Source string `json:"source,omitempty"`
	// DriverNumber is the car, 0 for race-control messages about no car.
	DriverNumber int    `json:"driver_number,omitempty"`
	DriverCode   string `json:"driver_code,omitempty"` // e.g. "VER"
	// Date is when it happened (a lap's start for laps); zero when OpenF1
	// has no date (some first laps).
	Date time.Time `json:"date,omitzero"`

	// driver
	DriverName  string `json:"driver_name,omitempty"` // "Max Verstappen"
	TeamName    string `json:"team_name,omitempty"`
	TeamColour  string `json:"team_colour,omitempty"` // 6 hex digits
	HeadshotURL string `json:"headshot_url,omitempty"`
	// position
	Position *int `json:"position,omitempty"`
	// interval
	GapToLeader *Gap `json:"gap_to_leader,omitempty"`
	Interval    *Gap `json:"interval,omitempty"`
	// lap, pit and race control
	LapNumber int `json:"lap_number,omitempty"`
	// lap
	LapDuration     *float64 `json:"lap_duration,omitempty"`
	DurationSector1 *float64 `json:"duration_sector_1,omitempty"`
	DurationSector2 *float64 `json:"duration_sector_2,omitempty"`
	DurationSector3 *float64 `json:"duration_sector_3,omitempty"`
	IsPitOutLap     bool     `json:"is_pit_out_lap,omitempty"`
	STSpeed         *int     `json:"st_speed,omitempty"`
	// pit
	PitDuration  *float64 `json:"pit_duration,omitempty"`
	StopDuration *float64 `json:"stop_duration,omitempty"`
	// race control
	Category string `json:"category,omitempty"`
	Flag     string `json:"flag,omitempty"`
	Scope    string `json:"scope,omitempty"`
	Sector   *int   `json:"sector,omitempty"`
	Message  string `json:"message,omitempty"` // also the reason of a fallback
	// source
	Fallback bool `json:"fallback,omitempty"`
}

// Key returns the message key of u on f1.live.
func (u LiveUpdate) Key() string {
	k := strconv.Itoa(u.Season) + "/" + strconv.Itoa(u.Round) + "/" + u.Session
	if u.Kind == KindRaceControl || u.Kind == KindSource {
		return k
	}
	return k + "/" + strconv.Itoa(u.DriverNumber)
}

func (id Identity) update(kind string, driver int, date time.Time) LiveUpdate {
	return LiveUpdate{
		Kind: kind, Season: id.Season, Round: id.Round, Session: id.Session,
		SessionKey: id.SessionKey, MeetingKey: id.MeetingKey, GrandPrix: id.GrandPrix,
		DriverNumber: driver, Date: date,
	}
}

// liveUpdateOf returns the update a decoded live row makes, false for rows
// that are not live data (results, sessions).
func liveUpdateOf(id Identity, v any) (LiveUpdate, bool) {
	switch r := v.(type) {
	case Driver:
		u := id.update(KindDriver, r.DriverNumber, time.Time{})
		u.DriverCode, u.DriverName, u.TeamName = r.NameAcronym, r.Name(), r.TeamName
		u.TeamColour, u.HeadshotURL = string(r.TeamColour), r.HeadshotURL
		return u, true
	case Position:
		u := id.update(KindPosition, r.DriverNumber, r.Date.Time)
		u.Position = r.Position
		return u, true
	case Interval:
		u := id.update(KindInterval, r.DriverNumber, r.Date.Time)
		if !r.GapToLeader.IsZero() {
			g := r.GapToLeader
			u.GapToLeader = &g
		}
		if !r.Interval.IsZero() {
			g := r.Interval
			u.Interval = &g
		}
		return u, true
	case Lap:
		u := id.update(KindLap, r.DriverNumber, r.DateStart.Time)
		u.LapNumber = r.LapNumber
		u.LapDuration = r.LapDuration
		u.DurationSector1, u.DurationSector2, u.DurationSector3 = r.DurationSector1, r.DurationSector2, r.DurationSector3
		u.IsPitOutLap = r.IsPitOutLap
		u.STSpeed = r.STSpeed
		return u, true
	case Pit:
		u := id.update(KindPit, r.DriverNumber, r.Date.Time)
		u.LapNumber = r.LapNumber
		u.PitDuration = r.PitDuration
		u.StopDuration = r.StopDuration
		return u, true
	case RaceControl:
		driver := 0
		if r.DriverNumber != nil {
			driver = *r.DriverNumber
		}
		u := id.update(KindRaceControl, driver, r.Date.Time)
		if r.LapNumber != nil {
			u.LapNumber = *r.LapNumber
		}
		u.Category, u.Flag, u.Scope, u.Sector, u.Message = r.Category, r.Flag, r.Scope, r.Sector, r.Message
		return u, true
	}
	return LiveUpdate{}, false
}

// contentHash hashes a message value: what decides "changed".
func contentHash(v []byte) string {
	sum := sha256.Sum256(v)
	return hex.EncodeToString(sum[:12])
}

// liveMessage encodes u for f1.live. The message ID (for the engine's
// duplicate window) is the row's identity and content hash, which do not
// depend on the source: the same row from REST and from MQTT has one ID.
func liveMessage(u LiveUpdate, ident, hash string) (*bus.Message, error) {
	value, err := json.Marshal(u)
	if err != nil {
		return nil, err
	}
	return &bus.Message{
		Topic:   f1.TopicLive,
		Key:     u.Key(),
		Value:   value,
		ID:      "openf1/" + strconv.Itoa(u.SessionKey) + "/" + ident + "#" + hash,
		Headers: map[string]string{"content-type": "application/json", "podium-source": u.Source},
	}, nil
}

// resultMessage encodes r for f1.results, with ID = key + content hash.
// The hash leaves the source out: a result that comes again from another
// source is the same result, not an amendment.
func resultMessage(r f1.Result) (*bus.Message, string, error) {
	src := r.Source
	r.Source = ""
	plain, err := json.Marshal(r)
	if err != nil {
		return nil, "", err
	}
	hash := contentHash(plain)
	r.Source = src
	value, err := json.Marshal(r)
	if err != nil {
		return nil, "", err
	}
	return &bus.Message{
		Topic:   f1.TopicResults,
		Key:     r.Key(),
		Value:   value,
		ID:      r.Key() + "#" + hash,
		Headers: map[string]string{"content-type": "application/json", "podium-source": src},
	}, hash, nil
}
