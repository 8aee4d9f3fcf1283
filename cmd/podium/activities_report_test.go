package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/datadir"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/web"
)

// TestActivitiesReport runs the activities pipeline as an operator does:
// import the register, check the commutes, generate a year, serve (the
// capture and the rewards processor), then report in every format, and
// again after an activity was updated and another deleted.
func TestActivitiesReport(t *testing.T) {
	dir := t.TempDir()
	generateYear(t, dir, "3")
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		a := newApp(&stdout, &stderr, func(string) (string, bool) { return "", false })
		code := a.run(ctx, []string{"--data-dir", dir, "--http", "127.0.0.1:0", "serve"})
		served <- result{code, stdout.String(), stderr.String()}
	}()
	defer func() {
		stop()
		if r := <-served; r.code != 0 {
			t.Errorf("serve: %+v", r)
		}
	}()
	var owner datadir.Owner
	waitFor(t, "serve to record its HTTP address", func() bool {
		o, running, err := datadir.Running(dir)
		owner = o
		return err == nil && running && o.HTTPAddr != ""
	})
	s, err := store.Open(context.Background(), filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	synced := func() bool {
		var n int
		err := s.DB().QueryRow(`SELECT COUNT(*) FROM sport_activities a
			LEFT JOIN activities_current c ON c.id = a.id AND c.distance_m = a.distance_m AND c.sport_type = a.sport_type
			WHERE c.id IS NULL`).Scan(&n)
		var extra int
		err2 := s.DB().QueryRow(`SELECT COUNT(*) FROM activities_current c
			LEFT JOIN sport_activities a ON a.id = c.id WHERE a.id IS NULL`).Scan(&extra)
		return err == nil && err2 == nil && n == 0 && extra == 0
	}
	waitFor(t, "the rewards processor to follow sport_activities", synced)

	report := func() rewards.Summary {
		t.Helper()
		r := podium(t, dir, "", "activities", "report", "--year", "2025", "--format", "json")
		if r.code != 0 {
			t.Fatalf("report: %+v", r)
		}
		var sum rewards.Summary
		if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
			t.Fatalf("report JSON: %v\n%s", err, r.stdout)
		}
		return sum
	}
	// The report's activities are those of sport_activities in 2025, Paris
	// time; its bonus total the sum of the gold rows.
	paris, _ := time.LoadLocation("Europe/Paris")
	direct := func() (acts int, bonus float64) {
		t.Helper()
		rows, err := s.DB().Query(`SELECT start_time FROM sport_activities`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var at time.Time
			if err := rows.Scan(&at); err != nil {
				t.Fatal(err)
			}
			if at.In(paris).Year() == 2025 {
				acts++
			}
		}
		if err := s.DB().QueryRow(`SELECT COALESCE(SUM(bonus_eur), 0) FROM activities_gold WHERE year = 2025 AND bonus_eligible`).Scan(&bonus); err != nil {
			t.Fatal(err)
		}
		return acts, bonus
	}
	sum := report()
	acts, bonus := direct()
	if sum.Activities != acts || sum.BonusTotalEUR < bonus-0.01 || sum.BonusTotalEUR > bonus+0.01 || sum.EligibleEmployees == 0 {
		t.Fatalf("report %+v; want %d activities and %.2f EUR", sum, acts, bonus)
	}

	// The dashboard's Activities page shows the same totals.
	page := get(t, "http://"+owner.HTTPAddr+"/activities")
	if !strings.Contains(page, "<h1>Activities 2025</h1>") || !strings.Contains(page, web.Funcs["euros"].(func(float64) string)(sum.BonusTotalEUR)+" €") {
		t.Errorf("the Activities page does not show the report's bonus total %.2f", sum.BonusTotalEUR)
	}

	// Every format, to stdout and to a file.
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--format", "table"}, 0, "bonus_total_eur"},
		{[]string{"--format", "csv"}, 0, "total,,eligible_employees,"},
		{[]string{"--format", "pdf"}, 2, "unknown report format"},
	}
	for _, tt := range tests {
		r := podium(t, dir, "", append([]string{"activities", "report", "--year", "2025"}, tt.args...)...)
		if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
			t.Errorf("report %v: %+v, want code %d and %q", tt.args, r, tt.code, tt.want)
		}
	}
	out := filepath.Join(t.TempDir(), "rewards.xlsx")
	if r := podium(t, dir, "", "activities", "report", "--year", "2025", "--format", "xlsx", "--output", out); r.code != 0 {
		t.Fatalf("xlsx report: %+v", r)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("open the xlsx report: %v", err)
	}
	if got := strings.Join(wb.GetSheetList(), "|"); got != "Summary|By business unit|Top sports|Monthly" {
		t.Errorf("xlsx sheets: %s", got)
	}
	_ = wb.Close()

	// Update one activity of 2025 and delete another: the report follows.
	var upd, del int64
	if err := s.DB().QueryRow(`SELECT MIN(id), MAX(id) FROM activities_current WHERE local_year = 2025 AND local_month BETWEEN 3 AND 10`).Scan(&upd, &del); err != nil {
		t.Fatal(err)
	}
	var a activities.Activity
	if err := s.DB().QueryRow(`SELECT employee_id, start_time, distance_m FROM sport_activities WHERE id = $1`, upd).
		Scan(&a.EmployeeID, &a.StartTime, &a.DistanceM); err != nil {
		t.Fatal(err)
	}
	a.ID, a.SportType, a.DistanceM, a.Source = upd, "Rowing", a.DistanceM+5000, activities.SourceAPI
	if err := activities.Upsert(context.Background(), s.DB(), a); err != nil {
		t.Fatal(err)
	}
	if err := activities.Delete(context.Background(), s.DB(), del); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rewards processor to apply the update and the delete", synced)
	after := report()
	if after.Activities != sum.Activities-1 {
		t.Errorf("report after a delete: %d activities, want %d", after.Activities, sum.Activities-1)
	}
	var rowing bool
	for _, sp := range after.TopSports {
		rowing = rowing || (sp.Sport == "Rowing" && sp.Activities >= 1)
	}
	if !rowing {
		t.Errorf("the updated activity's sport is not in the report: %+v", after.TopSports)
	}
	if acts, _ := direct(); after.Activities != acts {
		t.Errorf("report after the changes: %d activities, want %d", after.Activities, acts)
	}
}

// generateYear sets up the activities of dir as an operator does: the
// sample HR register imported, the commutes checked, 2025 generated with
// seed.
func generateYear(t *testing.T, dir, seed string) {
	t.Helper()
	sample := filepath.Join("..", "..", "internal", "activities", "hr", "sample", "register.xlsx")
	for _, args := range [][]string{
		{"activities", "import-hr", sample},
		{"activities", "commute"},
		{"activities", "generate", "--year", "2025", "--seed", seed},
	} {
		if r := podium(t, dir, "", args...); r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
	}
}
