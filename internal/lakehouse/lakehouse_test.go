package lakehouse_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

var cols = []lakehouse.Column{
	{Name: "id", Type: lakehouse.Int64, Required: true},
	{Name: "name", Type: lakehouse.String, Required: true},
	{Name: "score", Type: lakehouse.Float64},
	{Name: "n", Type: lakehouse.Int32},
	{Name: "ok", Type: lakehouse.Bool},
	{Name: "at", Type: lakehouse.Timestamp},
	{Name: "raw", Type: lakehouse.Binary},
	{Name: "amount", Type: lakehouse.Decimal12x2},
}

var t0 = time.Date(2025, 3, 1, 7, 30, 0, 123456000, time.UTC)

func row(id int64, name string) lakehouse.Row {
	// amount: cents, negative ones and the largest decimal(12,2) included.
	amount := []int64{175617, -5, 999_999_999_999, 0}[id%4]
	return lakehouse.Row{id, name, float64(id) / 2, int32(id), id%2 == 0, t0.Add(time.Duration(id) * time.Hour), []byte(name), amount}
}

// fakeS3 serves an in-memory S3 with a bucket "lake", path-style.
func fakeS3(t *testing.T) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("lake"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return srv.URL
}

type backend struct {
	name    string
	dialect store.Dialect
	s3      bool
}

