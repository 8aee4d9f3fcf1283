package ingest

import (
	"slices"
	"strings"

	"github.com/podiumhq/podium/internal/activities/generate"
	"github.com/podiumhq/podium/internal/activities/hr"
)

// OtherSport is the sport type of a Strava activity whose sport podium does
// not know (the generator's "other" sport).
const OtherSport = "Workout"

// sportTypes are the sport types of sport_activities: the generator's.
var sportTypes = generate.SportTypes()

// stravaVariants maps Strava's sport types that podium counts as one of its
// own (a trail run is a run, a gravel ride a ride) to that sport type.
var stravaVariants = map[string]string{
	"TrailRun":                      "Run",
	"VirtualRun":                    "Run",
	"EBikeRide":                     "Ride",
	"EMountainBikeRide":             "Ride",
	"GravelRide":                    "Ride",
	"MountainBikeRide":              "Ride",
	"VirtualRide":                   "Ride",
	"Velomobile":                    "Ride",
	"Handcycle":                     "Ride",
	"VirtualRow":                    "Rowing",
	"Kayaking":                      "Canoeing",
	"NordicSki":                     "AlpineSki",
	"BackcountrySki":                "AlpineSki",
	"Snowboard":                     "AlpineSki",
	"Snowshoe":                      "Hike",
	"IceSkate":                      "InlineSkate",
	"RollerSki":                     "InlineSkate",
	"Skateboard":                    "InlineSkate",
	"Windsurf":                      "Kitesurf",
	"Crossfit":                      "Workout",
	"HighIntensityIntervalTraining": "Workout",
	"Elliptical":                    "Workout",
	"StairStepper":                  "Workout",
}

// SportTypes returns the sport types of sport_activities, sorted.
func SportTypes() []string { return slices.Clone(sportTypes) }

// NormalizeSport returns the sport type of sport_activities that s names:
// a sport type in any case ("run"), a Strava variant ("TrailRun"), or a
// sport of the HR register in English or French ("Cycling", "vélo"). ok is
// false for anything else; close misspellings are not guessed.
func NormalizeSport(s string) (sportType string, ok bool) {
	s = strings.TrimSpace(s)
	for _, t := range sportTypes {
		if strings.EqualFold(s, t) {
			return t, true
		}
	}
	for v, t := range stravaVariants {
		if strings.EqualFold(s, v) {
			return t, true
		}
	}
	if canonical, exact, ok := hr.MatchSport(s); ok && exact {
		return generate.SportType(canonical)
	}
	return "", false
}

// StravaSport maps the sport of a Strava activity (its sport_type, or its
// older type when sport_type is empty) to a sport type of sport_activities.
// known is false when podium does not know the sport: the type is then
// OtherSport.
func StravaSport(sportType, typ string) (t string, known bool) {
	s := sportType
	if s == "" {
		s = typ
	}
	if slices.Contains(sportTypes, s) {
		return s, true
	}
	if t, ok := stravaVariants[s]; ok {
		return t, true
	}
	return OtherSport, false
}
