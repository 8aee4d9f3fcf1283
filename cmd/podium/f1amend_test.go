package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/dashboard"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// crossedTheLine returns the 2023 United States Grand Prix (round 18) as
// the cars crossed the line, before Hamilton (2nd) and Leclerc (6th) were
// disqualified, as the live source published it: OpenF1's session_result
// with its official points for that classification (Tsunoda's 2 as 10th
// with the fastest lap).
func crossedTheLine(t *testing.T, a *archive.Archive) []f1.Result {
	t.Helper()
	rd, _ := a.Round(2023, 18)
	race, _ := rd.Session(f1.Race)
	var classified, out, dsq []f1.Result
	for _, r := range race.Results {
		switch {
		case r.Status == f1.DSQ:
			dsq = append(dsq, r)
		case r.Status == f1.Finished:
			classified = append(classified, r)
		default:
			out = append(out, r)
		}
	}
	if len(dsq) != 2 || dsq[0].DriverID != "lewis-hamilton" || dsq[1].DriverID != "charles-leclerc" {
		t.Fatalf("Austin 2023 in the archive: disqualified %+v", dsq)
	}
	order := slices.Concat(classified[:1], dsq[:1], classified[1:4], dsq[1:], classified[4:])
	table := []float64{25, 18, 15, 12, 10, 8, 6, 4, 2, 1}
	for i := range order {
		r := &order[i]
		p := i + 1
		pts := 0.0
		if i < len(table) {
			pts = table[i]
		}
		if r.FastestLap {
			pts++
		}
		r.Status, r.Position, r.Order, r.Points, r.Reason, r.Source = f1.Finished, &p, p, &pts, "", f1.SourceOpenF1REST
		r.FastestLapOfficial = false // session_result has points, no fastest-lap flag
	}
	for i := range out {
		zero := 0.0
		out[i].Order, out[i].Points, out[i].Source, out[i].FastestLapOfficial = len(order)+i+1, &zero, f1.SourceOpenF1REST, false
	}
	return append(order, out...)
}

// amendPipeline is a bus, a store, the F1 processors and the F1 pages.
type amendPipeline struct {
	t     *testing.T
	url   string // the store's URL, for the commands
	bus   bus.Bus
	store *store.Store
	web   *httptest.Server
}

func (p *amendPipeline) publish(rs ...f1.Result) {
	p.t.Helper()
	var msgs []*bus.Message
	for _, r := range rs {
		b, err := json.Marshal(r)
		if err != nil {
			p.t.Fatal(err)
		}
		msgs = append(msgs, &bus.Message{Topic: f1.TopicResults, Key: r.Key(), Value: b})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.bus.Publish(ctx, msgs...); err != nil {
		p.t.Fatalf("publish: %v", err)
	}
	if err := ops.CatchUp(ctx, stream.Env{Bus: p.bus, Store: p.store}, f1.Processors(nil), nil); err != nil {
		p.t.Fatalf("apply: %v", err)
	}
}

// points returns the championship points of a driver or constructor after
// a round.
func (p *amendPipeline) points(round int, id string) float64 {
	p.t.Helper()
	ctx := context.Background()
	ds, err := f1.DriverStandings(ctx, p.store.DB(), 2023, round)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, d := range ds {
		if d.DriverID == id {
			return d.Points
		}
	}
	cs, err := f1.ConstructorStandings(ctx, p.store.DB(), 2023, round)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, c := range cs {
		if c.TeamID == id {
			return c.Points
		}
	}
	p.t.Fatalf("%s not in the standings after round %d", id, round)
	return 0
}

// trail returns the audit trail as `podium f1 amendments --format csv`
// prints it, one "car field old>new source" per line, and the command's
// table.
func (p *amendPipeline) trail() ([]string, string) {
	p.t.Helper()
	dir := p.t.TempDir()
	r := podium(p.t, dir, "", "--store", p.url, "f1", "amendments", "--season", "2023", "--format", "csv")
	if r.code != 0 {
		p.t.Fatalf("f1 amendments: %+v", r)
	}
	recs := readCSV(p.t, r.stdout)
	if !slices.Equal(recs[0], amendmentCSV) {
		p.t.Fatalf("header %q", recs[0])
	}
	var out []string
	for _, rec := range recs[1:] {
		if rec[1] != "2023" || rec[2] != "18" || rec[3] != f1.Race || rec[4] != "United States Grand Prix" {
			p.t.Errorf("amendment of another race: %q", rec)
		}
		if _, err := time.Parse(time.RFC3339, rec[0]); err != nil {
			p.t.Errorf("amended_at %q: %v", rec[0], err)
		}
		out = append(out, fmt.Sprintf("%s %s %s>%s %s", rec[5], rec[8], rec[9], rec[10], rec[11]))
	}
	table := podium(p.t, dir, "", "--store", p.url, "f1", "amendments")
	if table.code != 0 {
		p.t.Fatalf("f1 amendments: %+v", table)
	}
	return out, table.stdout
}

func (p *amendPipeline) racePage() string {
	p.t.Helper()
	res, err := http.Get(p.web.URL + "/race?season=2023&round=18&session=race")
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		p.t.Fatalf("race page: %d %v", res.StatusCode, err)
	}
	return string(b)
}

