package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities/generate"
	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/store"
)

// TestActivitiesDemo runs `podium demo` on a fresh data dir with a fake
// Slack: the sample register is imported, the previous year backfilled,
// then activities go on live. Every backfilled activity must reach, through
// the change-data capture and the data-quality stage, the SQL gold table
// and the lakehouse's silver and gold tables, with the same figures, and
// the live activities must be congratulated in Slack. How long that takes
// is logged (BENCHMARKS.md records it), not asserted.
func TestActivitiesDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the demo in -short mode")
	}
	var mu sync.Mutex
	var posts []string
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var msg struct{ Text string }
		if err := json.Unmarshal(body, &msg); err != nil || msg.Text == "" {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		mu.Lock()
		posts = append(posts, msg.Text)
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	defer slack.Close()

	dir := t.TempDir()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	start := time.Now()
	go func() {
		env := map[string]string{
			"PODIUM_NOTIFY_SLACK_WEBHOOK_URL": slack.URL + "/services/T000/B000/demo",
			"PODIUM_ACTIVITIES_DEMO_PACE":     "1s",
			"PODIUM_F1_DEMO_INTERVAL":         "1h",
		}
		a := newApp(&stdout, &stderr, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		done <- a.run(ctx, []string{"--data-dir", dir, "--http", "127.0.0.1:0", "--log-level", "warn", "demo"})
	}()

	year := time.Now().In(rewards.DefaultPolicy().Location).Year() - 1
	written := regexp.MustCompile(`(\d+) activities of \d+ employees in ` + strconv.Itoa(year) + ` written`)
	var backfilled int
	var s *store.Store
	var lk *lakehouse.Lake
	defer func() {
		if lk != nil {
			lk.Close()
		}
		if s != nil {
			s.Close()
		}
	}()
	var st demoState
	deadline := start.Add(5 * time.Minute)
	for ; ; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("after %v: backfilled %d, state %+v\nstderr:\n%s", time.Since(start), backfilled, st, stderr.String())
		}
		select {
		case code := <-done:
			t.Fatalf("the demo stopped (exit %d):\n%s", code, stderr.String())
		default:
		}
		if backfilled == 0 {
			if m := written.FindStringSubmatch(stderr.String()); m != nil {
				backfilled, _ = strconv.Atoi(m[1])
				t.Logf("%d activities of %d backfilled after %v", backfilled, year, time.Since(start))
			}
			continue
		}
		if s == nil {
			var err error
			if s, err = store.Open(ctx, filepath.Join(dir, config.DefaultStoreFile)); err != nil {
				t.Fatal(err)
			}
		}
		st.sql = demoSQL(t, s.DB(), year)
		if st.sql.gold != backfilled {
			continue
		}
		if lk == nil {
			cfg := dataDirConfig(t, dir)
			l, err := lakehouse.Open(ctx, s.DB(), lakehouse.Dialect(s.Dialect()), lake.LakeConfig(cfg))
			if err != nil {
				continue // the sink has not created the catalog yet
			}
			lk = l
		}
		st.lake = demoLake(t, ctx, lk, year)
		mu.Lock()
		st.posts = len(posts)
		mu.Unlock()
		if st.lake.silver >= backfilled && st.lake.gold == st.sql.gold && st.lake.bronze >= backfilled && st.posts > 0 {
			break
		}
	}
	t.Logf("after %v: %+v", time.Since(start), st)
	if st.sql.source != backfilled {
		t.Errorf("sport_activities holds %d activities of %d, the demo wrote %d", st.sql.source, year, backfilled)
	}
	if st.lake.bonus != st.sql.bonus || st.lake.wellness != st.sql.wellness {
		t.Errorf("lakehouse gold: bonus %.2f, wellness %d; SQL gold: bonus %.2f, wellness %d",
			st.lake.bonus, st.lake.wellness, st.sql.bonus, st.sql.wellness)
	}
	mu.Lock()
	first := posts[0]
	mu.Unlock()
	if ok, _ := regexp.MatchString(`\d`, first); !ok {
		t.Errorf("the Slack message has no figure: %q", first)
	}

	// The report's totals are those of the gold table.
	r := podium(t, dir, "", "activities", "report", "--year", strconv.Itoa(year), "--format", "json")
	var sum rewards.Summary
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("report: %v\n%+v", err, r)
	}
	if sum.Activities != backfilled || sum.WellnessDaysTotal != st.sql.wellness || !near(sum.BonusTotalEUR, st.sql.bonus) {
		t.Errorf("report %+v; gold: %+v", sum, st.sql)
	}
	stop()
	if code := <-done; code != 0 {
		t.Errorf("demo exit %d:\n%s", code, stderr.String())
	}

	// The lake commands read what the demo wrote.
	if r := podium(t, dir, "", "activities", "lake", "tables"); r.code != 0 ||
		!strings.Contains(r.stdout, lake.TableBronze) || !strings.Contains(r.stdout, lake.TableGold) {
		t.Errorf("lake tables: %+v", r)
	}
	r = podium(t, dir, "", "activities", "lake", "history", lake.TableSilver)
	if r.code != 0 || !strings.Contains(r.stdout, "append") && !strings.Contains(r.stdout, "overwrite") {
		t.Errorf("lake history: %+v", r)
	}
	r = podium(t, dir, "", "activities", "lake", "scan", lake.TableGold, "--format", "json")
	var gold []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &gold); err != nil || r.code != 0 {
		t.Fatalf("lake scan: %v\n%+v", err, r)
	}
	total, bonus := 0, 0.0
	for _, g := range gold {
		if y, _ := g["year"].(float64); int(y) == year {
			n, _ := g["activities"].(float64)
			total += int(n)
			eur, ok := g["bonus_eur"].(float64) // decimal(12,2): a number in euros
			if !ok {
				t.Fatalf("lake scan: bonus_eur %v (%T), want a number", g["bonus_eur"], g["bonus_eur"])
			}
			bonus += eur
		}
	}
	if total != backfilled || !near(bonus, st.sql.bonus) {
		t.Errorf("lake scan of %s: %d activities in %d, bonus %.2f; want %d, %.2f", lake.TableGold, total, year, bonus,
			backfilled, st.sql.bonus)
	}
	if r := podium(t, dir, "", "activities", "lake", "scan", "activities.nope"); r.code == 0 || !strings.Contains(r.stderr, "the tables are") {
		t.Errorf("lake scan of a missing table: %+v", r)
	}
}

