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

// Bar is a bar of the monthly chart, in SVG units: the bar, and its
// month's label centred under it at LabelX.
type Bar struct {
	X, Y, W, H float64
	LabelX     float64
	// Label is the month's label on the axis, Month its name.
	Label, Month string
	Activities   int
	DistanceKm   float64
}

// MonthlyChart is the monthly bar chart laid out for one width, in SVG
// units: the plot between Left, Top, Right and Bottom, the vertical scale
// left of it, the month labels under it, the name of the values above it.
type MonthlyChart struct {
	ID                       string
	Year                     int
	Width, Height            float64
	Left, Top, Right, Bottom float64
	// TickX is where the scale's labels end, MonthY the month labels'
	// baseline, NameY the values' name's.
	TickX, MonthY, NameY float64
	Bars                 []Bar
	Ticks                []Tick
	// Max is the busiest month's number of activities.
	Max int
}

type pageData struct {
	Summary Summary
	Years   []int
	Feed    []FeedItem
	// Wide and Narrow are the monthly chart for wide screens and for
	// phones (the page shows one of them).
	Wide, Narrow MonthlyChart
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
	d.Wide = monthlyChart("monthly-chart", year, d.Summary.Monthly, chartWide, false)
	d.Narrow = monthlyChart("monthly-chart-narrow", year, d.Summary.Monthly, chartNarrow, true)
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

// The monthly chart's geometry, in SVG units (CSS pixels at the natural
// size, where its 13-unit labels read well): two widths, for wide screens
// and for phones.
const (
	chartWide, chartNarrow = 600.0, 340.0
	chartH                 = 220.0
	chartLeft              = 40.0 // room for the scale
	chartTop               = 28.0 // room for the name of the values
	chartBottom            = 24.0 // room for the month labels
	chartRight             = 4.0
)

// monthlyChart lays out the chart of the months of year in a width-wide viewBox: a bar
// per month, heights relative to the busiest month, with a scale of 0,
// half and the busiest. short labels the months by their initial (their
// names are in the bars' titles), for narrow charts.
func monthlyChart(id string, year int, months []Month, width float64, short bool) MonthlyChart {
	c := MonthlyChart{ID: id, Year: year, Width: width, Height: chartH, Left: chartLeft, Top: chartTop,
		Right: width - chartRight, Bottom: chartH - chartBottom}
	c.TickX, c.MonthY, c.NameY = c.Left-6, c.Bottom+17, 14
	for _, m := range months {
		c.Max = max(c.Max, m.Activities)
	}
	plot := c.Bottom - c.Top
	y := func(v int) float64 {
		if c.Max == 0 {
			return c.Bottom
		}
		return c.Bottom - plot*float64(v)/float64(c.Max)
	}
	c.Ticks = []Tick{{Y: c.Bottom, Value: 0}}
	if c.Max > 0 {
		for _, v := range []int{c.Max / 2, c.Max} {
			if v > 0 && v != c.Ticks[len(c.Ticks)-1].Value {
				c.Ticks = append(c.Ticks, Tick{Y: y(v), Value: v})
			}
		}
	}
	slot := (c.Right - c.Left) / float64(max(1, len(months)))
	c.Bars = make([]Bar, len(months))
	for i, m := range months {
		name := time.Month(m.Month).String()
		label := name[:3]
		if short {
			label = name[:1]
		}
		x := c.Left + float64(i)*slot
		c.Bars[i] = Bar{X: x + slot*0.15, W: slot * 0.7, Y: y(m.Activities), H: c.Bottom - y(m.Activities),
			LabelX: x + slot/2, Label: label, Month: name, Activities: m.Activities, DistanceKm: m.DistanceKm}
	}
	return c
}
