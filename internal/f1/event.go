// Package f1 is the F1 live championship pipeline: result and penalty
// events, the scoring rules of each season, and the processor that keeps
// race classifications and the drivers' and constructors' championships in
// the store.
package f1

import (
	"fmt"
	"strconv"
)

// Topics of the F1 pipeline. Their names are part of podium's interface.
const (
	// TopicResults carries one Result per message, keyed by ResultKey.
	TopicResults = "f1.results"
	// TopicPenalties carries points penalties that are not results.
	TopicPenalties = "f1.penalties"
	// TopicLive carries the running order, gaps, laps and race-control
	// messages of a live session.
	TopicLive = "f1.live"
)

// Session kinds that score points.
const (
	Race   = "RACE"
	Sprint = "SPRINT"
)

// Points scales: how many of a session's points the regulations award.
// Result.PointsScale carries one explicitly, because the lap count alone
// does not decide it (Japan 2022 ran 28 of 53 laps and paid full points).
// An empty PointsScale means ScaleFull.
const (
	// ScaleFull awards the season's full points (and the fastest-lap point
	// in the seasons that have one).
	ScaleFull = "FULL"
	// ScaleHalf awards half points and no fastest-lap point: a race
	// shortened below 75% of its distance up to 2021 (Spa 2021).
	ScaleHalf = "HALF"
	// ScaleNone awards no points (fewer than 2 laps under green).
	ScaleNone = "NONE"
	// ScaleReduced25, ScaleReduced50 and ScaleReduced75 are the 2022+
	// sliding scale of a shortened race, with no fastest-lap point: from 2
	// laps to 25% of the distance 6-4-3-2-1; 25% to 50% 13-10-8-6-5-4-3-2-1;
	// 50% to 75% 19-14-12-9-8-6-5-3-2-1.
	ScaleReduced25 = "REDUCED_25"
	ScaleReduced50 = "REDUCED_50"
	ScaleReduced75 = "REDUCED_75"
)

// Status of a car in a session's classification.
const (
	Finished = "FINISHED" // classified (includes lapped cars)
	DNF      = "DNF"      // did not finish, not classified
	DNS      = "DNS"      // did not start
	DSQ      = "DSQ"      // disqualified: scores nothing
	NC       = "NC"       // finished but not classified (too few laps)
)

// Result is one car's result in one race or sprint: the message of
// f1.results. The archive replay and the OpenF1 source produce the same
// shape. Its identity is Season/Round/Session/CarNumber: a later Result with
// the same identity (an amendment, a disqualification) replaces the earlier
// one.
type Result struct {
	Season  int    `json:"season"`
	Round   int    `json:"round"`
	Session string `json:"session"` // Race or Sprint
	// SessionKey is OpenF1's session_key (2023 on), 0 when unknown.
	SessionKey int    `json:"session_key,omitempty"`
	GrandPrix  string `json:"grand_prix"`     // e.g. "Bahrain Grand Prix"
	Date       string `json:"date,omitempty"` // race day, YYYY-MM-DD
	// PointsScale is the points scale the regulations apply to this
	// session (see the Scale constants): carried explicitly because the lap
	// count alone does not decide it.
	PointsScale string `json:"points_scale"`

	CarNumber  int    `json:"car_number"`
	DriverID   string `json:"driver_id"`   // archive id, e.g. "max-verstappen"
	DriverCode string `json:"driver_code"` // e.g. "VER"
	DriverName string `json:"driver_name"` // e.g. "Max Verstappen"
	TeamID     string `json:"team_id"`     // archive id, e.g. "red-bull"
	TeamName   string `json:"team_name"`
	// TeamColour is the team's colour as 6 hex digits without '#'.
	TeamColour string `json:"team_colour,omitempty"`
	// HeadshotURL is OpenF1's driver photo, when known.
	HeadshotURL string `json:"headshot_url,omitempty"`

	// Position is the classified position, nil when not classified.
	Position *int   `json:"position"`
	Status   string `json:"status"` // Finished, DNF, DNS, DSQ or NC
	// Order is the car's place in the published classification (1 = first
	// line), classified cars first.
	Order int `json:"order"`
	Laps  int `json:"laps"`
	// Time is the winner's race time or the gap to the winner as printed
	// ("+20.886", "+1 LAP", "+2 LAPS"), empty when none.
	Time string `json:"time,omitempty"`
	Grid *int   `json:"grid,omitempty"` // starting position, nil for pit lane or unknown
	// FastestLap reports that the car set the session's fastest lap. It
	// scores (in the seasons with a fastest-lap point) only when it is
	// official: see FastestLapKnown.
	FastestLap bool `json:"fastest_lap"`
	// FastestLapOfficial reports that FastestLap is official data (the
	// archive, an official classification), not a reading of live lap
	// times that may miss laps. A source that cannot tell leaves it false:
	// the car then carries no fastest-lap point, and the race is flagged
	// provisional until an official result says who set the fastest lap.
	FastestLapOfficial bool `json:"fastest_lap_official,omitempty"`
	// Reason is why the car retired, was not classified or was
	// disqualified, as the source words it ("Car underweight"); "" when
	// none was given.
	Reason string `json:"reason,omitempty"`
	// Cars is the number of cars in the session's classification, so that a
	// consumer knows when a session is complete.
	Cars int `json:"cars,omitempty"`
	// Points is the official points figure when the source has one
	// (OpenF1's session_result.points): it wins over the points derived
	// from Position, PointsScale and FastestLap. Nil when the source gives
	// none.
	Points *float64 `json:"points,omitempty"`
	// Source names where the result came from (see the Source constants);
	// empty for older messages.
	Source string `json:"source,omitempty"`
}

