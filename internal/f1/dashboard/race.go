package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/web"
)

// raceData is the race page's data.
type raceData struct {
	// Empty is true when the store has no result and no session is live.
	Empty bool
	// Note explains a selection that could not be honoured.
	Note string
	// Seasons, Rounds and Sessions are the selector's options.
	Seasons, Rounds, Sessions []option
	Season, Round             int
	Session, SessionName      string
	GrandPrix, Date           string
	Rows                      []resultRow
	// Cars is the number of cars the classification will have (0 if not
	// known yet), Received the results in.
	Cars, Received int
	Complete       bool
	// Provisional reports a race whose fastest lap is not official yet.
	Provisional bool
	// Amendments are the changes later results made to the session's
	// classification, oldest first.
	Amendments []amendmentRow
	// Live is the running order when the session is followed live and its
	// classification is not complete.
	Live *liveView
	// Source names where the classification comes from ("archive",
	// "OpenF1 MQTT"), "" when the store does not say.
	Source string
}

// liveView is a live session's running order for the page.
type liveView struct {
	Lap     int
	Updated string
	// Source is the badge saying where the running order comes from and
	// how old it is: "OpenF1 MQTT · 2 s ago"; SourceClass styles it
	// ("good", or "warn" for a fallback), SourceTitle says why it fell
	// back.
	Source, SourceClass, SourceTitle string
	Rows                             []liveRow
	Control                          []controlRow
}

type liveRow struct {
	Pos                   string
	Car                   int
	DriverID, Name, Code  string
	Team, Colour          string
	GapToLeader, Interval string
	Lap                   int
	LastLap               string
	Pits                  int
}

type controlRow struct {
	Time     string
	Lap      int
	Category string
	Flag     string
	// FlagClass styles the flag: "green", "yellow", "red", "blue",
	// "chequered" or "".
	FlagClass string
	Message   string
}

// amendmentRow is one car's change in one amendment: "Amended
// 2023-10-22: Lewis Hamilton disqualified (…), −18 pts".
type amendmentRow struct {
	Date, Text, Source string
	Car                int
}

// driverInfo is what the page shows of a car's driver.
type driverInfo struct {
	id, name, code, team, colour string
}

