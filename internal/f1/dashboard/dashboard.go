// Package dashboard serves the F1 pages of podium's web UI: the overview at
// /, the live race at /race, the championship at /championship (also at
// /standings) and the drivers at /drivers/{id}.
//
// Pages are rendered on the server from the store with package f1's
// queries, and work without JavaScript. The shared script of package web
// keeps them live: Notify publishes an "f1" server-sent event after each
// commit of the F1 processors, and Live.Follow an "f1live" event when the
// running order of a session followed live changes; an open page showing
// what changed fetches its content again.
package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// Server-sent event names of the F1 pages.
const (
	// EventResults follows each commit of the F1 processors; its data is
	// an Event.
	EventResults = "f1"
	// EventLive follows a change of a live session's running order; its
	// data is a SessionID.
	EventLive = "f1live"
)

// Event is the data of EventResults: the season and round whose results
// (and so standings) changed.
type Event struct {
	Season int `json:"season"`
	Round  int `json:"round"`
}

// Notify returns the notify callback of f1.Processors that sends
// EventResults to the pages of every podium process (through the bus) after
// each committed batch. It never blocks.
func Notify(n *stream.Notices) func(season, round int) {
	return func(season, round int) { n.Send(stream.NewNotice(EventResults, Event{Season: season, Round: round})) }
}

// NotifyLive returns the callback of Live.Follow that publishes EventLive
// on hub.
func NotifyLive(hub *web.Hub) func(SessionID) {
	return func(id SessionID) { hub.Publish(EventLive, id) }
}

// Options configures the F1 pages.
type Options struct {
	// DB is the store holding the F1 tables (a *sql.DB).
	DB f1.Queryer
	// Calendar returns a season's calendar, false when unknown; with it
	// the championship shows the title maths, and a champion banner once
	// the last round's race is complete. Nil knows no calendar.
	Calendar func(season int) (f1.Calendar, bool)
	// Live is the running order of the sessions followed live; nil shows
	// none.
	Live *Live
	// Cars names, from the archive, the cars of a live session the feed
	// and the store do not name yet; nil knows none.
	Cars func(season, round, car int) (archive.Car, bool)
	// Logger logs the errors of the pages; nil discards them.
	Logger *slog.Logger
}

//go:embed templates/*.html
var templateFiles embed.FS

// pages serves the F1 pages.
type pages struct {
	srv                                  *web.Server
	o                                    Options
	log                                  *slog.Logger
	overview, race, championship, driver *template.Template
}

