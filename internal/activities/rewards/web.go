package rewards

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// EventActivities is the server-sent event published after each batch the
// processor committed; the /activities page re-renders on it.
const EventActivities = "activities"

// Notify returns the processor's notify callback that sends
// EventActivities to the pages of every podium process (with the number of
// changes only: no row).
func Notify(n *stream.Notices) func(changes int) {
	if n == nil {
		return nil
	}
	return func(changes int) { n.Send(stream.NewNotice(EventActivities, map[string]int{"changes": changes})) }
}

//go:embed templates/*.html
var templateFiles embed.FS

// FeedItem is an activity of the live feed: no employee id, no figure of a
// single employee's pay.
type FeedItem struct {
	Start        time.Time
	Sport        string
	DistanceKm   float64
	Minutes      int
	BusinessUnit string
}

// Bar is a bar of the monthly chart, in SVG units.
type Bar struct {
	X, Y, W, H float64
	Month      string
	Activities int
	DistanceKm float64
}

type pageData struct {
	Summary Summary
	Years   []int
	Feed    []FeedItem
	Bars    []Bar
	MaxBar  int
	// Ticks are the monthly chart's scale: values and their heights.
	Ticks []Tick
	// Zone names the time zone of the times shown without JavaScript (the
	// company's); the page's script shows them in the viewer's.
	Zone  string
	Error string
}

// Tick is a graduation of the monthly chart's vertical axis.
type Tick struct {
	Y     float64
	Value int
}

// HandlePage serves the Activities page at /activities on srv: the year's
// aggregates (total bonus cost, eligible employees, wellness days, per
// business unit, top sports, monthly trend) and the latest activities,
// live through EventActivities. It shows no employee's salary or bonus.
// loc is the time zone of the feed's times; log receives the page's errors.
func HandlePage(srv *web.Server, db Querier, loc *time.Location, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := srv.Template(templateFiles, "templates/activities.html")
	srv.Nav("Activities", "/activities")
	srv.Mux.HandleFunc("GET /activities", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		var d pageData
		if err := load(ctx, db, loc, r.URL.Query().Get("year"), &d); err != nil {
			log.Error("activities page", "err", err)
			d.Error = err.Error()
		}
		srv.Render(w, r, t, web.Page{Title: "Activities", Live: EventActivities, Data: d})
	})
}

func load(ctx context.Context, db Querier, loc *time.Location, yearParam string, d *pageData) error {
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT year FROM `+TableGold+` ORDER BY year DESC`)
	if err != nil {
		return fmt.Errorf("read the years (has the rewards processor run?): %w", err)
	}
	for rows.Next() {
		var y int
		if err := rows.Scan(&y); err != nil {
			_ = rows.Close()
			return fmt.Errorf("read the years: %w", err)
		}
		d.Years = append(d.Years, y)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read the years: %w", err)
	}
	year := time.Now().In(loc).Year()
	if len(d.Years) > 0 {
		year = d.Years[0]
	}
	if y, err := strconv.Atoi(yearParam); err == nil && y > 0 {
		year = y
	}
	if d.Summary, err = Report(ctx, db, year); err != nil {
		return err
	}
	d.Bars, d.MaxBar = bars(d.Summary.Monthly)
	d.Ticks = ticks(d.MaxBar)
	d.Zone = loc.String()
	// The latest activities of the year shown, as the year runs in the
	// company's zone.
	from := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	rows, err = db.QueryContext(ctx, `SELECT c.start_time, c.sport_type, c.distance_m, c.elapsed_s,
		COALESCE(e.business_unit, '')
		FROM `+TableCurrent+` c LEFT JOIN hr_employees e ON e.employee_id = c.employee_id
		WHERE c.start_time >= $1 AND c.start_time < $2
		ORDER BY c.start_time DESC, c.id DESC LIMIT 10`, from.UTC(), from.AddDate(1, 0, 0).UTC())
	if err != nil {
		return fmt.Errorf("read the latest activities: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var f FeedItem
		var m float64
		var s int
		if err := rows.Scan(&f.Start, &f.Sport, &m, &s, &f.BusinessUnit); err != nil {
			return fmt.Errorf("read the latest activities: %w", err)
		}
		f.Start, f.DistanceKm, f.Minutes = f.Start.In(loc), round1(m/1000), (s+30)/60
		d.Feed = append(d.Feed, f)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the latest activities: %w", err)
	}
	return nil
}

// The monthly chart's geometry, in SVG units.
const (
	chartW, chartH = 600.0, 200.0
	chartLeft      = 40.0 // room for the scale
	chartBottom    = 20.0 // room for the month labels
)

// ticks returns the vertical scale of the monthly chart for a busiest
// month of most activities: 0, half and the top, at their heights.
func ticks(most int) []Tick {
	if most <= 0 {
		return []Tick{{Y: chartH - chartBottom, Value: 0}}
	}
	top := chartH - chartBottom - 10
	var out []Tick
	for _, v := range []int{0, most / 2, most} {
		out = append(out, Tick{Y: chartH - chartBottom - top*float64(v)/float64(most), Value: v})
	}
	return out
}

// bars lays out the monthly chart: one bar per month, heights relative to
// the busiest month.
func bars(months []Month) ([]Bar, int) {
	most := 0
	for _, m := range months {
		most = max(most, m.Activities)
	}
	slot := (chartW - chartLeft) / float64(max(1, len(months)))
	out := make([]Bar, len(months))
	for i, m := range months {
		h := 0.0
		if most > 0 {
			h = (chartH - chartBottom - 10) * float64(m.Activities) / float64(most)
		}
		out[i] = Bar{X: chartLeft + float64(i)*slot + slot*0.15, W: slot * 0.7, H: h, Y: chartH - chartBottom - h,
			Month: time.Month(m.Month).String()[:3], Activities: m.Activities, DistanceKm: m.DistanceKm}
	}
	return out, most
}