func (p *pages) buildRace(ctx context.Context, q url.Values) (web.Page, error) {
	sel, err := parseSelection(q)
	if err != nil {
		return web.Page{}, err
	}
	page := web.Page{Title: "Race", Live: EventResults + " " + EventLive}
	seasons, err := f1.Seasons(ctx, p.o.DB)
	if err != nil {
		return page, err
	}
	d := raceData{}
	if sel.season == 0 {
		if id, ok := p.o.Live.Active(); ok {
			sel.season, sel.round, sel.session = id.Season, id.Round, id.Session
		} else if len(seasons) > 0 {
			sel.season = seasons[0].Season
		}
	}
	if sel.season == 0 {
		d.Empty = true
		page.Data = d
		return page, nil
	}
	asked := sel
	d.Season = sel.season
	d.Seasons = p.seasonOptions(seasons, sel.season)
	rounds, err := p.rounds(ctx, sel.season)
	if err != nil {
		return page, err
	}
	if len(rounds) == 0 {
		d.Note = fmt.Sprintf("The store has no result of %d yet.", sel.season)
		page.Data = d
		return page, nil
	}
	i := indexRound(rounds, sel.round)
	switch n, known := p.calendar(sel.season); {
	case i >= 0:
	case sel.round == 0:
		i = len(rounds) - 1
	case known && sel.round > n:
		d.Note = fmt.Sprintf("%d has %d rounds: showing the latest with results.", sel.season, n)
		i, sel.session = len(rounds)-1, ""
	default:
		// A round to come: the page waits for its results.
		d.Note = fmt.Sprintf("No result of %d round %d yet: this page fills in as they arrive.", sel.season, sel.round)
		s := sel.session
		if s == "" {
			s = f1.Race
		}
		rounds = append(rounds, f1.RoundInfo{Season: sel.season, Round: sel.round, Sessions: []f1.SessionInfo{{Session: s}}})
		sortRounds(rounds)
		i = indexRound(rounds, sel.round)
	}
	rd := rounds[i]
	d.Round, d.GrandPrix, d.Date = rd.Round, rd.GrandPrix, formatDate(rd.Date)
	if sel.session != "" && indexSession(rd.Sessions, sel.session) < 0 {
		d.Note = fmt.Sprintf("Round %d of %d has no %s results.", rd.Round, rd.Season, sessionName(sel.session))
		sel.session = ""
	}
	if sel.session == "" {
		sel.session = latestSession(rd)
	}
	d.Session, d.SessionName = sel.session, sessionName(sel.session)
	for _, r := range rounds {
		d.Rounds = append(d.Rounds, option{Value: strconv.Itoa(r.Round), Label: roundLabel(r), Selected: r.Round == rd.Round})
	}
	for _, s := range rd.Sessions {
		d.Sessions = append(d.Sessions, option{Value: s.Session, Label: sessionName(s.Session), Selected: s.Session == sel.session})
		if s.Session == sel.session {
			d.Cars, d.Received, d.Provisional = s.Cars, s.Received, s.Provisional
		}
	}
	cls, err := f1.Classification(ctx, p.o.DB, d.Season, d.Round, d.Session)
	if err != nil {
		return page, err
	}
	d.Rows = resultRows(cls)
	if len(cls) > 0 && cls[0].Date != "" {
		// The session's own day: a sprint is the day before the race.
		d.Date = formatDate(cls[0].Date)
	}
	d.Complete = d.Cars > 0 && d.Received >= d.Cars
	as, err := f1.Amendments(ctx, p.o.DB, d.Season, d.Round, d.Session)
	if err != nil {
		return page, err
	}
	for _, n := range f1.Notes(as) {
		d.Amendments = append(d.Amendments, amendmentRow{Date: n.At.Format(time.DateOnly), Text: n.Text,
			Source: f1.SourceLabel(n.Source), Car: n.CarNumber})
	}
	if len(cls) > 0 && cls[0].Source != "" {
		d.Source = f1.SourceLabel(cls[0].Source)
	}
	id := SessionID{Season: d.Season, Round: d.Round, Session: d.Session}
	if snap, ok := p.o.Live.Snapshot(id); ok && !d.Complete {
		if d.GrandPrix == "" {
			d.GrandPrix = snap.GrandPrix
		}
		known, err := p.driversByCar(ctx, rounds, i, d.Session)
		if err != nil {
			return page, err
		}
		d.Live = p.liveViewOf(snap, known, cls)
	}
	title := d.SessionName
	if d.GrandPrix != "" {
		title = fmt.Sprintf("%d %s · %s", d.Season, d.GrandPrix, d.SessionName)
	}
	page.Title = title
	if sel.explicit {
		page.Filter = filter(map[string]any{"season": d.Season, "round": d.Round, "session": d.Session})
	}
	if d.Note != "" && sel.explicit {
		// The selection shown is not the one asked for: refresh on the
		// events of the one asked for, which may come.
		f := map[string]any{"season": asked.season}
		if asked.round != 0 {
			f["round"] = asked.round
		}
		if asked.session != "" {
			f["session"] = asked.session
		}
		page.Filter = filter(f)
	}
	page.Data = d
	return page, nil
}

func (p *pages) now() time.Time {
	if p.o.Live != nil && p.o.Live.now != nil {
		return p.o.Live.now()
	}
	return time.Now()
}

// driversByCar maps car numbers to drivers from the results of round i of
// rounds (the session first) and of up to three rounds before it: the
// live feed knows the cars by number only.
func (p *pages) driversByCar(ctx context.Context, rounds []f1.RoundInfo, i int, session string) (map[int]driverInfo, error) {
	known := map[int]driverInfo{}
	for j := i; j >= 0 && j >= i-3; j-- {
		rd := rounds[j]
		sessions := []string{session}
		for _, s := range rd.Sessions {
			if s.Session != session {
				sessions = append(sessions, s.Session)
			}
		}
		for _, s := range sessions {
			if indexSession(rd.Sessions, s) < 0 {
				continue
			}
			cls, err := f1.Classification(ctx, p.o.DB, rd.Season, rd.Round, s)
			if err != nil {
				return nil, err
			}
			for _, r := range cls {
				if _, ok := known[r.CarNumber]; !ok {
					known[r.CarNumber] = driverInfo{id: r.DriverID, name: r.DriverName, code: r.DriverCode, team: r.TeamName, colour: r.TeamColour}
				}
			}
		}
	}
	return known, nil
}

