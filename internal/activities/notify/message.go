package notify

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/podiumhq/podium/internal/activities"
)

// sport is how a message names a sport (a Strava sport type, as
// activities.Activity.SportType holds it).
type sport struct {
	emoji string
	fr    string // French, after "de": "course à pied"
	en    string // English noun: "run" after a distance, "of run" after a duration
}

var sports = map[string]sport{
	"Run":             {"🏃", "course à pied", "run"},
	"TrailRun":        {"🏃", "trail", "trail run"},
	"Walk":            {"🚶", "marche", "walk"},
	"Hike":            {"🥾", "randonnée", "hike"},
	"Ride":            {"🚴", "vélo", "ride"},
	"VirtualRide":     {"🚴", "home trainer", "virtual ride"},
	"EBikeRide":       {"🚴", "vélo électrique", "e-bike ride"},
	"Swim":            {"🏊", "natation", "swim"},
	"Rowing":          {"🚣", "aviron", "row"},
	"Canoeing":        {"🛶", "canoë-kayak", "canoe trip"},
	"Kayaking":        {"🛶", "kayak", "kayak trip"},
	"StandUpPaddling": {"🏄", "paddle", "paddle"},
	"AlpineSki":       {"⛷️", "ski", "skiing"},
	"NordicSki":       {"⛷️", "ski de fond", "cross-country skiing"},
	"InlineSkate":     {"🛼", "roller", "skate"},
	"Tennis":          {"🎾", "tennis", "tennis"},
	"Badminton":       {"🏸", "badminton", "badminton"},
	"Padel":           {"🎾", "padel", "padel"},
	"Squash":          {"🎾", "squash", "squash"},
	"TableTennis":     {"🏓", "tennis de table", "table tennis"},
	"Soccer":          {"⚽", "football", "football"},
	"Rugby":           {"🏉", "rugby", "rugby"},
	"Basketball":      {"🏀", "basket", "basketball"},
	"Handball":        {"🤾", "handball", "handball"},
	"Volleyball":      {"🏐", "volley", "volleyball"},
	"RockClimbing":    {"🧗", "escalade", "climbing"},
	"Yoga":            {"🧘", "yoga", "yoga"},
	"Pilates":         {"🧘", "pilates", "Pilates"},
	"Boxing":          {"🥊", "boxe", "boxing"},
	"Judo":            {"🥋", "judo", "judo"},
	"Karate":          {"🥋", "karaté", "karate"},
	"Fencing":         {"🤺", "escrime", "fencing"},
	"HorsebackRiding": {"🏇", "équitation", "horse riding"},
	"Golf":            {"⛳", "golf", "golf"},
	"Sail":            {"⛵", "voile", "sailing"},
	"Surfing":         {"🏄", "surf", "surfing"},
	"Kitesurf":        {"🪁", "kitesurf", "kitesurfing"},
	"Dance":           {"💃", "danse", "dance"},
	"Workout":         {"💪", "sport", "workout"},
	"WeightTraining":  {"🏋️", "musculation", "weight training"},
}

// sportOf returns how to name sport type t; unknown types get a generic
// name.
func sportOf(t string) sport {
	if s, ok := sports[t]; ok {
		return s
	}
	return sport{"🏅", "sport", "workout"}
}

// message is one Slack message: the Block Kit blocks and the plain-text
// fallback that notifications and old clients show.
type message struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

type block struct {
	Type     string  `json:"type"`
	Text     *text   `json:"text,omitempty"`
	Elements []*text `json:"elements,omitempty"`
}

type text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// displayName returns the friendly name of an employee: the first name and
// the initial of the last name ("Camille D."); empty when both are.
func displayName(first, last string) string {
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if last == "" {
		return first
	}
	r, _ := utf8.DecodeRuneInString(last)
	initial := strings.ToUpper(string(r)) + "."
	if first == "" {
		return initial
	}
	return first + " " + initial
}