type demoState struct {
	sql, lake demoFigures
	posts     int
}

type demoFigures struct {
	source, gold, silver, bronze, wellness int
	bonus                                  float64
}

func near(a, b float64) bool { return a-b < 0.01 && b-a < 0.01 }

// demoSQL reads the year's figures of the store's tables.
func demoSQL(t *testing.T, db *sql.DB, year int) demoFigures {
	t.Helper()
	var f demoFigures
	var gold, wellness, cents sql.NullInt64
	if err := db.QueryRow(`SELECT SUM(activities), SUM(wellness_days), SUM(bonus_cents) FROM activities_gold WHERE year = $1`,
		year).Scan(&gold, &wellness, &cents); err != nil {
		return f // not created yet
	}
	f.gold, f.wellness, f.bonus = int(gold.Int64), int(wellness.Int64), float64(cents.Int64)/100
	if err := db.QueryRow(`SELECT COUNT(*) FROM sport_activities WHERE id >= $1 AND id < $2`,
		generate.IDBase(year), generate.IDBase(year+1)).Scan(&f.source); err != nil {
		t.Fatal(err)
	}
	return f
}

// demoLake reads the year's figures of the lakehouse's tables.
func demoLake(t *testing.T, ctx context.Context, lk *lakehouse.Lake, year int) demoFigures {
	t.Helper()
	var f demoFigures
	count := func(name string) []lakehouse.Row {
		tbl, err := lk.Table(ctx, name)
		if err != nil {
			return nil
		}
		rows, err := tbl.Scan(ctx, lakehouse.ScanOptions{})
		if err != nil {
			t.Fatalf("scan %s: %v", name, err)
		}
		return rows
	}
	f.bronze, f.silver = len(count(lake.TableBronze)), len(count(lake.TableSilver))
	tbl, err := lk.Table(ctx, lake.TableGold)
	if err != nil {
		return f
	}
	rows, err := tbl.Scan(ctx, lakehouse.ScanOptions{Filter: lakehouse.EqInt64("year", int64(year))})
	if err != nil {
		t.Fatalf("scan %s: %v", lake.TableGold, err)
	}
	col := func(name string) int {
		for i, c := range tbl.Columns() {
			if c.Name == name {
				return i
			}
		}
		t.Fatalf("%s has no column %s", lake.TableGold, name)
		return -1
	}
	acts, well, bonus := col("activities"), col("wellness_days"), col("bonus_eur")
	var cents int64
	for _, r := range rows {
		f.gold += int(asInt(r[acts]))
		f.wellness += int(asInt(r[well]))
		cents += r[bonus].(int64) // decimal(12,2): cents
	}
	f.bonus = float64(cents) / 100
	return f
}

func asInt(v any) int64 {
	switch n := v.(type) {
	case int32:
		return int64(n)
	case int64:
		return n
	}
	return -1
}