// liveViewOf shows a live session. A car is named by the feed's drivers,
// else by the results in the store (known), else by the archive, and by
// its number only as a last resort. The gap of a car the classification
// already has out of the race is its status (DNF, DNS, DSQ).
func (p *pages) liveViewOf(snap LiveSnapshot, known map[int]driverInfo, cls []f1.ScoredResult) *liveView {
	age := ago(p.now().Sub(snap.Updated))
	v := &liveView{Lap: snap.Lap, Updated: age}
	if src := snap.Source; src.Source != "" {
		v.Source, v.SourceClass = f1.SourceLabel(src.Source)+" · "+age, "good"
		if src.Fallback {
			v.Source = f1.SourceLabel(src.Source) + " (fallback) · " + age
			v.SourceClass, v.SourceTitle = "warn", src.Reason
		}
	}
	out := map[int]string{}
	for _, r := range cls {
		if r.Status == f1.DNF || r.Status == f1.DNS || r.Status == f1.DSQ {
			out[r.CarNumber] = r.Status
		}
	}
	for _, c := range snap.Cars {
		info := driverInfo{name: c.Name, code: c.Code, team: c.Team, colour: c.Colour}
		if k, ok := known[c.Number]; ok {
			info.id = k.id
			info = fillDriver(info, k)
		}
		if info.name == "" && p.o.Cars != nil {
			if a, ok := p.o.Cars(snap.Season, snap.Round, c.Number); ok {
				info = fillDriver(info, driverInfo{id: a.DriverID, name: a.DriverName, code: a.DriverCode, team: a.TeamName, colour: a.TeamColour})
			}
		}
		row := liveRow{Car: c.Number, DriverID: info.id, Name: info.name, Code: info.code, Team: info.team, Colour: info.colour,
			GapToLeader: c.GapToLeader, Interval: c.Interval, Lap: c.Lap, Pits: c.Pits}
		if row.Name == "" {
			row.Name = "#" + strconv.Itoa(c.Number)
		}
		if st, ok := out[c.Number]; ok {
			row.GapToLeader, row.Interval = st, ""
		}
		if c.Position > 0 {
			row.Pos = strconv.Itoa(c.Position)
		}
		if c.LastLap > 0 {
			row.LastLap = lapTime(c.LastLap)
		}
		v.Rows = append(v.Rows, row)
	}
	for i, c := range snap.Control {
		if i == 10 {
			break
		}
		row := controlRow{Lap: c.Lap, Category: c.Category, Flag: c.Flag, FlagClass: flagClass(c.Flag), Message: c.Message}
		if !c.At.IsZero() {
			row.Time = c.At.UTC().Format("15:04:05")
		}
		v.Control = append(v.Control, row)
	}
	return v
}

// fillDriver fills the empty fields of d from more.
func fillDriver(d, more driverInfo) driverInfo {
	d.id = cmp.Or(d.id, more.id)
	d.name = cmp.Or(d.name, more.name)
	d.code = cmp.Or(d.code, more.code)
	d.team = cmp.Or(d.team, more.team)
	d.colour = cmp.Or(d.colour, more.colour)
	return d
}

func flagClass(flag string) string {
	switch flag {
	case "GREEN", "CLEAR":
		return "green"
	case "YELLOW", "DOUBLE YELLOW":
		return "yellow"
	case "RED":
		return "red"
	case "BLUE":
		return "blue"
	case "CHEQUERED":
		return "chequered"
	}
	return ""
}

// lapTime prints seconds as m:ss.sss.
func lapTime(s float64) string {
	m := int(s) / 60
	return fmt.Sprintf("%d:%06.3f", m, s-float64(60*m))
}

// ago prints a duration as "12 s ago", "3 min ago".
func ago(d time.Duration) string {
	switch {
	case d < 2*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	}
	return fmt.Sprintf("%d h ago", int(d.Hours()))
}