// render builds the message congratulating name (may be empty: the
// employee is unknown to the HR register) for a in language lang ("fr" or
// "en"), with the date in loc.
func render(a activities.Activity, name, lang string, loc *time.Location) message {
	s := sportOf(a.SportType)
	var headline, line, date string
	start := a.StartTime.In(loc)
	if lang == "en" {
		headline = "Well done!"
		if name != "" {
			headline = "Well done " + name + "!"
		}
		line = englishLine(a, s)
		date = fmt.Sprintf("%s %d %s %d at %s", start.Weekday(), start.Day(), start.Month(), start.Year(), start.Format("15:04"))
	} else {
		headline = "Bravo !"
		if name != "" {
			headline = "Bravo " + name + " !"
		}
		line = frenchLine(a, s)
		date = fmt.Sprintf("%s %d %s %d à %s", frenchDays[start.Weekday()], start.Day(), frenchMonths[start.Month()-1], start.Year(), start.Format("15:04"))
	}
	plain := s.emoji + " " + headline + " " + line
	return message{
		Text: plain,
		Blocks: []block{
			{Type: "section", Text: &text{Type: "mrkdwn", Text: escape(plain)}},
			{Type: "context", Elements: []*text{{Type: "mrkdwn", Text: escape(date)}}},
		},
	}
}

var (
	frenchDays   = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frenchMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
		"septembre", "octobre", "novembre", "décembre"}
)

// frenchLine is "12,4 km de course à pied en 1 h 02 min", "1 h 15 min de
// tennis" or "une séance de tennis".
func frenchLine(a activities.Activity, s sport) string {
	dist, dur := distance(a.DistanceM, ","), frenchDuration(a.ElapsedS)
	switch {
	case dist != "" && dur != "":
		return dist + " " + frenchOf(s.fr) + " en " + dur
	case dist != "":
		return dist + " " + frenchOf(s.fr)
	case dur != "":
		return dur + " " + frenchOf(s.fr)
	}
	return "une séance " + frenchOf(s.fr)
}

// frenchOf is "de sport" or "d'escrime".
func frenchOf(noun string) string {
	r, _ := utf8.DecodeRuneInString(noun)
	if strings.ContainsRune("aeiouyéèêàâîôûAEIOUYÉ", r) {
		return "d'" + noun
	}
	return "de " + noun
}

// englishLine is "12.4 km run in 1h 02m", "1h 15m of tennis" or "a tennis
// session".
func englishLine(a activities.Activity, s sport) string {
	dist, dur := distance(a.DistanceM, "."), englishDuration(a.ElapsedS)
	switch {
	case dist != "" && dur != "":
		return dist + " " + s.en + " in " + dur
	case dist != "":
		return dist + " " + s.en
	case dur != "":
		return dur + " of " + s.en
	}
	return "a " + s.en + " session"
}

// distance is "12.4 km" (one decimal, with the given decimal separator),
// "800 m" under a kilometre, empty for no distance.
func distance(m float64, sep string) string {
	if !(m > 0) || math.IsInf(m, 0) {
		return ""
	}
	if m < 1000 {
		return fmt.Sprintf("%.0f m", math.Round(m))
	}
	return strings.Replace(fmt.Sprintf("%.1f km", math.Round(m/100)/10), ".", sep, 1)
}

// frenchDuration is "1 h 02 min" or "45 min"; empty for none.
func frenchDuration(s int) string {
	if s <= 0 {
		return ""
	}
	m := (s + 30) / 60
	if m < 60 {
		return fmt.Sprintf("%d min", max(m, 1))
	}
	return fmt.Sprintf("%d h %02d min", m/60, m%60)
}

// englishDuration is "1h 02m" or "45m"; empty for none.
func englishDuration(s int) string {
	if s <= 0 {
		return ""
	}
	m := (s + 30) / 60
	if m < 60 {
		return fmt.Sprintf("%dm", max(m, 1))
	}
	return fmt.Sprintf("%dh %02dm", m/60, m%60)
}

// escape escapes the characters mrkdwn gives a meaning to (&, <, >).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