// Sources of results, for Result.Source, the audit trail and the pages.
const (
	SourceArchive    = "archive"
	SourceOpenF1REST = "openf1-rest"
	SourceOpenF1MQTT = "openf1-mqtt"
	SourceFile       = "file"
)

// FastestLapKnown reports whether r's FastestLap is official data: the
// source says so (FastestLapOfficial), or r has no Source. Results without
// a Source predate both fields and only ever reached the standings from the
// archive (the live source's results were dead-lettered then), whose
// fastest laps are official.
func (r Result) FastestLapKnown() bool { return r.FastestLapOfficial || r.Source == "" }

// SourceLabel names a source (a Source constant) for people: "archive",
// "OpenF1 REST", "OpenF1 MQTT", "recording"; an unknown one as it is.
func SourceLabel(source string) string {
	switch source {
	case SourceOpenF1REST:
		return "OpenF1 REST"
	case SourceOpenF1MQTT:
		return "OpenF1 MQTT"
	case SourceFile:
		return "recording"
	}
	return source
}

// Key returns the message key of r: season/round/session/car.
func (r Result) Key() string { return ResultKey(r.Season, r.Round, r.Session, r.CarNumber) }

// ResultKey formats the identity of a result.
func ResultKey(season, round int, session string, car int) string {
	return strconv.Itoa(season) + "/" + strconv.Itoa(round) + "/" + session + "/" + strconv.Itoa(car)
}

// Penalty kinds.
const (
	PenaltyDriver      = "DRIVER"
	PenaltyConstructor = "CONSTRUCTOR"
)

// Penalty is a points penalty that is not a result: the message of
// f1.penalties. ID is stable, so applying a replayed penalty twice changes
// nothing.
type Penalty struct {
	ID     string  `json:"id"`
	Season int     `json:"season"`
	Kind   string  `json:"kind"`   // PenaltyDriver or PenaltyConstructor
	Target string  `json:"target"` // driver or constructor id
	Points float64 `json:"points"` // negative for a deduction
	// FromRound is the first round whose standings include the penalty.
	FromRound int    `json:"from_round"`
	Reason    string `json:"reason"`
}

// Validate checks the fields every result needs.
func (r Result) Validate() error {
	switch {
	case r.Season < 1950 || r.Season > 2100:
		return fmt.Errorf("season %d out of range", r.Season)
	case r.Round < 1:
		return fmt.Errorf("round %d: must be 1 or more", r.Round)
	case r.Session != Race && r.Session != Sprint:
		return fmt.Errorf("session %q: must be %s or %s", r.Session, Race, Sprint)
	case r.CarNumber < 1:
		return fmt.Errorf("car number %d: must be 1 or more", r.CarNumber)
	case r.DriverID == "":
		return fmt.Errorf("driver_id is missing")
	case r.TeamID == "":
		return fmt.Errorf("team_id is missing")
	}
	switch r.Status {
	case Finished:
		if r.Position == nil || *r.Position < 1 {
			return fmt.Errorf("a %s result needs a position of 1 or more", Finished)
		}
	case DNF, DNS, DSQ, NC:
	default:
		return fmt.Errorf("status %q: must be one of %s, %s, %s, %s, %s", r.Status, Finished, DNF, DNS, DSQ, NC)
	}
	return nil
}
