package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/podiumhq/podium/internal/store"
)

// Run is the conformance suite of the store: every dialect passes the same
// tests. open returns a fresh, empty store of that dialect.
func Run(t *testing.T, d store.Dialect, open func(t *testing.T) *store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"MigrateOnceInOrder", testMigrate},
		{"MigrateDialectFiles", testMigrateDialect},
		{"MigrateConcurrently", testMigrateConcurrently},
		{"MigrateBadFile", testMigrateBadFile},
		{"ForgetAndDrop", testForgetAndDrop},
		{"Upsert", testUpsert},
		{"TxRollback", testTxRollback},
		{"ConcurrentWriters", testConcurrentWriters},
		{"TimeRoundTrip", testTimeRoundTrip},
		{"InsertRows", testInsertRows},
		{"InsertRowsUpsert", testInsertRowsUpsert},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if s.Dialect() != d {
				t.Fatalf("dialect %s, want %s", s.Dialect(), d)
			}
			tc.fn(t, s)
		})
	}
}

var base = fstest.MapFS{
	"0001_teams.sql":   {Data: []byte(`CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL);`)},
	"0002_drivers.sql": {Data: []byte(`CREATE TABLE drivers (id TEXT PRIMARY KEY, team_id TEXT REFERENCES teams(id)); INSERT INTO teams VALUES ('red-bull', 'Red Bull');`)},
	"README.md":        {Data: []byte("not a migration")},
}

func count(t *testing.T, s *store.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func testMigrate(t *testing.T, s *store.Store) {
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := s.Migrate(ctx, "f1", base); err != nil {
			t.Fatalf("migrate (run %d): %v", i+1, err)
		}
	}
	if n := count(t, s, `SELECT COUNT(*) FROM teams`); n != 1 {
		t.Fatalf("teams has %d rows after two migrations, want 1 (step applied once)", n)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM podium_migrations WHERE component = $1`, "f1"); n != 2 {
		t.Fatalf("recorded %d migrations, want 2", n)
	}
	// A new step on top applies alone.
	more := fstest.MapFS{"0003_points.sql": {Data: []byte(`ALTER TABLE drivers ADD COLUMN points INTEGER NOT NULL DEFAULT 0;`)}}
	for k, v := range base {
		more[k] = v
	}
	if err := s.Migrate(ctx, "f1", more); err != nil {
		t.Fatalf("migrate step 3: %v", err)
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO drivers (id, team_id, points) VALUES ($1, $2, $3)`, "max-verstappen", "red-bull", 25); err != nil {
		t.Fatalf("use migrated schema: %v", err)
	}
}

func testMigrateDialect(t *testing.T, s *store.Store) {
	ctx := context.Background()
	fsys := fstest.MapFS{
		"0001_events.sql":          {Data: []byte(`CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT);`)},
		"0001_events.postgres.sql": {Data: []byte(`CREATE TABLE events (id BIGINT PRIMARY KEY, kind TEXT, at TIMESTAMPTZ);`)},
		"0001_events.sqlite.sql":   {Data: []byte(`CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, at TEXT);`)},
	}
	if err := s.Migrate(ctx, "events", fsys); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	// The dialect file, which has the "at" column, won over the plain one.
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO events (id, kind, at) VALUES (1, 'x', CURRENT_TIMESTAMP)`); err != nil {
		t.Fatalf("dialect-specific migration not applied: %v", err)
	}
}

func testMigrateConcurrently(t *testing.T, s *store.Store) {
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Migrate(context.Background(), "f1", base)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	if n := count(t, s, `SELECT COUNT(*) FROM teams`); n != 1 {
		t.Fatalf("teams has %d rows, want 1", n)
	}
}

func testMigrateBadFile(t *testing.T, s *store.Store) {
	ctx := context.Background()
	err := s.Migrate(ctx, "x", fstest.MapFS{"teams.sql": {Data: []byte(`SELECT 1`)}})
	if err == nil || !strings.Contains(err.Error(), "NNNN_description.sql") {
		t.Fatalf("badly named migration: %v, want an error saying how to name it", err)
	}
	err = s.Migrate(ctx, "x", fstest.MapFS{"0001_broken.sql": {Data: []byte(`CREATE TABLEZ nope`)}})
	if err == nil || !strings.Contains(err.Error(), "0001_broken.sql") {
		t.Fatalf("broken migration: %v, want an error naming the file", err)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM podium_migrations WHERE component = 'x'`); n != 0 {
		t.Fatalf("a failed migration was recorded")
	}
}