// TestF1AmendmentsWholePath is the acceptance test of amendments: the 2023
// United States Grand Prix published to f1.results as the cars crossed the
// line, then the official classification with Hamilton and Leclerc
// disqualified, then (an appeal upheld) the first classification again.
// At each step the processor's standings of that round and of the round
// after follow, the audit trail records each change once (a result
// published again unchanged records nothing), the race page shows it and
// `podium f1 amendments` lists it: on embedded JetStream with SQLite, and
// on Kafka (kfake) with PostgreSQL.
func TestF1AmendmentsWholePath(t *testing.T) {
	t.Parallel()
	a := loadF1Archive(t)
	line := crossedTheLine(t, a)
	rd, _ := a.Round(2023, 18)
	sprint, _ := rd.Session(f1.Sprint)
	official, _ := rd.Session(f1.Race)
	s23, _ := a.Season(2023)
	for _, su := range []struct {
		name    string
		dialect store.Dialect
		engine  enginetest.Engine
	}{
		{"jetstream+sqlite", store.SQLite, enginetest.JetStream},
		{"kafka+postgres", store.Postgres, enginetest.Kafka},
	} {
		t.Run(su.name, func(t *testing.T) {
			t.Parallel()
			if su.dialect == store.Postgres && os.Getenv(storetest.PostgresEnv) == "" {
				t.Skipf("%s is not set: skipping Kafka + PostgreSQL", storetest.PostgresEnv)
			}
			url := storetest.URL(t, su.dialect)
			st, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			srv := web.New(web.Config{})
			dashboard.Register(srv, dashboard.Options{DB: st.DB(), Calendar: f1Calendar})
			ts := httptest.NewServer(srv.Mux)
			t.Cleanup(ts.Close)
			p := &amendPipeline{t: t, url: url, bus: enginetest.Open(t, su.engine), store: st, web: ts}

			// Rounds 17 to 19, round 18's race as the cars crossed the line.
			p.publish(s23.Results(17, 17)...)
			p.publish(sprint.Results...)
			p.publish(line...)
			p.publish(s23.Results(19, 19)...)
			ham18, ham19, merc19 := p.points(18, "lewis-hamilton"), p.points(19, "lewis-hamilton"), p.points(19, "mercedes")
			lec19, nor19 := p.points(19, "charles-leclerc"), p.points(19, "lando-norris")
			if got, _ := p.trail(); len(got) != 0 {
				t.Fatalf("amendments before any amendment: %q", got)
			}
			if page := p.racePage(); strings.Contains(page, `id="amendments"`) || !strings.Contains(page, "Lewis Hamilton") {
				t.Fatalf("race page before any amendment shows amendments or lacks Hamilton")
			}

			// The stewards disqualify Hamilton and Leclerc: the official
			// classification replaces the first, car by car.
			p.publish(official.Results...)
			for _, c := range []struct {
				round int
				id    string
				want  float64
			}{
				{18, "lewis-hamilton", ham18 - 18}, {19, "lewis-hamilton", ham19 - 18}, {19, "charles-leclerc", lec19 - 8},
				{19, "lando-norris", nor19 + 3}, {19, "mercedes", merc19 - 18 + 4}, // Russell 7th to 5th
			} {
				if got := p.points(c.round, c.id); got != c.want {
					t.Errorf("after the disqualifications: %s on %v after round %d, want %v", c.id, got, c.round, c.want)
				}
			}
			got, table := p.trail()
			wantDSQ := []string{
				"4 position 3>2 archive", "4 points 15>18 archive",
				"44 status FINISHED>DSQ archive", "44 position 2>", "44 points 18>0 archive", "44 reason >Illegal skid block wear archive",
				"16 status FINISHED>DSQ archive", "16 position 6>", "16 points 8>0 archive",
				"63 position 7>5 archive", "63 points 6>10 archive",
			}
			for _, w := range wantDSQ {
				if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, w) }) {
					t.Errorf("the audit trail after the disqualifications lacks %q:\n%s", w, strings.Join(got, "\n"))
				}
			}
			if !strings.Contains(table, "Lewis Hamilton") || !strings.Contains(table, "FINISHED → DSQ") {
				t.Errorf("f1 amendments table:\n%s", table)
			}
			today := time.Now().UTC().Format(time.DateOnly)
			page := p.racePage()
			for _, w := range []string{
				"<b>Amended " + today + ":</b> Lewis Hamilton disqualified (Illegal skid block wear), −18 pts",
				"<b>Amended " + today + ":</b> Charles Leclerc disqualified (Illegal skid block wear), −8 pts",
				"<b>Amended " + today + ":</b> Lando Norris P3 → P2, &#43;3 pts",
				`<span class="badge dsq" title="Disqualified">DSQ</span> <span class="muted small reason">Illegal skid block wear</span>`,
			} {
				if !strings.Contains(page, w) {
					t.Errorf("the race page after the disqualifications lacks %q", w)
				}
			}

			// The same official classification published again: nothing
			// changes, nothing is recorded.
			p.publish(official.Results...)
			if again, _ := p.trail(); !slices.Equal(again, got) {
				t.Errorf("publishing the same results again changed the audit trail:\n%s\nwas\n%s",
					strings.Join(again, "\n"), strings.Join(got, "\n"))
			}

			// The appeal: the first classification is reinstated.
			p.publish(line...)
			for _, c := range []struct {
				round int
				id    string
				want  float64
			}{
				{18, "lewis-hamilton", ham18}, {19, "lewis-hamilton", ham19}, {19, "charles-leclerc", lec19},
				{19, "lando-norris", nor19}, {19, "mercedes", merc19},
			} {
				if got := p.points(c.round, c.id); got != c.want {
					t.Errorf("after the reinstatement: %s on %v after round %d, want %v", c.id, got, c.round, c.want)
				}
			}
			back, _ := p.trail()
			if len(back) <= len(got) || !slices.Equal(back[:len(got)], got) {
				t.Fatalf("the audit trail after the reinstatement does not extend the one before:\n%s", strings.Join(back, "\n"))
			}
			for _, w := range []string{"44 status DSQ>FINISHED openf1-rest", "44 position >2 openf1-rest", "44 points 0>18 openf1-rest",
				"44 reason Illegal skid block wear> openf1-rest", "16 status DSQ>FINISHED openf1-rest", "4 position 2>3 openf1-rest"} {
				if !slices.Contains(back[len(got):], w) {
					t.Errorf("the audit trail after the reinstatement lacks %q:\n%s", w, strings.Join(back[len(got):], "\n"))
				}
			}
			page = p.racePage()
			for _, w := range []string{
				"Lewis Hamilton disqualified (Illegal skid block wear), −18 pts",
				"<b>Amended " + today + ":</b> Lewis Hamilton reinstated P2, &#43;18 pts <span class=\"muted small\">· OpenF1 REST</span>",
			} {
				if !strings.Contains(page, w) {
					t.Errorf("the race page after the reinstatement lacks %q", w)
				}
			}
			if strings.Contains(page, `badge dsq`) {
				t.Error("the race page after the reinstatement still shows a disqualification")
			}
		})
	}
}
