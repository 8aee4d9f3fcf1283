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
)

// LiveUpdate is one message of f1.live: a change in a live session's
// running order (position), gaps (interval), a lap, a pit stop or a
// race-control message. Its fields other than the identity are those of
// the OpenF1 row it comes from, under the same JSON names; gaps keep
// OpenF1's shape (seconds, "+1 LAP", or absent for the leader).
//
// Messages are keyed season/round/session/driver_number, or
// season/round/session for race control, so that one car's updates (and
// the race-control messages) are read in order.
type LiveUpdate struct {
	Kind       string `json:"kind"` // KindPosition, KindInterval, KindLap, KindRaceControl or KindPit
	Season     int    `json:"season"`
	Round      int    `json:"round"`   // 0 when unknown (testing)
	Session    string `json:"session"` // f1.Race, f1.Sprint, or e.g. "QUALIFYING"
	SessionKey int    `json:"session_key"`
	MeetingKey int    `json:"meeting_key,omitempty"`
	GrandPrix  string `json:"grand_prix,omitempty"`
	// DriverNumber is the car, 0 for race-control messages about no car.
	DriverNumber int    `json:"driver_number,omitempty"`
	DriverCode   string `json:"driver_code,omitempty"` // e.g. "VER"
	// Date is when it happened (a lap's start for laps); zero when OpenF1
	// has no date (some first laps).
	Date time.Time `json:"date,omitzero"`

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
	Message  string `json:"message,omitempty"`
}

// Key returns the message key of u on f1.live.
func (u LiveUpdate) Key() string {
	k := strconv.Itoa(u.Season) + "/" + strconv.Itoa(u.Round) + "/" + u.Session
	if u.Kind == KindRaceControl {
		return k
	}
	return k + "/" + strconv.Itoa(u.DriverNumber)
}

// liveItem is a LiveUpdate with the identity of the OpenF1 row behind it:
// a row seen again with the same identity and content is not republished,
// one whose content changed (a lap being completed) is.
type liveItem struct {
	ident string
	at    time.Time // the row's date, for the poll cursor
	u     LiveUpdate
}

func (id Identity) update(kind string, driver int, date time.Time) LiveUpdate {
	return LiveUpdate{
		Kind: kind, Season: id.Season, Round: id.Round, Session: id.Session,
		SessionKey: id.SessionKey, MeetingKey: id.MeetingKey, GrandPrix: id.GrandPrix,
		DriverNumber: driver, Date: date,
	}
}

func tsKey(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func positionItem(id Identity, p Position) liveItem {
	u := id.update(KindPosition, p.DriverNumber, p.Date.Time)
	u.Position = p.Position
	return liveItem{ident: "position/" + strconv.Itoa(p.DriverNumber) + "/" + tsKey(p.Date.Time), at: p.Date.Time, u: u}
}

func intervalItem(id Identity, iv Interval) liveItem {
	u := id.update(KindInterval, iv.DriverNumber, iv.Date.Time)
	if !iv.GapToLeader.IsZero() {
		g := iv.GapToLeader
		u.GapToLeader = &g
	}
	if !iv.Interval.IsZero() {
		g := iv.Interval
		u.Interval = &g
	}
	return liveItem{ident: "interval/" + strconv.Itoa(iv.DriverNumber) + "/" + tsKey(iv.Date.Time), at: iv.Date.Time, u: u}
}

func lapItem(id Identity, l Lap) liveItem {
	u := id.update(KindLap, l.DriverNumber, l.DateStart.Time)
	u.LapNumber = l.LapNumber
	u.LapDuration = l.LapDuration
	u.DurationSector1, u.DurationSector2, u.DurationSector3 = l.DurationSector1, l.DurationSector2, l.DurationSector3
	u.IsPitOutLap = l.IsPitOutLap
	u.STSpeed = l.STSpeed
	return liveItem{ident: "lap/" + strconv.Itoa(l.DriverNumber) + "/" + strconv.Itoa(l.LapNumber), at: l.DateStart.Time, u: u}
}

func pitItem(id Identity, p Pit) liveItem {
	u := id.update(KindPit, p.DriverNumber, p.Date.Time)
	u.LapNumber = p.LapNumber
	u.PitDuration = p.PitDuration
	u.StopDuration = p.StopDuration
	return liveItem{ident: "pit/" + strconv.Itoa(p.DriverNumber) + "/" + strconv.Itoa(p.LapNumber), at: p.Date.Time, u: u}
}

func raceControlItem(id Identity, rc RaceControl) liveItem {
	driver := 0
	if rc.DriverNumber != nil {
		driver = *rc.DriverNumber
	}
	u := id.update(KindRaceControl, driver, rc.Date.Time)
	if rc.LapNumber != nil {
		u.LapNumber = *rc.LapNumber
	}
	u.Category, u.Flag, u.Scope, u.Sector, u.Message = rc.Category, rc.Flag, rc.Scope, rc.Sector, rc.Message
	sum := sha256.Sum256([]byte(rc.Category + "\x00" + rc.Message))
	return liveItem{ident: "race_control/" + tsKey(rc.Date.Time) + "/" + hex.EncodeToString(sum[:6]), at: rc.Date.Time, u: u}
}

// contentHash hashes a message value: what decides "changed".
func contentHash(v []byte) string {
	sum := sha256.Sum256(v)
	return hex.EncodeToString(sum[:12])
}

// liveMessage encodes u for f1.live. The message ID (for the engine's
// duplicate window) is the row identity plus the content hash.
func liveMessage(it liveItem, value []byte, hash string) *bus.Message {
	return &bus.Message{
		Topic:   f1.TopicLive,
		Key:     it.u.Key(),
		Value:   value,
		ID:      "openf1/" + strconv.Itoa(it.u.SessionKey) + "/" + it.ident + "#" + hash,
		Headers: map[string]string{"content-type": "application/json", "podium-source": "openf1"},
	}
}

// resultMessage encodes r for f1.results, ID = key + content hash.
func resultMessage(r f1.Result) (*bus.Message, string, error) {
	value, err := json.Marshal(r)
	if err != nil {
		return nil, "", err
	}
	hash := contentHash(value)
	return &bus.Message{
		Topic:   f1.TopicResults,
		Key:     r.Key(),
		Value:   value,
		ID:      r.Key() + "#" + hash,
		Headers: map[string]string{"content-type": "application/json", "podium-source": "openf1"},
	}, hash, nil
}