func testForgetAndDrop(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if err := s.Migrate(ctx, "f1", base); err != nil {
		t.Fatal(err)
	}
	if err := s.DropTables(ctx, "drivers", "teams", "no_such_table"); err != nil {
		t.Fatalf("drop: %v", err)
	}
	if err := s.Forget(ctx, "f1"); err != nil {
		t.Fatalf("forget: %v", err)
	}
	if err := s.Migrate(ctx, "f1", base); err != nil {
		t.Fatalf("migrate after forget: %v", err)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM teams`); n != 1 {
		t.Fatalf("teams has %d rows after rebuild, want 1", n)
	}
}

func testUpsert(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if err := s.Migrate(ctx, "up", fstest.MapFS{"0001_points.sql": {Data: []byte(
		`CREATE TABLE points (season INTEGER, driver TEXT, points DOUBLE PRECISION, PRIMARY KEY (season, driver));`)}}); err != nil {
		t.Fatal(err)
	}
	up := `INSERT INTO points (season, driver, points) VALUES ($1, $2, $3)
		ON CONFLICT (season, driver) DO UPDATE SET points = excluded.points`
	for _, p := range []float64{25, 18, 26} {
		if _, err := s.DB().ExecContext(ctx, up, 2023, "max-verstappen", p); err != nil {
			t.Fatalf("upsert: %v", err)
		}
	}
	var got float64
	if err := s.DB().QueryRowContext(ctx, `SELECT points FROM points WHERE season = $1 AND driver = $2`, 2023, "max-verstappen").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != 26 || count(t, s, `SELECT COUNT(*) FROM points`) != 1 {
		t.Fatalf("after upserts: points %v in %d rows, want 26 in 1", got, count(t, s, `SELECT COUNT(*) FROM points`))
	}
}

func testTxRollback(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if err := s.Migrate(ctx, "f1", base); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO teams VALUES ('ferrari', 'Ferrari')`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v, want the function's error", err)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM teams WHERE id = 'ferrari'`); n != 0 {
		t.Fatalf("rolled-back insert is visible")
	}
}

