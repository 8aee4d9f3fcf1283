// Package f1test derives, for tests, the official final championships of
// the archive's seasons independently of package f1's scoring and ranking
// code: from the official points of each result (F1DB's points column), the
// points penalties, and countback over Grand Prix classified positions. The
// tests of the pipeline and of the commands compare what the processors
// stored with these tables.
package f1test

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
)

// Entry is one line of an official final table.
type Entry struct {
	Position int
	// ID is the archive's driver or constructor id (max-verstappen,
	// red-bull); Name its name (Max Verstappen, Red Bull).
	ID, Name string
	Points   float64
	// Wins and Podiums count Grand Prix results; SprintWins the sprints
	// won.
	Wins, Podiums, SprintWins int
}

// String formats e as "1. max-verstappen 395.5".
func (e Entry) String() string { return fmt.Sprintf("%d. %s %g", e.Position, e.ID, e.Points) }

// CSV returns e as the record of `podium f1 standings --format csv`:
// position, id, name, points, wins, podiums.
func (e Entry) CSV() []string {
	return []string{strconv.Itoa(e.Position), e.ID, e.Name, strconv.FormatFloat(e.Points, 'f', -1, 64),
		strconv.Itoa(e.Wins), strconv.Itoa(e.Podiums)}
}

// Official returns the final drivers' and constructors' tables of season,
// everyone who scored a result ranked: by points (official points plus
// penalties), then by the most Grand Prix wins, then second places, and so
// on, then by id.
func Official(a *archive.Archive, season int) (drivers, constructors []Entry, err error) {
	s, ok := a.Season(season)
	if !ok {
		return nil, nil, fmt.Errorf("no season %d in the archive", season)
	}
	type rec struct {
		Entry
		finish [40]int // Grand Prix finishes by position
	}
	tables := [2]map[string]*rec{{}, {}}
	for _, rd := range s.Rounds {
		for _, ss := range rd.Sessions {
			for _, r := range ss.Results {
				for k, id := range []string{r.DriverID, r.TeamID} {
					x := tables[k][id]
					if x == nil {
						x = &rec{Entry: Entry{ID: id}}
						tables[k][id] = x
					}
					x.Points += *r.Points
					if r.Position == nil {
						continue
					}
					p := *r.Position
					if p < 1 || p > len(x.finish) {
						return nil, nil, fmt.Errorf("%s: position %d", r.Key(), p)
					}
					switch {
					case ss.Kind == f1.Sprint && p == 1:
						x.SprintWins++
					case ss.Kind == f1.Race:
						x.finish[p-1]++
						if p == 1 {
							x.Wins++
						}
						if p <= 3 {
							x.Podiums++
						}
					}
				}
			}
		}
	}
	for _, p := range s.Penalties {
		k := 0
		if p.Kind == f1.PenaltyConstructor {
			k = 1
		}
		x := tables[k][p.Target]
		if x == nil {
			return nil, nil, fmt.Errorf("penalty %s: %s has no result in %d", p.ID, p.Target, season)
		}
		x.Points += p.Points
	}
	var out [2][]Entry
	for k, tab := range tables {
		ids := make([]string, 0, len(tab))
		for id := range tab {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool {
			x, y := tab[ids[i]], tab[ids[j]]
			if x.Points != y.Points {
				return x.Points > y.Points
			}
			for p := range x.finish {
				if x.finish[p] != y.finish[p] {
					return x.finish[p] > y.finish[p]
				}
			}
			return ids[i] < ids[j]
		})
		for i, id := range ids {
			e := tab[id].Entry
			e.Position = i + 1
			if k == 0 {
				d, ok := a.Driver(id)
				if !ok {
					return nil, nil, fmt.Errorf("driver %s is not in the archive", id)
				}
				e.Name = d.Name
			} else {
				t, ok := a.Team(id)
				if !ok {
					return nil, nil, fmt.Errorf("constructor %s is not in the archive", id)
				}
				e.Name = t.Name
			}
			out[k] = append(out[k], e)
		}
	}
	return out[0], out[1], nil
}

// OfficialPoints returns the official points of every result of season,
// by f1.ResultKey.
func OfficialPoints(a *archive.Archive, season int) (map[string]float64, error) {
	s, ok := a.Season(season)
	if !ok {
		return nil, fmt.Errorf("no season %d in the archive", season)
	}
	out := map[string]float64{}
	for _, rd := range s.Rounds {
		for _, ss := range rd.Sessions {
			for _, r := range ss.Results {
				out[r.Key()] = *r.Points
			}
		}
	}
	return out, nil
}
