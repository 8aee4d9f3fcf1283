package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/web"
)

// chartDrivers and chartTeams are how many lines the progression charts
// draw.
const (
	chartDrivers = 6
	chartTeams   = 5
)

// championshipData is the championship page's data.
type championshipData struct {
	Empty           bool
	Note            string
	Seasons, Rounds []option
	Season, Round   int
	GrandPrix       string
	// LastRound is the latest round with results; Calendar the season's
	// number of rounds (0 if unknown).
	LastRound, Calendar int
	Drivers, Teams      standingsTable
	DriversChart        Charts
	TeamsChart          Charts
	Champion            *champion
	// Title is the title maths after the round; nil without standings.
	Title *titleView
}

// titleView is the title maths of both championships after a round.
type titleView struct {
	// Note says why there is none (no calendar), replacing the rest.
	Note string
	// Available says what is still to be won.
	Available string
	Drivers   contenders
	Teams     contenders
}

// contenders is one championship's title maths.
type contenders struct {
	ID, Title string
	Drivers   bool
	// Clinched says who clinched the title and where, "" while open.
	Clinched string
	// Rows are the competitors still in contention (the champion alone
	// once clinched); Out counts the others.
	Rows []contenderRow
	Out  int
}

type contenderRow struct {
	Pos                    int
	ID, Name, Code, Colour string
	Driver                 bool
	// Max is the most points it can finish on; Needed what it must still
	// score to be champion whatever the rivals do, or "Champion".
	Points, Max, Needed string
}

// champion is the banner of a completed season.
type champion struct {
	Season                 int
	DriverID, Driver       string
	DriverPoints           string
	Team, TeamPoints       string
	DriverColour, TeamName string
}

func (p *pages) buildChampionship(ctx context.Context, q url.Values) (web.Page, error) {
	sel, err := parseSelection(q)
	if err != nil {
		return web.Page{}, err
	}
	page := web.Page{Title: "Championship", Live: EventResults}
	seasons, err := f1.Seasons(ctx, p.o.DB)
	if err != nil {
		return page, err
	}
	d := championshipData{}
	if _, scheduled := p.schedule(sel.season); sel.season != 0 && !scheduled && len(seasons) > 0 &&
		!slices.ContainsFunc(seasons, func(s f1.SeasonSummary) bool { return s.Season == sel.season }) {
		// A season podium knows nothing of: no made-up round of it.
		d.Note = fmt.Sprintf("podium has no season %d: showing %d.", sel.season, seasons[0].Season)
		sel.season, sel.round = 0, 0
	}
	if sel.season == 0 && len(seasons) > 0 {
		sel.season = seasons[0].Season
	}
	if sel.season == 0 {
		d.Empty = true
		page.Data = d
		return page, nil
	}
	d.Season = sel.season
	d.Seasons = p.seasonOptions(seasons, sel.season)
	page.Title = fmt.Sprintf("%d championship", d.Season)
	if sel.explicit {
		page.Filter = filter(map[string]any{"season": d.Season})
	}
	page.Data = &d
	rounds, err := f1.Rounds(ctx, p.o.DB, d.Season)
	if err != nil {
		return page, err
	}
	if len(rounds) == 0 {
		d.Note = fmt.Sprintf("The store has no result of %d yet.", d.Season)
		return page, nil
	}
	i := indexRound(rounds, sel.round)
	if i < 0 {
		if sel.round != 0 {
			d.Note = fmt.Sprintf("%d has no round %d with results: showing the standings after the latest round.", d.Season, sel.round)
		}
		i = len(rounds) - 1
	}
	d.Round, d.GrandPrix, d.LastRound = rounds[i].Round, rounds[i].GrandPrix, rounds[len(rounds)-1].Round
	for _, r := range rounds {
		d.Rounds = append(d.Rounds, option{Value: strconv.Itoa(r.Round), Label: "After " + roundLabel(r), Selected: r.Round == d.Round})
	}
	ds, err := f1.DriverStandings(ctx, p.o.DB, d.Season, d.Round)
	if err != nil {
		return page, err
	}
	cs, err := f1.ConstructorStandings(ctx, p.o.DB, d.Season, d.Round)
	if err != nil {
		return page, err
	}
	starts, races, err := p.starts(ctx, rounds[:i+1])
	if err != nil {
		return page, err
	}
	d.Drivers = standingsTable{ID: "drivers", Drivers: true, WinRate: true, Rows: driverRows(ds, starts)}
	d.Teams = standingsTable{ID: "constructors", WinRate: true, Rows: teamRows(cs, races)}
	prog, err := f1.Progression(ctx, p.o.DB, d.Season)
	if err != nil {
		return page, err
	}
	d.DriversChart = progressionChart("drivers-chart", fmt.Sprintf("Drivers' points after each round, %d", d.Season),
		prog, prog.Drivers, d.Drivers.Rows, chartDrivers, d.Round)
	d.TeamsChart = progressionChart("teams-chart", fmt.Sprintf("Constructors' points after each round, %d", d.Season),
		prog, prog.Constructors, d.Teams.Rows, chartTeams, d.Round)
	cal, ok := p.schedule(d.Season)
	if ok {
		d.Calendar = len(cal.Rounds)
		if d.Round == d.Calendar && seasonComplete(rounds, d.Calendar) {
			d.Champion = championOf(d.Season, ds, cs)
		}
	}
	if len(ds) > 0 {
		if d.Title, err = p.title(ctx, d.Season, d.Round, cal); err != nil {
			return page, err
		}
	}
	return page, nil
}

