package dashboard

import (
	"context"
	"fmt"
	"net/url"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/web"
)

// overviewRows is how many lines of the latest classification and of each
// championship the overview shows.
const (
	overviewRows    = 10
	overviewLeaders = 5
)

// overviewData is the overview page's data.
type overviewData struct {
	Empty bool
	// Live links to the session followed live, if one is in progress.
	Live *liveLink
	// Race is the latest race (or sprint) with results.
	Race *raceSummary
	// Season and Round are those of the standings shown.
	Season, Round    int
	GrandPrix        string
	Drivers, Teams   standingsTable
	Champion         *champion
	DriverCount      int
	TeamCount        int
	SeasonsAvailable int
}

type liveLink struct {
	SessionID
	SessionName, GrandPrix string
	Lap                    int
}

type raceSummary struct {
	Season, Round        int
	Session, SessionName string
	GrandPrix, Date      string
	Podium               []resultRow
	Rows                 []resultRow
	Cars, Received       int
	Complete             bool
}

func (p *pages) buildOverview(ctx context.Context, _ url.Values) (web.Page, error) {
	page := web.Page{Title: "Overview", Live: EventResults + " " + EventLive}
	d := &overviewData{}
	page.Data = d
	if id, ok := p.o.Live.Active(); ok {
		snap, _ := p.o.Live.Snapshot(id)
		d.Live = &liveLink{SessionID: id, SessionName: sessionName(id.Session), GrandPrix: snap.GrandPrix, Lap: snap.Lap}
	}
	seasons, err := f1.Seasons(ctx, p.o.DB)
	if err != nil {
		return page, err
	}
	d.SeasonsAvailable = len(seasons)
	if len(seasons) == 0 {
		d.Empty = true
		return page, nil
	}
	d.Season = seasons[0].Season
	page.Title = fmt.Sprintf("F1 %d", d.Season)
	rounds, err := f1.Rounds(ctx, p.o.DB, d.Season)
	if err != nil {
		return page, err
	}
	if len(rounds) == 0 {
		d.Empty = true
		return page, nil
	}
	rd := rounds[len(rounds)-1]
	s := rd.Sessions[len(rd.Sessions)-1]
	cls, err := f1.Classification(ctx, p.o.DB, d.Season, rd.Round, s.Session)
	if err != nil {
		return page, err
	}
	rows := resultRows(cls)
	rs := &raceSummary{Season: d.Season, Round: rd.Round, Session: s.Session, SessionName: sessionName(s.Session),
		GrandPrix: rd.GrandPrix, Date: formatDate(rd.Date), Rows: rows[:min(overviewRows, len(rows))],
		Cars: s.Cars, Received: s.Received, Complete: s.Cars > 0 && s.Received >= s.Cars}
	for _, r := range rows {
		if r.Pos == "1" || r.Pos == "2" || r.Pos == "3" {
			rs.Podium = append(rs.Podium, r)
		}
	}
	d.Race = rs
	ds, err := f1.DriverStandings(ctx, p.o.DB, d.Season, 0)
	if err != nil {
		return page, err
	}
	cs, err := f1.ConstructorStandings(ctx, p.o.DB, d.Season, 0)
	if err != nil {
		return page, err
	}
	d.DriverCount, d.TeamCount = len(ds), len(cs)
	if len(ds) > 0 {
		d.Round = ds[0].Round
		if i := indexRound(rounds, d.Round); i >= 0 {
			d.GrandPrix = rounds[i].GrandPrix
		}
	}
	d.Drivers = standingsTable{ID: "leaders-drivers", Drivers: true, Compact: true, Rows: driverRows(ds[:min(overviewLeaders, len(ds))], nil)}
	d.Teams = standingsTable{ID: "leaders-constructors", Compact: true, Rows: teamRows(cs[:min(overviewLeaders, len(cs))], 0)}
	if n, ok := p.calendar(d.Season); ok && d.Round == n && seasonComplete(rounds, n) {
		d.Champion = championOf(d.Season, ds, cs)
	}
	return page, nil
}
