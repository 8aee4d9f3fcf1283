package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/web"
)

// driverData is the driver page's data.
type driverData struct {
	ID, Name, Code string
	// Initials and Colour draw the fallback of the headshot; InkDark is
	// set when the colour needs dark text.
	Initials, Colour string
	InkDark          bool
	Team             string
	// Headshot is OpenF1's headshot URL, "" when unknown.
	Headshot string
	Season   int
	Seasons  []option
	// Standing is the driver's championship in Season, nil if none.
	Standing *standingRow
	Results  []driverResult
	Chart    Charts
	// History is the driver's final (or latest) standing of each season.
	History []standingRow
	Note    string
}

// driverResult is one race or sprint of the driver.
type driverResult struct {
	Round                int
	GrandPrix            string
	Session, SessionName string
	Team, Colour         string
	Grid                 string
	Pos                  string
	Status, StatusTitle  string
	Gap                  string
	Points               string
	Scored, FastestLap   bool
}

func (p *pages) buildDriver(ctx context.Context, q url.Values) (web.Page, error) {
	id := q.Get("id")
	sel, err := parseSelection(q)
	if err != nil {
		return web.Page{}, err
	}
	prof, err := f1.Driver(ctx, p.o.DB, id)
	if errors.Is(err, f1.ErrNotFound) {
		return web.Page{}, &httpError{http.StatusNotFound, fmt.Sprintf("The store has no result of a driver %q.", id)}
	}
	if err != nil {
		return web.Page{}, err
	}
	d := &driverData{ID: prof.ID, Name: prof.Name, Code: prof.Code, Initials: initials(prof.Name)}
	page := web.Page{Title: prof.Name, Live: EventResults, Data: d}
	var years []int
	for _, r := range prof.Results {
		if !containsInt(years, r.Season) {
			years = append(years, r.Season)
		}
		if r.HeadshotURL != "" {
			d.Headshot = r.HeadshotURL // the latest known
		}
	}
	sortDesc(years)
	d.Season = years[0]
	if sel.season != 0 {
		if containsInt(years, sel.season) {
			d.Season = sel.season
		} else {
			d.Note = fmt.Sprintf("%s has no result in %d: showing %d.", prof.Name, sel.season, d.Season)
		}
	}
	if sel.season != 0 {
		page.Filter = filter(map[string]any{"season": sel.season})
	}
	for _, y := range years {
		d.Seasons = append(d.Seasons, option{Value: strconv.Itoa(y), Label: strconv.Itoa(y), Selected: y == d.Season})
	}
	var results []f1.ScoredResult
	for _, r := range prof.Results {
		if r.Season == d.Season {
			results = append(results, r)
		}
	}
	last := results[len(results)-1]
	d.Team, d.Colour = last.TeamName, last.TeamColour
	d.InkDark = lightColour(d.Colour)
	for _, r := range results {
		row := resultRows([]f1.ScoredResult{r})[0]
		dr := driverResult{Round: r.Round, GrandPrix: r.GrandPrix, Session: r.Session, SessionName: sessionName(r.Session),
			Team: r.TeamName, Colour: r.TeamColour, Grid: row.Grid, Pos: row.Pos, Status: row.Status,
			StatusTitle: row.StatusTitle, Gap: row.Gap, Points: row.Points, Scored: row.Scored, FastestLap: row.FastestLap}
		if r.Position != nil && *r.Position == 1 {
			dr.Gap = "Winner"
		}
		d.Results = append(d.Results, dr)
	}
	for _, s := range prof.Seasons {
		row := driverRows([]f1.DriverStanding{s}, nil)[0]
		row.Gap = ""
		d.History = append(d.History, row)
		if s.Season == d.Season {
			r := row
			d.Standing = &r
		}
	}
	prog, err := f1.Progression(ctx, p.o.DB, d.Season)
	if err != nil {
		return page, err
	}
	d.Chart = driverChart(prog, prof, d)
	return page, nil
}

// driverChart draws the driver's points after each round of the season,
// with the championship leader's for reference.
func driverChart(prog f1.PointsProgression, prof f1.DriverProfile, d *driverData) Charts {
	var xs []string
	for _, r := range prog.Rounds {
		xs = append(xs, strconv.Itoa(r.Round))
	}
	var ss []series
	desc := ""
	for i, l := range prog.Drivers {
		if l.ID != prof.ID {
			continue
		}
		ss = append(ss, series{label: prof.Code, name: prof.Name, colour: d.Colour, values: l.Points})
		if len(l.Points) > 0 {
			desc = fmt.Sprintf("%s has %s points after round %s", prof.Name, formatPoints(l.Points[len(l.Points)-1]), xs[len(xs)-1])
		}
		if i > 0 && len(prog.Drivers) > 0 {
			lead := prog.Drivers[0]
			ss = append(ss, series{label: lead.Code, name: lead.Name + " (leader)", values: lead.Points})
			if len(lead.Points) > 0 {
				desc += fmt.Sprintf("; the leader, %s, has %s", lead.Name, formatPoints(lead.Points[len(lead.Points)-1]))
			}
		}
	}
	return lineCharts("driver-chart", fmt.Sprintf("%s's points after each round, %d", prof.Name, prog.Season),
		desc+".", "Round", "Points", xs, ss)
}
