package quality_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/generate"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// TestValidateRuleKinds runs every kind of rule, passing and failing, on a
// table of its own in SQLite and PostgreSQL.
func TestValidateRuleKinds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		s := storetest.Open(t, d)
		t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		for _, q := range []string{
			`CREATE TABLE qt_items (id BIGINT NOT NULL PRIMARY KEY, name TEXT, price DOUBLE PRECISION NOT NULL,
				at TIMESTAMPTZ, flag BOOLEAN NOT NULL)`,
			`CREATE TABLE qt_ref (code TEXT NOT NULL PRIMARY KEY)`,
			`CREATE TABLE qt_empty (id BIGINT NOT NULL PRIMARY KEY, at TIMESTAMPTZ)`,
		} {
			if _, err := s.DB().ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO qt_items (id, name, price, at, flag) VALUES
			(1, 'a', 10.0, $1, TRUE), (2, 'b', 20.0, $2, FALSE), (3, NULL, -1.0, NULL, TRUE)`, t0, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO qt_ref (code) VALUES ('a')`); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, kind, expr string
			success          bool
			failed           int64
			samples          string // ids of the sampled rows
		}{
			{"not_null", "row", "has(row.name)", false, 1, "3"},
			{"not_null_or_empty", "row", "!has(row.name) || row.name != ''", true, 0, ""},
			{"range", "row", "row.price >= 0.0 && row.price <= 100.0", false, 1, "3"},
			{"allowed", "row", "!has(row.name) || row.name in ['a', 'b']", true, 0, ""},
			{"allowed_fails", "row", "!has(row.name) || row.name in ['a']", false, 1, "2"},
			{"typed_int", "row", "type(row.id) == int && row.id > 0", true, 0, ""},
			{"typed_bool", "row", "row.flag == (row.id != 2)", true, 0, ""},
			{"typed_time", "row", "!has(row.at) || (row.at >= timestamp('2026-03-01T08:00:00Z') && row.at < now)", true, 0, ""},
			{"null_read_fails", "row", "row.at < now", false, 1, "3"},
			{"cross_table", "row", "exists_in('qt_ref', 'code', row.name)", false, 2, "2,3"},
			{"row_count", "table", "table.rows == 3", true, 0, ""},
			{"row_count_fails", "table", "table.rows >= 4", false, 1, ""},
			{"unique", "table", "table.distinct.id == table.rows", true, 0, ""},
			{"unique_fails", "table", "table.distinct.flag == table.rows", false, 1, ""},
			{"nulls", "table", "table.nulls.price == 0", true, 0, ""},
			{"nulls_fail", "table", "table.nulls.name == 0", false, 1, ""},
			{"min_max", "table", "table.min.price == -1.0 && table.max.price == 20.0 && table.max.id == 3", true, 0, ""},
			{"fresh", "table", "now - table.max.at < duration('2h')", true, 0, ""},
			{"fresh_fails", "table", "now - table.max.at < duration('10m')", false, 1, ""},
			{"min_time", "table", "table.min.at == timestamp('2026-03-01T08:00:00Z')", true, 0, ""},
		}
		var y strings.Builder
		y.WriteString("expectations:\n")
		for _, tt := range tests {
			field := "row"
			if tt.kind == "table" {
				field = "table_rule"
			}
			fmt.Fprintf(&y, "  - name: %s\n    table: qt_items\n    %s: %q\n", tt.name, field, tt.expr)
		}
		y.WriteString("  - name: empty_max_absent\n    table: qt_empty\n    table_rule: \"table.rows == 0 && !has(table.max.at)\"\n")
		suite, err := quality.Parse("kinds.yaml", []byte(y.String()))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := suite.Validate(ctx, s.DB(), quality.Options{Now: t0.Add(90 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Success {
			t.Errorf("report success with failing expectations")
		}
		byName := map[string]quality.Result{}
		for _, r := range rep.Results {
			byName[r.Name] = r
		}
		if r := byName["empty_max_absent"]; !r.Success {
			t.Errorf("empty_max_absent: %+v", r)
		}
		for _, tt := range tests {
			r := byName[tt.name]
			var ids []string
			for _, sm := range r.Samples {
				ids = append(ids, fmt.Sprint(sm.Key["id"]))
			}
			if r.Success != tt.success || r.Failed != tt.failed || strings.Join(ids, ",") != tt.samples {
				t.Errorf("%s (%s): success %v, failed %d, samples %v (%s); want %v, %d, %s", tt.name, tt.expr, r.Success,
					r.Failed, ids, r.Message, tt.success, tt.failed, tt.samples)
			}
			if tt.kind == "row" && r.Evaluated != 3 {
				t.Errorf("%s evaluated %d rows, want 3", tt.name, r.Evaluated)
			}
		}
		if v := byName["range"].Samples[0].Values["price"]; v != -1.0 {
			t.Errorf("range sample value %v (%T), want -1", v, v)
		}
		if o := byName["nulls_fail"].Observed; fmt.Sprint(o["nulls.name"]) != "1" {
			t.Errorf("nulls_fail observed %v", o)
		}
		// A cross-table rule naming a missing table is a suite error.
		bad, err := quality.Parse("bad.yaml", []byte("expectations:\n  - name: x\n    table: qt_items\n    row: \"exists_in('qt_nope', 'code', row.name)\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bad.Validate(ctx, s.DB(), quality.Options{}); err == nil || !strings.Contains(err.Error(), "qt_nope") {
			t.Errorf("validate with a missing table: %v", err)
		}
	})
}

// TestDefaultSuiteOnGeneratedData checks that the default suite holds on a
// year the generator writes for the sample register, and catches rows made
// bad, without ever showing personal data.
func TestDefaultSuiteOnGeneratedData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		s := storetest.Open(t, d)
		if _, err := hr.ImportSample(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := activities.Migrate(ctx, s); err != nil {
			t.Fatal(err)
		}
		reg, err := hr.Load(ctx, s.DB())
		if err != nil {
			t.Fatal(err)
		}
		emps := make([]generate.Employee, len(reg.Employees))
		for i, e := range reg.Employees {
			emps[i] = generate.Employee{ID: e.ID, Sports: e.Sports}
		}
		acts, err := generate.Year(emps, generate.Config{Year: time.Now().Year() - 1, Seed: 7, Location: time.UTC})
		if err != nil {
			t.Fatal(err)
		}
		if err := activities.Upsert(ctx, s.DB(), acts...); err != nil {
			t.Fatal(err)
		}
		rep, err := quality.Default().Validate(ctx, s.DB(), quality.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Success {
			t.Fatalf("the default suite fails on generated data: %+v", rep.Failed())
		}

		// Bad rows: each breaks one rule; a salary made negative breaks
		// salary_positive, whose samples must not show it.
		base := acts[0]
		bad := []activities.Activity{base, base, base, base}
		for i := range bad {
			bad[i].ID = int64(9_000_000 + i)
		}
		bad[0].EmployeeID = "NOBODY"
		bad[1].DistanceM = -3
		bad[2].SportType = "Quidditch"
		bad[3].StartTime = time.Now().Add(48 * time.Hour)
		if err := activities.Upsert(ctx, s.DB(), bad...); err != nil {
			t.Fatal(err)
		}
		emp := reg.Employees[0]
		if _, err := s.DB().ExecContext(ctx, `UPDATE hr_employees SET gross_salary = -4321.5 WHERE employee_id = $1`, emp.ID); err != nil {
			t.Fatal(err)
		}
		rep, err = quality.Default().Validate(ctx, s.DB(), quality.Options{})
		if err != nil {
			t.Fatal(err)
		}
		failed := map[string]quality.Result{}
		for _, r := range rep.Failed() {
			failed[r.Name] = r
		}
		for name, id := range map[string]any{"employee_exists": int64(9_000_000), "distance_in_range": int64(9_000_001),
			"sport_known": int64(9_000_002), "not_in_the_future": int64(9_000_003), "salary_positive": emp.ID} {
			r, ok := failed[name]
			key := "id"
			if name == "salary_positive" {
				key = "employee_id"
			}
			if !ok || r.Failed != 1 || len(r.Samples) != 1 || r.Samples[0].Key[key] != id {
				t.Errorf("%s: %+v, want one failing row %v", name, r, id)
			}
		}
		if len(failed) != 5 || rep.Success {
			t.Errorf("failed expectations %v, want 5", len(failed))
		}
		var js, page bytes.Buffer
		if err := rep.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		if err := rep.WriteHTML(&page); err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		if err := json.Unmarshal(js.Bytes(), &back); err != nil || back["success"] != false {
			t.Errorf("JSON report: %v %v", err, back["success"])
		}
		for _, secret := range []string{"4321", emp.LastName, emp.HomeAddress} {
			if secret == "" {
				continue
			}
			if strings.Contains(js.String(), secret) || strings.Contains(page.String(), secret) {
				t.Errorf("the report shows personal data %q", secret)
			}
		}
		if !strings.Contains(page.String(), "Quidditch") || !strings.Contains(page.String(), `id="salary_positive"`) {
			t.Errorf("the HTML report lacks the failing samples")
		}
	})
}
