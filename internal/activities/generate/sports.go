package generate

import "sort"

// SportTypes returns the sport types the generator writes to
// activities.Activity.SportType (Strava's names: "Run", "Ride", "Swim", …),
// sorted: the project's vocabulary of sports in sport_activities.
func SportTypes() []string {
	seen := map[string]bool{other.stravaType: true}
	for _, p := range profiles {
		seen[p.stravaType] = true
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// SportType returns the sport type the generator writes for a sport of the
// HR register (a canonical name of hr.KnownSports, such as "Cycling");
// ok is false for a sport it does not know.
func SportType(sport string) (t string, ok bool) {
	p, ok := profiles[sport]
	return p.stravaType, ok
}
