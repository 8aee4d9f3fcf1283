package openf1

import (
	"sort"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Resolver gives OpenF1 data podium's identities: the round of a Grand Prix
// and the archive ids of a car's driver and team. The season archive
// implements it for the seasons it holds; FallbackResolver derives them
// from OpenF1 data for any season.
type Resolver interface {
	// Round returns the championship round and Grand Prix name of the
	// meeting named meetingName whose race weekend includes date (a
	// session's start), ok=false when unknown (e.g. testing).
	Round(season int, date time.Time, meetingName string) (round int, grandPrix string, ok bool)
	// Entrant returns the archive ids of the driver and team of car
	// carNumber in the given round, ok=false when unknown. The round is
	// given because a car number can change teams during a season.
	Entrant(season, round, carNumber int) (driverID, teamID string, ok bool)
}

// Resolvers asks each resolver in turn; the first that knows wins.
type Resolvers []Resolver

// Round implements Resolver.
func (rs Resolvers) Round(season int, date time.Time, meetingName string) (int, string, bool) {
	for _, r := range rs {
		if r == nil {
			continue
		}
		if round, gp, ok := r.Round(season, date, meetingName); ok {
			return round, gp, true
		}
	}
	return 0, "", false
}

// Entrant implements Resolver.
func (rs Resolvers) Entrant(season, round, carNumber int) (string, string, bool) {
	for _, r := range rs {
		if r == nil {
			continue
		}
		if d, t, ok := r.Entrant(season, round, carNumber); ok {
			return d, t, true
		}
	}
	return "", "", false
}

// FallbackResolver derives identities from OpenF1 data alone, so that live
// follows work for seasons the archive does not hold yet: rounds by
// counting the season's race weekends in date order, ids by slugifying
// names ("Max VERSTAPPEN" → "max-verstappen", "Red Bull Racing" →
// "red-bull-racing"). Its team ids are OpenF1's team names slugified, which
// can differ from the archive's ("red-bull").
type FallbackResolver struct {
	weekends []weekend // race weekends by season, in date order
	drivers  map[int]Driver
}

type weekend struct {
	season int
	round  int
	name   string
	race   time.Time // the race's start
}

// NewFallbackResolver builds a resolver from a season's meetings, its
// sessions (at least those named "Race"; others are ignored) and the
// drivers of the followed session. When sessions hold no race, the
// meetings that are not testing count as the rounds.
func NewFallbackResolver(meetings []Meeting, sessions []Session, drivers []Driver) *FallbackResolver {
	r := &FallbackResolver{drivers: make(map[int]Driver, len(drivers))}
	for _, d := range drivers {
		r.drivers[d.DriverNumber] = d
	}
	names := make(map[int]Meeting, len(meetings))
	for _, m := range meetings {
		names[m.MeetingKey] = m
	}
	seen := map[int]bool{}
	for _, s := range sessions {
		if s.SessionName != SessionNameRace || seen[s.MeetingKey] {
			continue
		}
		seen[s.MeetingKey] = true
		m := names[s.MeetingKey]
		r.weekends = append(r.weekends, weekend{season: s.Year, name: m.MeetingName, race: s.DateStart.Time})
	}
	if len(r.weekends) == 0 {
		for _, m := range meetings {
			if strings.Contains(strings.ToLower(m.MeetingName), "testing") {
				continue
			}
			r.weekends = append(r.weekends, weekend{season: m.Year, name: m.MeetingName, race: m.DateStart.Time})
		}
	}
	sort.SliceStable(r.weekends, func(i, j int) bool {
		a, b := r.weekends[i], r.weekends[j]
		if a.season != b.season {
			return a.season < b.season
		}
		return a.race.Before(b.race)
	})
	round, season := 0, 0
	for i := range r.weekends {
		if r.weekends[i].season != season {
			season, round = r.weekends[i].season, 0
		}
		round++
		r.weekends[i].round = round
	}
	return r
}

// raceWeekendSpan is how far a session can be from its weekend's race.
const raceWeekendSpan = 4 * 24 * time.Hour

// Round implements Resolver: by meeting name, else by date.
func (r *FallbackResolver) Round(season int, date time.Time, meetingName string) (int, string, bool) {
	if meetingName != "" {
		for _, w := range r.weekends {
			if w.season == season && strings.EqualFold(w.name, meetingName) {
				return w.round, w.name, true
			}
		}
	}
	if date.IsZero() {
		return 0, "", false
	}
	for _, w := range r.weekends {
		if w.season != season {
			continue
		}
		if d := w.race.Sub(date); d > -raceWeekendSpan && d < raceWeekendSpan {
			name := w.name
			if name == "" {
				name = meetingName
			}
			return w.round, name, true
		}
	}
	return 0, "", false
}

// Entrant implements Resolver from the session's drivers.
func (r *FallbackResolver) Entrant(_, _, carNumber int) (string, string, bool) {
	d, ok := r.drivers[carNumber]
	if !ok {
		return "", "", false
	}
	driverID, teamID := Slugify(d.Name()), Slugify(d.TeamName)
	if driverID == "" || teamID == "" {
		return "", "", false
	}
	return driverID, teamID, true
}

// Slugify turns a name into an archive-style id: lower case ASCII words
// joined by '-', accents removed ("Sergio PÉREZ" → "sergio-perez").
func Slugify(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	if plain, _, err := transform.String(t, s); err == nil {
		s = plain
	}
	var b strings.Builder
	dash := false
	emit := func(part string) {
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteString(part)
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			emit(string(r))
		case r == 'ß':
			emit("ss")
		case r == 'ø':
			emit("o")
		case r == 'æ':
			emit("ae")
		default:
			dash = true
		}
	}
	return b.String()
}