// Register adds the F1 pages and their navigation links to srv: / (the
// overview), /race, /championship, /standings and /drivers/{id}.
func Register(srv *web.Server, o Options) {
	p := &pages{srv: srv, o: o, log: o.Logger}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	parse := func(name string) *template.Template {
		return srv.Template(templateFiles, "templates/"+name, "templates/parts.html")
	}
	p.overview, p.race, p.championship, p.driver = parse("overview.html"), parse("race.html"),
		parse("championship.html"), parse("driver.html")
	srv.Nav("Overview", "/")
	srv.Nav("Race", "/race")
	srv.Nav("Championship", "/championship")
	srv.Mux.HandleFunc("GET /{$}", p.handle(p.overview, p.buildOverview))
	srv.Mux.HandleFunc("GET /race", p.handle(p.race, p.buildRace))
	srv.Mux.HandleFunc("GET /championship", p.handle(p.championship, p.buildChampionship))
	srv.Mux.HandleFunc("GET /standings", func(w http.ResponseWriter, r *http.Request) {
		target := "/championship"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
	srv.Mux.HandleFunc("GET /drivers/{id}", p.handle(p.driver, p.buildDriver))
	srv.Mux.Handle("GET /drivers/{$}", http.RedirectHandler("/championship", http.StatusFound))
}

// httpError is an error shown to the user with its status code.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// handle serves a page built by build with template t.
func (p *pages) handle(t *template.Template, build func(ctx context.Context, q url.Values) (web.Page, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		q := r.URL.Query()
		if id := r.PathValue("id"); id != "" {
			q.Set("id", id)
		}
		page, err := build(ctx, q)
		if err != nil {
			if he, ok := errors.AsType[*httpError](err); ok {
				p.srv.Error(w, r, he.code, he.msg)
				return
			}
			p.log.Error("F1 page", "path", r.URL.Path, "err", err)
			p.srv.Error(w, r, http.StatusInternalServerError, "Could not read the F1 store: "+err.Error())
			return
		}
		p.srv.Render(w, r, t, page)
	}
}

// selection is what the query parameters of a page ask for; zero values
// mean "the latest".
type selection struct {
	season, round int
	session       string
	explicit      bool // a parameter was given
}

func parseSelection(q url.Values) (selection, error) {
	var s selection
	num := func(name string) (int, error) {
		v := strings.TrimSpace(q.Get(name))
		if v == "" {
			return 0, nil
		}
		s.explicit = true
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, badRequest("%s %q: must be a number, 1 or more", name, v)
		}
		return n, nil
	}
	var err error
	if s.season, err = num("season"); err != nil {
		return s, err
	}
	if s.round, err = num("round"); err != nil {
		return s, err
	}
	if v := strings.ToUpper(strings.TrimSpace(q.Get("session"))); v != "" {
		s.explicit = true
		if v != f1.Race && v != f1.Sprint {
			return s, badRequest("session %q: must be race or sprint", q.Get("session"))
		}
		s.session = v
	}
	return s, nil
}

// filter returns the JSON of a page's data-filter: the events of its
// season, round and session only.
func filter(fields map[string]any) string {
	b, err := json.Marshal(fields)
	if err != nil {
		return ""
	}
	return string(b)
}

// option is one <option> of a selector.
type option struct {
	Value    string
	Label    string
	Selected bool
}

// seasonOptions lists the seasons of the store (and of live sessions),
// latest first.
func (p *pages) seasonOptions(seasons []f1.SeasonSummary, selected int) []option {
	var years []int
	for _, s := range seasons {
		years = append(years, s.Season)
	}
	for _, id := range p.o.Live.Sessions() {
		if !containsInt(years, id.Season) {
			years = append(years, id.Season)
		}
	}
	if selected != 0 && !containsInt(years, selected) {
		years = append(years, selected)
	}
	sortDesc(years)
	out := make([]option, 0, len(years))
	for _, y := range years {
		out = append(out, option{Value: strconv.Itoa(y), Label: strconv.Itoa(y), Selected: y == selected})
	}
	return out
}

// rounds returns the season's rounds with results, with the rounds and
// sessions followed live that have no result yet added.
func (p *pages) rounds(ctx context.Context, season int) ([]f1.RoundInfo, error) {
	rounds, err := f1.Rounds(ctx, p.o.DB, season)
	if err != nil {
		return nil, err
	}
	for _, id := range p.o.Live.Sessions() {
		if id.Season != season {
			continue
		}
		i := indexRound(rounds, id.Round)
		if i < 0 {
			snap, _ := p.o.Live.Snapshot(id)
			rounds = append(rounds, f1.RoundInfo{Season: season, Round: id.Round, GrandPrix: snap.GrandPrix})
			i = len(rounds) - 1
		}
		if indexSession(rounds[i].Sessions, id.Session) < 0 {
			rounds[i].Sessions = append(rounds[i].Sessions, f1.SessionInfo{Session: id.Session})
			sortSessions(rounds[i].Sessions)
		}
	}
	sortRounds(rounds)
	return rounds, nil
}

// latestSession returns the last session of a round: the race when it has
// one (a sprint comes before it).
func latestSession(rd f1.RoundInfo) string {
	if len(rd.Sessions) == 0 {
		return f1.Race
	}
	return rd.Sessions[len(rd.Sessions)-1].Session
}

func sessionName(s string) string {
	switch s {
	case f1.Race:
		return "Race"
	case f1.Sprint:
		return "Sprint"
	}
	return s
}

func roundLabel(rd f1.RoundInfo) string {
	if rd.GrandPrix == "" {
		return "Round " + strconv.Itoa(rd.Round)
	}
	return "R" + strconv.Itoa(rd.Round) + " · " + rd.GrandPrix
}

// formatDate prints a YYYY-MM-DD date as "12 Dec 2021".
func formatDate(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("2 Jan 2006")
}

func formatPoints(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