// title returns the title maths after round of season, or a note saying
// why there is none.
func (p *pages) title(ctx context.Context, season, round int, cal f1.Calendar) (*titleView, error) {
	tr, err := f1.Contention(ctx, p.o.DB, season, round, cal)
	switch {
	case errors.Is(err, f1.ErrNoCalendar):
		return &titleView{Note: fmt.Sprintf("The title maths need the calendar of %d, which podium does not know (the archive has 2019 to 2025).", season)}, nil
	case err != nil:
		return nil, err
	}
	return &titleView{Available: tr.Available() + ".",
		Drivers: contendersOf("title-drivers", "Drivers' title", tr.DriverTitle, tr.Drivers, true),
		Teams:   contendersOf("title-constructors", "Constructors' title", tr.ConstructorTitle, tr.Constructors, false)}, nil
}

func contendersOf(id, title string, clinched *f1.Clinch, cs []f1.Contender, drivers bool) contenders {
	v := contenders{ID: id, Title: title, Drivers: drivers}
	if clinched != nil {
		v.Clinched = fmt.Sprintf("%s clinched the title at %s.", clinched.Name, clinched.At())
	}
	for _, c := range cs {
		if !c.InContention {
			v.Out++
			continue
		}
		row := contenderRow{Pos: c.Position, ID: c.ID, Name: c.Name, Code: c.Code, Colour: c.Colour, Driver: drivers,
			Points: formatPoints(c.Points), Max: formatPoints(c.MaxPoints)}
		switch {
		case c.Champion:
			row.Needed = "Champion"
		case c.Needed != nil:
			row.Needed = formatPoints(*c.Needed)
		default:
			row.Needed = "needs rivals to drop points"
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// championOf returns the banner of a completed season from its final
// standings; nil without standings.
func championOf(season int, ds []f1.DriverStanding, cs []f1.ConstructorStanding) *champion {
	if len(ds) == 0 || len(cs) == 0 {
		return nil
	}
	return &champion{Season: season, DriverID: ds[0].DriverID, Driver: ds[0].DriverName,
		DriverPoints: formatPoints(ds[0].Points), DriverColour: ds[0].TeamColour, TeamName: ds[0].TeamName,
		Team: cs[0].TeamName, TeamPoints: formatPoints(cs[0].Points)}
}

// calendar returns the number of rounds of season's calendar.
func (p *pages) calendar(season int) (int, bool) {
	cal, ok := p.schedule(season)
	return len(cal.Rounds), ok
}

func (p *pages) schedule(season int) (f1.Calendar, bool) {
	if p.o.Calendar == nil {
		return f1.Calendar{}, false
	}
	return p.o.Calendar(season)
}

// seasonComplete reports whether the season's last round (n) has its race
// classification complete.
func seasonComplete(rounds []f1.RoundInfo, n int) bool {
	i := indexRound(rounds, n)
	if i < 0 {
		return false
	}
	j := indexSession(rounds[i].Sessions, f1.Race)
	if j < 0 {
		return false
	}
	s := rounds[i].Sessions[j]
	return s.Cars > 0 && s.Received >= s.Cars
}

// starts counts, over rounds, the races each driver started (every result
// but a DNS) and the races held.
func (p *pages) starts(ctx context.Context, rounds []f1.RoundInfo) (map[string]int, int, error) {
	starts := map[string]int{}
	races := 0
	for _, rd := range rounds {
		if indexSession(rd.Sessions, f1.Race) < 0 {
			continue
		}
		cls, err := f1.Classification(ctx, p.o.DB, rd.Season, rd.Round, f1.Race)
		if err != nil {
			return nil, 0, err
		}
		if len(cls) > 0 {
			races++
		}
		for _, r := range cls {
			if r.Status != f1.DNS {
				starts[r.DriverID]++
			}
		}
	}
	return starts, races, nil
}

// progressionChart draws the points of the first n competitors of rows
// (the standings after round upTo) from their lines, up to round upTo, in
// team colours; a team's second line is dashed.
func progressionChart(id, title string, prog f1.PointsProgression, lines []f1.Line, rows []standingRow, n, upTo int) Charts {
	var xs []string
	for _, r := range prog.Rounds {
		if r.Round <= upTo {
			xs = append(xs, strconv.Itoa(r.Round))
		}
	}
	byID := map[string]f1.Line{}
	for _, l := range lines {
		byID[l.ID] = l
	}
	var ss []series
	var colours []string
	var desc []string
	for _, row := range rows[:min(n, len(rows))] {
		l, ok := byID[row.ID]
		if !ok {
			continue
		}
		label := row.Code
		if label == "" {
			label = shortName(row.Name)
		}
		s := series{label: label, name: row.Name, colour: row.Colour, dashed: slices.Contains(colours, row.Colour),
			values: l.Points[:min(len(xs), len(l.Points))]}
		colours = append(colours, row.Colour)
		ss = append(ss, s)
		desc = append(desc, fmt.Sprintf("%s %s", row.Name, row.Points))
	}
	d := "Points after each round. After round " + strconv.Itoa(upTo) + ": " + strings.Join(desc, ", ") + "."
	return lineCharts(id, title, d, "Round", "Points", xs, ss)
}

// shortName shortens a constructor's name for a chart label.
func shortName(name string) string {
	if len([]rune(name)) <= 10 {
		return name
	}
	if f := strings.Fields(name); len(f) > 0 && len([]rune(f[0])) <= 10 {
		return f[0]
	}
	return string([]rune(name)[:9]) + "…"
}