func testConcurrentWriters(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if err := s.Migrate(ctx, "c", fstest.MapFS{"0001_counter.sql": {Data: []byte(
		`CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counter VALUES (1, 0);`)}}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 6, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := s.InTx(ctx, func(tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, `UPDATE counter SET n = n + 1 WHERE id = 1`)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent writer: %v", err)
	}
	if n := count(t, s, `SELECT n FROM counter`); n != workers*each {
		t.Fatalf("counter = %d, want %d (lost updates)", n, workers*each)
	}
}

func testTimeRoundTrip(t *testing.T, s *store.Store) {
	ctx := context.Background()
	// SQLite has no time type; modernc's driver reads TIMESTAMP columns back
	// as time.Time.
	ts := "TIMESTAMP"
	if s.Dialect() == store.Postgres {
		ts = "TIMESTAMPTZ"
	}
	if err := s.Migrate(ctx, "t", fstest.MapFS{"0001_t.sql": {Data: []byte(fmt.Sprintf(`CREATE TABLE t (id INTEGER PRIMARY KEY, at %s)`, ts))}}); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2023, 11, 26, 13, 0, 0, 123456000, time.UTC)
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO t VALUES (1, $1)`, want); err != nil {
		t.Fatal(err)
	}
	var got time.Time
	if err := s.DB().QueryRowContext(ctx, `SELECT at FROM t WHERE id = 1`).Scan(&got); err != nil {
		t.Fatalf("scan time: %v", err)
	}
	if !got.Equal(want) {
		t.Fatalf("time round trip: got %v, want %v", got, want)
	}
}

func testInsertRows(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if err := s.Migrate(ctx, "bulk", fstest.MapFS{"0001_bulk.sql": {Data: []byte(
		`CREATE TABLE bulk (id BIGINT PRIMARY KEY, name TEXT NOT NULL, score DOUBLE PRECISION)`)}}); err != nil {
		t.Fatal(err)
	}
	const n = 1234 // more than two full statements and a partial one
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{i, fmt.Sprintf("row %d", i), float64(i) / 2}
	}
	upsert := "ON CONFLICT (id) DO UPDATE SET name = excluded.name, score = excluded.score"
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		return store.InsertRows(ctx, tx, "INSERT INTO bulk (id, name, score)", rows, upsert)
	})
	if err != nil {
		t.Fatalf("insert rows: %v", err)
	}
	rows[7] = []any{7, "changed", 99.5}
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		return store.InsertRows(ctx, tx, "INSERT INTO bulk (id, name, score)", rows[:10], upsert)
	})
	if err != nil {
		t.Fatalf("upsert rows: %v", err)
	}
	if got := count(t, s, `SELECT COUNT(*) FROM bulk`); got != n {
		t.Fatalf("%d rows, want %d", got, n)
	}
	var name string
	var score float64
	if err := s.DB().QueryRowContext(ctx, `SELECT name, score FROM bulk WHERE id = 7`).Scan(&name, &score); err != nil || name != "changed" || score != 99.5 {
		t.Fatalf("row 7 = %q %v (%v), want the upserted values", name, score, err)
	}
	if err := s.DB().QueryRowContext(ctx, `SELECT name FROM bulk WHERE id = $1`, n-1).Scan(&name); err != nil || name != fmt.Sprintf("row %d", n-1) {
		t.Fatalf("last row = %q (%v)", name, err)
	}
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		return store.InsertRows(ctx, tx, "INSERT INTO bulk (id, name, score)", [][]any{{1, "a", 1.0}, {2, "b"}}, "")
	})
	if err == nil || !strings.Contains(err.Error(), "row has 2 values, want 3") {
		t.Fatalf("ragged rows: %v", err)
	}
}

// testInsertRowsUpsert checks InsertRows's upsert semantics on every path
// it takes: small and large batches (COPY through a staging table on
// PostgreSQL from 64 rows), a transaction of InTx or Begin (the fast
// paths) or of database/sql directly (portable statements), twice in one
// transaction, NULLs, conflicts that update and conflicts that do nothing.
func testInsertRowsUpsert(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if err := s.Migrate(ctx, "bulk2", fstest.MapFS{"0001_bulk.sql": {Data: []byte(
		`CREATE TABLE bulk2 (id BIGINT PRIMARY KEY, name TEXT, score DOUBLE PRECISION, at TIMESTAMPTZ, n INTEGER NOT NULL DEFAULT 0)`)}}); err != nil {
		t.Fatal(err)
	}
	const head = "INSERT INTO bulk2 (id, name, score, at)"
	const update = "ON CONFLICT (id) DO UPDATE SET name = excluded.name, score = excluded.score, at = excluded.at, n = bulk2.n + 1"
	base := time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC)
	type row struct {
		name  sql.NullString
		score sql.NullFloat64
		at    sql.NullTime
		n     int
	}
	want := map[int64]row{}
	gen := func(first, count int, tag string) [][]any {
		rows := make([][]any, count)
		for i := range rows {
			id := int64(first + i)
			r := []any{id, fmt.Sprintf("%s %d", tag, id), float64(id) / 4, base.Add(time.Duration(id) * time.Minute)}
			if id%5 == 0 { // NULLs in every nullable column
				r[1], r[2], r[3] = nil, nil, nil
			}
			rows[i] = r
		}
		return rows
	}
	apply := func(rows [][]any, doNothing bool) {
		for _, r := range rows {
			id := r[0].(int64)
			old, seen := want[id]
			if seen && doNothing {
				continue
			}
			var nr row
			if r[1] != nil {
				nr = row{name: sql.NullString{String: r[1].(string), Valid: true}, score: sql.NullFloat64{Float64: r[2].(float64), Valid: true},
					at: sql.NullTime{Time: r[3].(time.Time), Valid: true}}
			}
			if seen {
				nr.n = old.n + 1
			}
			want[id] = nr
		}
	}
	begins := map[string]func(fn func(tx *sql.Tx) error) error{
		"InTx": func(fn func(tx *sql.Tx) error) error { return s.InTx(ctx, fn) },
		"database/sql": func(fn func(tx *sql.Tx) error) error {
			unlock, err := s.LockWrites(ctx)
			if err != nil {
				return err
			}
			defer unlock()
			tx, err := s.DB().BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer func() { _ = tx.Rollback() }()
			if err := fn(tx); err != nil {
				return err
			}
			return tx.Commit()
		},
	}
	first := 1
	for _, how := range []string{"InTx", "database/sql"} {
		for _, count := range []int{1, 63, 64, 300, 1234} {
			// New rows, then the same rows again (each conflicts), then a
			// second batch in the same transaction, overlapping the first.
			fresh := gen(first, count, how)
			again := gen(first, count, how+" again")
			more := gen(first+count/2, count, how+" more")
			err := begins[how](func(tx *sql.Tx) error {
				return store.InsertRows(ctx, tx, head, fresh, update)
			})
			if err != nil {
				t.Fatalf("%s, %d new rows: %v", how, count, err)
			}
			apply(fresh, false)
			err = begins[how](func(tx *sql.Tx) error {
				if err := store.InsertRows(ctx, tx, head, again, update); err != nil {
					return err
				}
				return store.InsertRows(ctx, tx, head, more, update)
			})
			if err != nil {
				t.Fatalf("%s, %d conflicting rows: %v", how, count, err)
			}
			apply(again, false)
			apply(more, false)
			// DO NOTHING keeps what is there and adds what is not.
			ignored := gen(first, 2*count, how+" ignored")
			err = begins[how](func(tx *sql.Tx) error {
				return store.InsertRows(ctx, tx, head, ignored, "ON CONFLICT (id) DO NOTHING")
			})
			if err != nil {
				t.Fatalf("%s, %d rows, do nothing: %v", how, count, err)
			}
			apply(ignored, true)
			first += 2 * count
		}
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT id, name, score, at, n FROM bulk2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int64]row{}
	for rows.Next() {
		var id int64
		var r row
		if err := rows.Scan(&id, &r.name, &r.score, &r.at, &r.n); err != nil {
			t.Fatal(err)
		}
		got[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for id, w := range want {
		g := got[id]
		if g.name != w.name || g.score != w.score || g.n != w.n || g.at.Valid != w.at.Valid || !g.at.Time.Equal(w.at.Time) {
			t.Fatalf("row %d = %+v, want %+v", id, g, w)
		}
	}
}
