package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/erase"
	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/activities/payroll"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/datadir"
	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/lakehouse/lakehousetest"
	"github.com/podiumhq/podium/internal/store"
)

// payrollFixture is a data dir with the sample register, its commutes and
// a year of activities, served (capture, rewards, lakehouse committing
// every second) until the lake's silver table holds every activity.
type payrollFixture struct {
	dir string
	s   *store.Store
}

func newPayrollFixture(t *testing.T) *payrollFixture {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "podium.yaml")
	if err := os.WriteFile(cfgFile, []byte("lakehouse:\n  commit_interval: 1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	generateYear(t, dir, "5")
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		a := newApp(&stdout, &stderr, func(string) (string, bool) { return "", false })
		code := a.run(ctx, []string{"--data-dir", dir, "--config", cfgFile, "--http", "127.0.0.1:0", "--log-level", "warn", "serve"})
		served <- result{code, stdout.String(), stderr.String()}
	}()
	t.Cleanup(func() {
		stop()
		r := <-served
		switch {
		case r.code != 0:
			t.Errorf("serve: %+v", r)
		case strings.Contains(r.stderr, "failed; restarting"):
			// A source with nothing to do (the BI schema on SQLite) must
			// not be restarted over and over.
			t.Errorf("serve restarted a service:\n%s", r.stderr)
		}
	})
	waitFor(t, "serve to start", func() bool {
		o, running, err := datadir.Running(dir)
		return err == nil && running && o.HTTPAddr != ""
	})
	s, err := store.Open(context.Background(), filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	f := &payrollFixture{dir: dir, s: s}
	f.waitLake(t)
	return f
}

// lakeTable loads a table of the data dir's lake.
func (f *payrollFixture) lakeTable(t *testing.T, name string) *lakehouse.Table {
	t.Helper()
	l, err := lakehouse.Open(context.Background(), f.s.DB(), lakehouse.SQLite, lakehouse.Config{Warehouse: filepath.Join(f.dir, "warehouse")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	tbl, err := l.Table(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// waitLake waits until the lake's silver table holds the activities of
// sport_activities and gold has been computed from that silver snapshot.
func (f *payrollFixture) waitLake(t *testing.T) { f.waitSilver(t, true) }

// waitSilver waits until the lake's silver table holds the activities of
// sport_activities and, with gold, gold has been computed from that silver
// snapshot (after an erasure, whose last silver snapshot carries the
// positions, gold is computed again with the next event).
func (f *payrollFixture) waitSilver(t *testing.T, withGold bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var want int
		if err := f.s.DB().QueryRow(`SELECT COUNT(*) FROM sport_activities`).Scan(&want); err != nil {
			t.Fatal(err)
		}
		l, err := lakehouse.Open(context.Background(), f.s.DB(), lakehouse.SQLite, lakehouse.Config{Warehouse: filepath.Join(f.dir, "warehouse")})
		if err != nil {
			t.Fatal(err)
		}
		ok := func() bool {
			silver, err := l.Table(context.Background(), lake.TableSilver)
			if err != nil {
				return false
			}
			gold, err := l.Table(context.Background(), lake.TableGold)
			if err != nil {
				return false
			}
			rows, err := silver.Scan(context.Background(), lakehouse.ScanOptions{})
			cur, has := silver.Current()
			base, _ := gold.LastProperty(lake.PropSilverSnapshot)
			return err == nil && has && len(rows) == want && (!withGold || base == strconv.FormatInt(cur.ID, 10))
		}()
		_ = l.Close()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the lake to hold the %d activities", want)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// export runs the export and returns the file's bytes and, for csv, the
// sidecar's.
func (f *payrollFixture) export(t *testing.T, format string, args ...string) (body, meta []byte) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "payroll."+format)
	r := podium(t, f.dir, "", append([]string{"activities", "export", "--year", "2025", "--format", format, "-o", out}, args...)...)
	if r.code != 0 {
		t.Fatalf("export %v: %+v", args, r)
	}
	body, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if format == "csv" {
		if meta, err = os.ReadFile(out + ".meta.json"); err != nil {
			t.Fatal(err)
		}
	}
	return body, meta
}

// TestPayroll runs a served data dir through a payroll export reproduced
// byte for byte, then an employee's erasure, while serve runs.
func TestPayroll(t *testing.T) {
	f := newPayrollFixture(t)
	exportReproducible(t, f)
	if !t.Failed() {
		erasure(t, f)
	}
}

// exportReproducible exports 2025, lets new activities through the
// pipeline, and exports again: as of the first export's snapshot the
// bytes are the same (CSV, its sidecar, the workbook); as of now they
// differ.
func exportReproducible(t *testing.T, f *payrollFixture) {
	csv1, meta1 := f.export(t, "csv")
	var m payroll.Meta
	if err := json.Unmarshal(meta1, &m); err != nil {
		t.Fatalf("sidecar: %v\n%s", err, meta1)
	}
	lines := strings.Split(strings.TrimSpace(string(csv1)), "\n")
	if lines[0] != strings.Join(payroll.Header, ",") || len(lines) < 10 || m.Employees != len(lines)-1 {
		t.Fatalf("export: %d lines, meta %+v:\n%s", len(lines), m, csv1)
	}
	if m.SnapshotID == 0 || !m.RulesRecorded || !strings.HasPrefix(m.RulesVersion, "sha256:") || m.Checksum != sha(csv1) {
		t.Errorf("meta %+v; want the snapshot, a recorded rules version and the file's checksum %s", m, sha(csv1))
	}
	// The figures are the gold table's of that snapshot.
	gold := f.lakeTable(t, lake.TableGold)
	rows, err := gold.Scan(context.Background(), lakehouse.ScanOptions{SnapshotID: m.SnapshotID, Filter: lakehouse.EqInt32("year", 2025)})
	if err != nil || len(rows) != m.Employees {
		t.Fatalf("gold snapshot %d: %d rows (%v), the export %d", m.SnapshotID, len(rows), err, m.Employees)
	}
	if tag, ok := gold.Tags()[payroll.Tag(m.SnapshotID)]; !ok || tag != m.SnapshotID {
		t.Errorf("the snapshot read is not tagged: %v", gold.Tags())
	}
	asOf := strconv.FormatInt(m.SnapshotID, 10)
	xlsx1, _ := f.export(t, "xlsx", "--as-of", asOf)

	// New activities arrive and go through the pipeline.
	var emp string
	if err := f.s.DB().QueryRow(`SELECT MIN(employee_id) FROM hr_employees`).Scan(&emp); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		a := activities.Activity{ID: 9_000_000_001 + int64(i), EmployeeID: emp, StartTime: time.Date(2025, 11, 3+i, 7, 30, 0, 0, time.UTC),
			SportType: "Run", DistanceM: 8000, ElapsedS: 2700, Source: activities.SourceAPI}
		if err := activities.Upsert(context.Background(), f.s.DB(), a); err != nil {
			t.Fatal(err)
		}
	}
	f.waitLake(t)
	time.Sleep(1100 * time.Millisecond) // a second later: nothing may depend on the time of the export

	csv2, meta2 := f.export(t, "csv", "--as-of", asOf)
	if !bytes.Equal(csv1, csv2) || !bytes.Equal(meta1, meta2) {
		t.Errorf("export as of %s changed after new activities:\n%s\n%s\nmeta:\n%s\n%s", asOf, csv1, csv2, meta1, meta2)
	}
	xlsx2, _ := f.export(t, "xlsx", "--as-of", asOf)
	if !bytes.Equal(xlsx1, xlsx2) {
		t.Errorf("xlsx export as of %s: %d and %d bytes, not the same", asOf, len(xlsx1), len(xlsx2))
	}
	wb, err := excelize.OpenReader(bytes.NewReader(xlsx2))
	if err != nil {
		t.Fatal(err)
	}
	props, err := wb.GetDocProps()
	if err != nil || !strings.Contains(props.Keywords, "snapshot_id="+asOf) || !strings.Contains(props.Keywords, m.Checksum) {
		t.Errorf("xlsx document properties %+v (%v): want the snapshot and checksum", props, err)
	}
	_ = wb.Close()

	csv3, meta3 := f.export(t, "csv")
	var m3 payroll.Meta
	if err := json.Unmarshal(meta3, &m3); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(csv1, csv3) || m3.SnapshotID == m.SnapshotID {
		t.Errorf("export of the current snapshot did not change after new activities (snapshot %d)", m3.SnapshotID)
	}
	if !strings.Contains(string(csv3), "\n"+emp+",") {
		t.Errorf("export lacks employee %s", emp)
	}

	// Bad --as-of values say what is wrong.
	for _, tt := range []struct{ asOf, want string }{
		{"123456789012", "no snapshot 123456789012"},
		{"2999-01-01", "not over yet"},
		{"2000-01-01", "oldest snapshot kept"},
		{"last tuesday", "want a snapshot id"},
	} {
		r := podium(t, f.dir, "", "activities", "export", "--year", "2025", "--as-of", tt.asOf)
		if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("export --as-of %q: %+v, want %q", tt.asOf, r, tt.want)
		}
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// erasure erases an employee with serve running and looks for any trace of
// them in the store's tables, the topics and every Parquet file of the
// warehouse (read with arrow-go's Parquet reader, not through Iceberg);
// another employee's figures stay as they were.
func erasure(t *testing.T, f *payrollFixture) {
	ctx := context.Background()
	db := f.s.DB()
	var emp, other, first, last string
	if err := db.QueryRow(`SELECT MIN(employee_id) FROM activities_gold WHERE year = 2025`).Scan(&emp); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT MAX(employee_id) FROM activities_gold WHERE year = 2025`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT first_name, last_name FROM hr_employees WHERE employee_id = $1`, emp).Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	// A Strava link with its tokens.
	if _, err := db.Exec(`INSERT INTO strava_athletes (athlete_id, employee_id, access_token, refresh_token, expires_at, authorized, linked_at, updated_at)
		VALUES (777001, $1, 'tok-a', 'tok-r', 0, true, $2, $2)`, emp, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	otherGold := func() string {
		var s string
		if err := db.QueryRow(`SELECT activities || '/' || distance_m || '/' || bonus_cents || '/' || wellness_days FROM activities_gold
			WHERE employee_id = $1 AND year = 2025`, other).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	otherLake := func() string {
		rows, err := f.lakeTable(t, lake.TableGold).Scan(ctx, lakehouse.ScanOptions{Filter: lakehouse.EqString("employee_id", other)})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rows)
	}
	beforeSQL, beforeLake := otherGold(), otherLake()
	var tagged int
	for tag := range f.lakeTable(t, lake.TableGold).Tags() {
		if strings.HasPrefix(tag, payroll.TagPrefix) {
			tagged++
		}
	}

	r := podium(t, f.dir, "", "activities", "erase", "--employee", emp, "--yes")
	if r.code != 0 {
		t.Fatalf("erase: %+v", r)
	}
	t.Logf("erasure report:\n%s", r.stdout)
	for _, want := range []string{"erasure of employee " + emp, "hr_employees", "strava_athletes", "activities.bronze_changes",
		activities.TopicActivities, payroll.TagPrefix} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the erasure report lacks %q", want)
		}
	}
	if tagged == 0 {
		t.Error("no payroll tag before the erasure: the test does not check their removal")
	}
	// Let the pipeline take whatever the erasure sent through.
	time.Sleep(3 * time.Second)
	f.waitSilver(t, false)

	needles := []string{`"employee_id":"` + emp + `"`, `"employee_id": "` + emp + `"`}
	hit := func(v string) bool {
		if v == emp {
			return true
		}
		for _, n := range needles {
			if strings.Contains(v, n) {
				return true
			}
		}
		return false
	}
	// The store: every text value of every table.
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	tables.Close()
	for _, n := range names {
		rows, err := db.Query(`SELECT * FROM "` + n + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var s string
				switch x := v.(type) {
				case string:
					s = x
				case []byte:
					s = string(x)
				default:
					continue
				}
				if hit(s) {
					t.Errorf("store table %s, column %s still holds employee %s: %.120q", n, cols[i], emp, s)
				}
			}
		}
		rows.Close()
	}
	var named int
	if err := db.QueryRow(`SELECT COUNT(*) FROM hr_employees WHERE first_name = $1 AND last_name = $2`, first, last).Scan(&named); err != nil || named != 0 {
		t.Errorf("hr_employees still names %s %s (%d, %v)", first, last, named, err)
	}

	// The topics: every message kept.
	b := clientBus(t, f.dir)
	infos, err := b.Topics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		if !slices.Contains(erase.Topics, info.Name) || info.Messages == 0 {
			continue
		}
		c, err := b.Consume(ctx, bus.ConsumerConfig{Topic: info.Name, Start: bus.Earliest})
		if err != nil {
			t.Fatal(err)
		}
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		for read := int64(0); read < info.Messages; {
			msgs, err := c.Fetch(fctx, 500)
			if err != nil {
				t.Fatalf("read %s: %d of %d messages: %v", info.Name, read, info.Messages, err)
			}
			read += int64(len(msgs))
			for _, m := range msgs {
				if hit(string(m.Value)) {
					t.Errorf("topic %s offset %d still holds employee %s", info.Name, m.Offset, emp)
				}
			}
		}
		cancel()
		_ = c.Close()
	}

	// The warehouse: every Parquet file, whatever snapshot lists it.
	files := 0
	err = filepath.WalkDir(filepath.Join(f.dir, "warehouse"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		files++
		for _, v := range parquetStrings(t, path) {
			if hit(v) {
				t.Errorf("%s still holds employee %s: %.120q", path, emp, v)
				return nil
			}
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("walk the warehouse: %d parquet files, %v", files, err)
	}
	for tag := range f.lakeTable(t, lake.TableGold).Tags() {
		t.Logf("tag kept: %s", tag)
	}

	// The other employee is untouched.
	if got := otherGold(); got != beforeSQL {
		t.Errorf("employee %s's gold changed: %s, was %s", other, got, beforeSQL)
	}
	if got := otherLake(); got != beforeLake {
		t.Errorf("employee %s's lake gold changed:\n%s\nwas\n%s", other, got, beforeLake)
	}
	// The pipeline goes on: a new activity of the other employee reaches
	// the lake, gold is computed again, and an export of now lacks the
	// erased employee.
	if err := activities.Upsert(ctx, db, activities.Activity{ID: 9_000_000_100, EmployeeID: other, StartTime: time.Date(2025, 12, 1, 7, 0, 0, 0, time.UTC),
		SportType: "Ride", DistanceM: 12000, ElapsedS: 2400, Source: activities.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	f.waitLake(t)
	csv, _ := f.export(t, "csv")
	if strings.Contains(string(csv), "\n"+emp+",") {
		t.Errorf("the export after the erasure still has employee %s", emp)
	}
	// Again: nothing left to erase.
	r = podium(t, f.dir, "", "activities", "erase", "--employee", emp, "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "0 activities") {
		t.Errorf("second erase: %+v", r)
	}
}

// parquetStrings returns every string and binary value of the Parquet file
// at path, read with arrow-go's Parquet reader.
func parquetStrings(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, row := range lakehousetest.ReadParquet(t, path) {
		for _, v := range row {
			switch v := v.(type) {
			case string:
				out = append(out, v)
			case []byte:
				out = append(out, string(v))
			}
		}
	}
	return out
}
