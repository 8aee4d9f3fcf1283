package hr

import (
	"strings"
	"unicode/utf8"

	"github.com/podiumhq/podium/internal/suggest"
)

// KnownSports lists the canonical names of the sports the importer
// recognises. Registers may write them in French or English, in any case,
// with or without accents; close misspellings are matched with a warning.
var KnownSports = []string{
	"Running", "Walking", "Cycling", "Swimming", "Hiking", "Tennis", "Badminton", "Football", "Rugby",
	"Basketball", "Handball", "Volleyball", "Climbing", "Yoga", "Pilates", "Triathlon", "Rowing",
	"Table tennis", "Squash", "Padel", "Boxing", "Judo", "Karate", "Fencing", "Horse riding", "Golf",
	"Sailing", "Surfing", "Kitesurfing", "Canoeing", "Stand-up paddle", "Skiing", "Dance", "Fitness",
	"Weight training", "Skating", "Pétanque",
}

// sportAliases maps folded names of sports (canonical, French, usual
// variants) to their canonical name.
var sportAliases = map[string]string{}

func init() {
	add := func(canonical string, names ...string) {
		sportAliases[fold(canonical)] = canonical
		for _, n := range names {
			sportAliases[fold(n)] = canonical
		}
	}
	for _, s := range KnownSports {
		add(s)
	}
	add("Running", "course à pied", "course", "jogging", "footing", "run")
	add("Walking", "marche", "marche nordique", "marche sportive", "nordic walking", "walk")
	add("Cycling", "vélo", "cyclisme", "vtt", "vélo de route", "bike", "biking", "mountain biking", "gravel")
	add("Swimming", "natation", "swim", "nage")
	add("Hiking", "randonnée", "rando", "trekking")
	add("Table tennis", "tennis de table", "ping-pong", "ping pong", "pingpong")
	add("Football", "foot", "soccer", "futsal")
	add("Basketball", "basket", "basket-ball")
	add("Handball", "hand", "hand-ball")
	add("Volleyball", "volley", "volley-ball", "beach-volley", "beach volley")
	add("Climbing", "escalade", "bloc", "bouldering")
	add("Rowing", "aviron")
	add("Boxing", "boxe", "boxe anglaise", "boxe française", "kickboxing")
	add("Karate", "karaté")
	add("Fencing", "escrime")
	add("Horse riding", "équitation", "equitation", "riding", "horseback riding")
	add("Sailing", "voile")
	add("Surfing", "surf")
	add("Kitesurfing", "kitesurf", "kite", "kite-surf")
	add("Canoeing", "canoë", "kayak", "canoë-kayak", "canoe")
	add("Stand-up paddle", "paddle", "stand up paddle", "sup")
	add("Skiing", "ski", "ski alpin", "ski de fond")
	add("Dance", "danse", "dancing")
	add("Fitness", "gym", "salle de sport", "crossfit", "cardio", "zumba")
	add("Weight training", "musculation", "muscu", "bodybuilding")
	add("Skating", "roller", "patinage", "skate")
	add("Pétanque", "boules")
}

// noSport holds the folded values that mean "no sport" in a sport column.
var noSport = map[string]bool{"": true, "non": true, "no": true, "aucun": true, "aucune": true, "none": true, "n/a": true, "na": true, "sans": true, "0": true}

// MatchSport returns the canonical name of the sport s names. exact is
// false when s was read as the closest known sport (a misspelling such as
// "Runing" for "Running"). ok is false when no known sport is close enough:
// the caller keeps s as written.
func MatchSport(s string) (canonical string, exact, ok bool) {
	k := fold(s)
	if c, found := sportAliases[k]; found {
		return c, true, true
	}
	if k == "" {
		return "", false, false
	}
	n := utf8.RuneCountInString(k)
	limit := 1
	switch {
	case n >= 10:
		limit = 3
	case n >= 7:
		limit = 2
	case n <= 3:
		return "", false, false
	}
	best, bestDist, tie := "", limit+1, false
	for alias, c := range sportAliases {
		d := suggest.Distance(k, alias)
		switch {
		case d < bestDist:
			best, bestDist, tie = c, d, false
		case d == bestDist && c != best:
			tie = true
		}
	}
	if best == "" || tie {
		return "", false, false
	}
	return best, false, true
}

// splitSports splits a sport cell that lists several sports ("Running,
// Yoga", "Vélo / Natation", "Tennis + Padel").
func splitSports(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '/' || r == '+' || r == '&' || r == '\n' })
	out := parts[:0]
	for _, p := range parts {
		if p = cleanCell(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
