package f1_test

import (
	"context"
	"database/sql"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// TestMigrationFillsDriversAndSprintWins gives a store the results and
// standings of 2023's first ten rounds (two sprints) as the schema before
// 0002 held them, then migrates it: f1_drivers and the sprint wins are what
// the processor writes for the same results.
func TestMigrationFillsDriversAndSprintWins(t *testing.T) {
	t.Parallel()
	const rounds = 10
	a := loadArchive(t)
	s23, _ := a.Season(2023)
	var batch []stream.Record[f1.Result]
	for _, r := range s23.Results(1, rounds) {
		if r.DriverID == "max-verstappen" {
			r.HeadshotURL = "https://example.com/ver-" + r.Session + ".png"
		}
		batch = append(batch, stream.Record[f1.Result]{Value: r})
	}
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		// The processor's tables, from the results.
		want := storetest.Open(t, d)
		for _, p := range f1.Processors(nil) {
			if err := stream.Migrate(ctx, want, p.Spec()); err != nil {
				t.Fatal(err)
			}
		}
		if err := want.InTx(ctx, func(tx *sql.Tx) error { return f1.HandleResults(ctx, tx, batch) }); err != nil {
			t.Fatal(err)
		}

		// The same rows in a store at migration 0001.
		old := storetest.Open(t, d)
		first := fstest.MapFS{}
		err := fs.WalkDir(f1.Migrations("results"), ".", func(path string, e fs.DirEntry, err error) error {
			if err != nil || !strings.HasPrefix(path, "0001_") {
				return err
			}
			b, err := fs.ReadFile(f1.Migrations("results"), path)
			first[path] = &fstest.MapFile{Data: b}
			return err
		})
		if err != nil || len(first) == 0 {
			t.Fatalf("migration 0001 of the results: %v", err)
		}
		if err := old.Migrate(ctx, f1.ResultsProcessor, first); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"f1_seasons", "f1_results", "f1_rounds", "f1_sessions", "f1_driver_standings", "f1_constructor_standings"} {
			copyTable(t, want.DB(), old, table)
		}
		if err := old.Migrate(ctx, f1.ResultsProcessor, f1.Migrations("results")); err != nil {
			t.Fatal(err)
		}

		gotD, err := f1.SeasonDrivers(ctx, old.DB(), 2023)
		if err != nil {
			t.Fatal(err)
		}
		wantD, err := f1.SeasonDrivers(ctx, want.DB(), 2023)
		if err != nil {
			t.Fatal(err)
		}
		if len(wantD) != 20 || !reflect.DeepEqual(gotD, wantD) {
			t.Errorf("f1_drivers filled by the migration:\n got %+v\nwant %+v", gotD, wantD)
		}
		for _, d := range gotD {
			if d.DriverID == "max-verstappen" && d.HeadshotURL != "https://example.com/ver-RACE.png" {
				t.Errorf("Verstappen's headshot %q, want the race's", d.HeadshotURL)
			}
		}
		sprintWins := 0
		for round := 1; round <= rounds; round++ {
			gotS, err := f1.DriverStandings(ctx, old.DB(), 2023, round)
			if err != nil {
				t.Fatal(err)
			}
			wantS, err := f1.DriverStandings(ctx, want.DB(), 2023, round)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotS, wantS) {
				t.Errorf("drivers' standings after round %d:\n got %+v\nwant %+v", round, gotS, wantS)
			}
			gotC, err := f1.ConstructorStandings(ctx, old.DB(), 2023, round)
			if err != nil {
				t.Fatal(err)
			}
			wantC, err := f1.ConstructorStandings(ctx, want.DB(), 2023, round)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotC, wantC) {
				t.Errorf("constructors' standings after round %d:\n got %+v\nwant %+v", round, gotC, wantC)
			}
			if round == rounds {
				for _, s := range gotS {
					sprintWins += s.SprintWins
				}
			}
		}
		if sprintWins != 2 { // Pérez at Baku (round 4), Verstappen in Austria (round 10)
			t.Errorf("%d sprint wins after round %d, want 2", sprintWins, rounds)
		}

		// 0003: the results stored before it keep their points, now the
		// rules' (derived), with no official figure, an official fastest
		// lap, no provisional race and no amendment.
		for round := 1; round <= rounds; round++ {
			cl, err := f1.Classification(ctx, old.DB(), 2023, round, f1.Race)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range cl {
				if _, ok := r.Official(); ok || r.DerivedPoints != r.Points || !r.FastestLapOfficial || r.Source != "" {
					t.Errorf("%s after migration 0003: %v points, rules %v, official %v, fastest lap official %v, source %q",
						r.Key(), r.Points, r.DerivedPoints, r.Result.Points, r.FastestLapOfficial, r.Source)
				}
			}
		}
		rs, err := f1.Rounds(ctx, old.DB(), 2023)
		if err != nil {
			t.Fatal(err)
		}
		for _, rd := range rs {
			for _, s := range rd.Sessions {
				if s.Provisional {
					t.Errorf("round %d %s provisional after migration 0003", rd.Round, s.Session)
				}
			}
		}
		if as, err := f1.Amendments(ctx, old.DB(), 0, 0, ""); err != nil || len(as) != 0 {
			t.Errorf("amendments after migration 0003: %v, %v", as, err)
		}
	})
}

// copyTable copies the rows of table from src to dst, for the columns both
// have.
func copyTable(t *testing.T, src *sql.DB, dst *store.Store, table string) {
	t.Helper()
	ctx := context.Background()
	cols := func(db *sql.DB) []string {
		rows, err := db.QueryContext(ctx, `SELECT * FROM `+table+` WHERE 1 = 0`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	have := map[string]bool{}
	for _, c := range cols(dst.DB()) {
		have[c] = true
	}
	var common []string
	for _, c := range cols(src) {
		if have[c] {
			common = append(common, c)
		}
	}
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(common, ", ")+` FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all [][]any
	for rows.Next() {
		vals := make([]any, len(common))
		ptrs := make([]any, len(common))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		all = append(all, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if err := dst.InTx(ctx, func(tx *sql.Tx) error {
		return store.InsertRows(ctx, tx, `INSERT INTO `+table+` (`+strings.Join(common, ", ")+`)`, all, "")
	}); err != nil {
		t.Fatalf("copy %s: %v", table, err)
	}
}