func openLake(t *testing.T, s *store.Store, cfg lakehouse.Config) *lakehouse.Lake {
	t.Helper()
	l, err := lakehouse.Open(context.Background(), s.DB(), lakehouse.Dialect(s.Dialect()), cfg)
	if err != nil {
		t.Fatalf("open lake: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func sortByID(rows []lakehouse.Row) []lakehouse.Row {
	slices.SortFunc(rows, func(a, b lakehouse.Row) int { return int(a[0].(int64) - b[0].(int64)) })
	return rows
}

func TestLake(t *testing.T) {
	for _, b := range []backend{
		{"sqlite-local", store.SQLite, false},
		{"postgres-local", store.Postgres, false},
		{"sqlite-s3", store.SQLite, true},
		{"postgres-s3", store.Postgres, true},
	} {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, b.dialect)
			cfg := lakehouse.Config{Warehouse: filepath.Join(t.TempDir(), "warehouse")}
			if b.s3 {
				cfg = lakehouse.Config{Warehouse: "s3://lake/podium/", S3Endpoint: fakeS3(t), S3Region: "us-east-1",
					S3AccessKeyID: "key", S3SecretAccessKey: "secret"}
			}
			l := openLake(t, s, cfg)
			if b.dialect == store.Postgres {
				// The catalog honours the search_path: it is in the test's schema.
				var n int
				if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
					WHERE table_schema = current_schema() AND table_name IN ('iceberg_tables', 'iceberg_namespace_properties')`).Scan(&n); err != nil || n != 2 {
					t.Fatalf("catalog tables in the current schema: %d, %v; want 2", n, err)
				}
			}
			tb, err := l.EnsureTable(ctx, "things.items", cols, nil)
			if err != nil {
				t.Fatal(err)
			}
			if b.s3 && !strings.HasPrefix(tb.Location(), "s3://lake/podium/things.db/items") {
				t.Errorf("location %s: want it under s3://lake/podium/", tb.Location())
			}
			if _, ok := tb.Current(); ok {
				t.Fatal("a new table has a snapshot")
			}
			if rows, err := tb.Scan(ctx, lakehouse.ScanOptions{}); err != nil || len(rows) != 0 {
				t.Fatalf("scan of an empty table: %v, %v", rows, err)
			}
			// 1: append three rows, one with nulls.
			r3 := lakehouse.Row{int64(3), "three", nil, nil, nil, nil, nil, nil}
			if err := tb.Append(ctx, []lakehouse.Row{row(1, "one"), row(2, "two"), r3}, map[string]string{"podium.k": "1"}); err != nil {
				t.Fatal(err)
			}
			first, _ := tb.Current()
			// 2: overwrite 2 and 3: 2 goes, 3 is replaced, 4 comes.
			if err := tb.Overwrite(ctx, lakehouse.InInt64("id", 2, 3), []lakehouse.Row{row(3, "THREE"), row(4, "four")},
				map[string]string{"podium.k": "2"}); err != nil {
				t.Fatal(err)
			}
			// 3: delete 1.
			if err := tb.Delete(ctx, lakehouse.EqInt64("id", 1), map[string]string{"podium.k": "3"}); err != nil {
				t.Fatal(err)
			}
			// 4: an empty commit that only records a property.
			if err := tb.Append(ctx, nil, map[string]string{"podium.k": "4"}); err != nil {
				t.Fatal(err)
			}
			// 5: an overwrite that matches nothing and adds nothing.
			if err := tb.Overwrite(ctx, lakehouse.InString("name", "nobody"), nil, map[string]string{"other": "x"}); err != nil {
				t.Fatal(err)
			}

			// Reopen: the catalog is in the store.
			l2 := openLake(t, s, cfg)
			names, err := l2.Tables(ctx)
			if err != nil || !reflect.DeepEqual(names, []string{"things.items"}) {
				t.Fatalf("tables = %v, %v", names, err)
			}
			tb2, err := l2.EnsureTable(ctx, "things.items", cols[:2], nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tb2.Scan(ctx, lakehouse.ScanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if want := []lakehouse.Row{row(3, "THREE"), row(4, "four")}; !reflect.DeepEqual(sortByID(got), want) {
				t.Errorf("current rows:\n got %v\nwant %v", got, want)
			}
			// Time travel to the first snapshot.
			old, err := tb2.Scan(ctx, lakehouse.ScanOptions{SnapshotID: first.ID})
			if err != nil {
				t.Fatal(err)
			}
			if want := []lakehouse.Row{row(1, "one"), row(2, "two"), r3}; !reflect.DeepEqual(sortByID(old), want) {
				t.Errorf("rows as of %d:\n got %v\nwant %v", first.ID, old, want)
			}
			filtered, err := tb2.Scan(ctx, lakehouse.ScanOptions{Filter: lakehouse.EqString("name", "four")})
			if err != nil || len(filtered) != 1 || filtered[0][0] != int64(4) {
				t.Errorf("filtered scan = %v, %v", filtered, err)
			}
			if lim, err := tb2.Scan(ctx, lakehouse.ScanOptions{SnapshotID: first.ID, Limit: 2}); err != nil || len(lim) != 2 {
				t.Errorf("limited scan = %v, %v", lim, err)
			}
			h := tb2.History()
			var ops []string
			for _, s := range h {
				ops = append(ops, s.Operation+":"+s.Summary["podium.k"])
			}
			if want := []string{"append:1", "overwrite:2", "delete:3", "append:4", "overwrite:"}; !reflect.DeepEqual(ops, want) {
				t.Errorf("history = %v, want %v", ops, want)
			}
			if h[0].ID != first.ID || h[1].ParentID != first.ID || h[0].Time.IsZero() {
				t.Errorf("history ids/times: %+v", h[:2])
			}
			if v, ok := tb2.LastProperty("podium.k"); !ok || v != "4" {
				t.Errorf("last podium.k = %q, %v; want 4 (skipping the snapshot without it)", v, ok)
			}
			if _, ok := tb2.LastProperty("missing"); ok {
				t.Error("a missing property was found")
			}

			// A writer holding an old version is fenced.
			if err := tb.Append(ctx, []lakehouse.Row{row(9, "stale")}, nil); err != nil {
				t.Fatal(err) // tb is current: it made every commit
			}
			err = tb2.Append(ctx, []lakehouse.Row{row(10, "ten")}, nil)
			if !errors.Is(err, lakehouse.ErrConflict) {
				t.Fatalf("append on a stale table: %v, want ErrConflict", err)
			}
			if err := tb2.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if err := tb2.Append(ctx, []lakehouse.Row{row(10, "ten")}, nil); err != nil {
				t.Fatal(err)
			}
			all, _ := tb2.Scan(ctx, lakehouse.ScanOptions{})
			if len(all) != 4 {
				t.Errorf("after the fenced retry: %d rows, want 4", len(all))
			}

			// Schema checks and errors.
			if _, err := l2.EnsureTable(ctx, "things.items", []lakehouse.Column{{Name: "id", Type: lakehouse.String}}, nil); err == nil {
				t.Error("a column of another type was accepted")
			}
			if _, err := l2.Table(ctx, "things.nothing"); !errors.Is(err, lakehouse.ErrNoSuchTable) {
				t.Errorf("missing table: %v", err)
			}
			if err := tb2.Append(ctx, []lakehouse.Row{{int64(1)}}, nil); err == nil {
				t.Error("a short row was accepted")
			}
			if err := tb2.Append(ctx, []lakehouse.Row{{nil, "x", nil, nil, nil, nil, nil}}, nil); err == nil {
				t.Error("null in a required column was accepted")
			}
			if err := l2.DropTable(ctx, "things.items"); err != nil {
				t.Fatal(err)
			}
			if names, _ := l2.Tables(ctx); len(names) != 0 {
				t.Errorf("after drop: %v", names)
			}
		})
	}
}

func TestWarehouseURL(t *testing.T) {
	abs, _ := filepath.Abs("wh")
	for _, c := range []struct {
		in, want string
		bad      bool
	}{
		{in: "s3://bucket/prefix/", want: "s3://bucket/prefix"},
		{in: "s3://bucket", want: "s3://bucket"},
		{in: "file:///var/lake", want: "file:///var/lake"},
		{in: "wh", want: "file://" + filepath.ToSlash(abs)},
		{in: "", bad: true},
		{in: "s3://", bad: true},
		{in: "gs://bucket", bad: true},
	} {
		got, err := lakehouse.WarehouseURL(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("WarehouseURL(%q) = %q, %v; want %q (error: %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestOpenBadDialect(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	if _, err := lakehouse.Open(context.Background(), s.DB(), "mysql", lakehouse.Config{Warehouse: t.TempDir()}); err == nil {
		t.Error("mysql was accepted")
	}
}

func TestExpireSnapshots(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	l := openLake(t, s, lakehouse.Config{Warehouse: filepath.Join(t.TempDir(), "warehouse")})
	tb, err := l.EnsureTable(ctx, "things.expiring", cols, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 5; i++ {
		if err := tb.Append(ctx, []lakehouse.Row{row(i, "row")}, map[string]string{"podium.k": strconv.FormatInt(i, 10)}); err != nil {
			t.Fatal(err)
		}
	}
	first := tb.History()[0].ID
	if err := tb.ExpireSnapshots(ctx, time.Hour, 2); err != nil {
		t.Fatal(err)
	}
	if n := len(tb.History()); n != 5 {
		t.Fatalf("expiring snapshots older than an hour left %d of 5, want all", n)
	}
	if err := tb.ExpireSnapshots(ctx, 0, 2); err != nil {
		t.Fatal(err)
	}
	if n := len(tb.History()); n != 2 {
		t.Fatalf("%d snapshots after expiring all but the last 2", n)
	}
	rows, err := tb.Scan(ctx, lakehouse.ScanOptions{})
	if err != nil || len(rows) != 5 {
		t.Fatalf("the current snapshot after expiry: %d rows, %v; want 5", len(rows), err)
	}
	if v, ok := tb.LastProperty("podium.k"); !ok || v != "5" {
		t.Errorf("LastProperty after expiry = %q, %v; want 5", v, ok)
	}
	if _, err := tb.Scan(ctx, lakehouse.ScanOptions{SnapshotID: first}); err == nil {
		t.Error("time travel to an expired snapshot worked")
	}
	// Reloaded from the catalog, the table has the short history too.
	again, err := l.Table(ctx, "things.expiring")
	if err != nil || len(again.History()) != 2 {
		t.Fatalf("reloaded: %v, %v", again, err)
	}
}

// TestConflicts: a commit needs the main branch as the table had it when
// loaded. Another writer's tag (no new snapshot) is built on; another
// writer's snapshot is ErrConflict, and so is an operation planned on
// files another writer rewrote and expired.
func TestConflicts(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	l := openLake(t, s, lakehouse.Config{Warehouse: filepath.Join(t.TempDir(), "warehouse")})
	a, err := l.EnsureTable(ctx, "things.shared", cols, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Append(ctx, []lakehouse.Row{row(1, "one"), row(2, "two")}, nil); err != nil {
		t.Fatal(err)
	}
	b, err := l.Table(ctx, "things.shared")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := b.Current()
	if err := b.Tag(ctx, "kept", first.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(ctx, []lakehouse.Row{row(3, "three")}, map[string]string{"podium.k": "a"}); err != nil {
		t.Fatalf("an append after another writer's tag: %v, want it built on the tag", err)
	}
	if got := a.Tags(); got["kept"] != first.ID {
		t.Errorf("tags after the append: %v; the other writer's tag is lost", got)
	}
	if h := a.History(); len(h) != 2 || h[1].Summary["podium.k"] != "a" || h[1].ParentID != first.ID {
		t.Errorf("history after the append: %+v", h)
	}
	if err := b.Append(ctx, []lakehouse.Row{row(4, "four")}, nil); !errors.Is(err, lakehouse.ErrConflict) {
		t.Fatalf("an append on a moved main branch: %v, want ErrConflict", err)
	}
	// b rewrites the file holding 1 and 2 and expires what came before:
	// a's delete, planned on that file, conflicts.
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, lakehouse.EqInt64("id", 1), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ExpireAllButCurrent(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, lakehouse.EqInt64("id", 2), nil); !errors.Is(err, lakehouse.ErrConflict) {
		t.Fatalf("a delete planned on rewritten files: %v, want ErrConflict", err)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, lakehouse.EqInt64("id", 2), nil); err != nil {
		t.Fatal(err)
	}
	rows, err := a.Scan(ctx, lakehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []lakehouse.Row{row(3, "three")}; !reflect.DeepEqual(rows, want) {
		t.Errorf("rows %v, want %v", rows, want)
	}
}
