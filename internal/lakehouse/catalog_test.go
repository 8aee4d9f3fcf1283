package lakehouse_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"

	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// The tests of this file hold podium's catalog (catalog.go) against
// iceberg-go's SQL catalog, which podium used before and which other Go
// programs use: both on the same database and warehouse, each reads and
// writes what the other wrote.

var pairCols = []lakehouse.Column{
	{Name: "id", Type: lakehouse.Int64, Required: true},
	{Name: "name", Type: lakehouse.String},
}

// icebergCatalog opens iceberg-go's SQL catalog on the store, as podium's
// catalog named CatalogName with the warehouse wh.
func icebergCatalog(t *testing.T, s *store.Store, wh string) *sqlcat.Catalog {
	t.Helper()
	whURL, err := lakehouse.WarehouseURL(wh)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sqlcat.NewCatalog(lakehouse.CatalogName, s.DB(), sqlcat.SupportedDialect(s.Dialect()), iceberg.Properties{"warehouse": whURL})
	if err != nil {
		t.Fatalf("iceberg-go's SQL catalog: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// icebergRows scans tbl with iceberg-go: "id:name", sorted.
func icebergRows(t *testing.T, tbl *table.Table) []string {
	t.Helper()
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		t.Fatalf("iceberg-go scan of %s: %v", tbl.Identifier(), err)
	}
	defer at.Release()
	rdr := array.NewTableReader(at, 0)
	defer rdr.Release()
	var out []string
	for rdr.Next() {
		rec := rdr.RecordBatch()
		ids := rec.Column(int(rec.Schema().FieldIndices("id")[0])).(*array.Int64)
		names := rec.Column(int(rec.Schema().FieldIndices("name")[0]))
		for i := range int(rec.NumRows()) {
			out = append(out, fmt.Sprintf("%d:%s", ids.Value(i), names.ValueStr(i)))
		}
	}
	slices.Sort(out)
	return out
}

// podiumRows scans tb with podium: "id:name", sorted.
func podiumRows(t *testing.T, tb *lakehouse.Table) []string {
	t.Helper()
	rows, err := tb.Scan(context.Background(), lakehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%d:%s", r[0], r[1]))
	}
	slices.Sort(out)
	return out
}

// icebergAppend appends rows "id:name" to tbl with iceberg-go.
func icebergAppend(t *testing.T, tbl *table.Table, rows ...string) *table.Table {
	t.Helper()
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, r := range rows {
		var id int64
		var name string
		if _, err := fmt.Sscanf(strings.Replace(r, ":", " ", 1), "%d %s", &id, &name); err != nil {
			t.Fatal(err)
		}
		b.Field(0).(*array.Int64Builder).Append(id)
		b.Field(1).(*array.StringBuilder).Append(name)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	tx := tbl.NewTransaction()
	if err := tx.Append(context.Background(), rdr, nil); err != nil {
		t.Fatal(err)
	}
	out, err := tx.Commit(context.Background())
	if err != nil {
		t.Fatalf("iceberg-go append to %s: %v", tbl.Identifier(), err)
	}
	return out
}

// catalogRow returns the catalog's row of a table: metadata_location and
// previous_metadata_location.
func catalogRow(t *testing.T, s *store.Store, ns, name string) (cur, prev string) {
	t.Helper()
	var p *string
	if err := s.DB().QueryRowContext(context.Background(), `SELECT metadata_location, previous_metadata_location
		FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3`,
		lakehouse.CatalogName, ns, name).Scan(&cur, &p); err != nil {
		t.Fatalf("catalog row of %s.%s: %v", ns, name, err)
	}
	if p != nil {
		prev = *p
	}
	return cur, prev
}

// TestIcebergGoReadsPodiumCatalog: a table podium creates and commits to
// is listed, loaded and scanned by iceberg-go's SQL catalog, which then
// commits to it in turn, and podium reads that.
func TestIcebergGoReadsPodiumCatalog(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			wh := filepath.Join(t.TempDir(), "warehouse")
			l := openLake(t, s, lakehouse.Config{Warehouse: wh})
			tb, err := l.EnsureTable(ctx, "things.pairs", pairCols, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := tb.Append(ctx, []lakehouse.Row{{int64(1), "one"}, {int64(2), "two"}}, nil); err != nil {
				t.Fatal(err)
			}
			if err := tb.Delete(ctx, lakehouse.EqInt64("id", 1), nil); err != nil {
				t.Fatal(err)
			}
			if err := tb.Append(ctx, []lakehouse.Row{{int64(3), "three"}}, nil); err != nil {
				t.Fatal(err)
			}
			// The row and the files are named as iceberg-go names them.
			cur, prev := catalogRow(t, s, "things", "pairs")
			if cur != tb.MetadataLocation() {
				t.Errorf("metadata_location %s, the table's %s", cur, tb.MetadataLocation())
			}
			wantDir := "file://" + filepath.ToSlash(wh) + "/things.db/pairs/metadata/"
			for i, loc := range []string{prev, cur} {
				base, ok := strings.CutPrefix(loc, wantDir)
				if !ok || !strings.HasPrefix(base, fmt.Sprintf("%05d-", 2+i)) || !strings.HasSuffix(base, ".metadata.json") || len(base) != len("00000-")+36+len(".metadata.json") {
					t.Errorf("metadata file %q: want %s%05d-<uuid>.metadata.json", loc, wantDir, 2+i)
				}
			}

			ic := icebergCatalog(t, s, wh)
			if ok, err := ic.CheckNamespaceExists(ctx, table.Identifier{"things"}); err != nil || !ok {
				t.Errorf("iceberg-go: namespace things exists = %v, %v", ok, err)
			}
			var listed []string
			for id, err := range ic.ListTables(ctx, table.Identifier{"things"}) {
				if err != nil {
					t.Fatal(err)
				}
				listed = append(listed, strings.Join(id, "."))
			}
			if !reflect.DeepEqual(listed, []string{"things.pairs"}) {
				t.Errorf("iceberg-go lists %v", listed)
			}
			itbl, err := ic.LoadTable(ctx, table.Identifier{"things", "pairs"})
			if err != nil {
				t.Fatalf("iceberg-go loads podium's table: %v", err)
			}
			if got, want := icebergRows(t, itbl), []string{"2:two", "3:three"}; !reflect.DeepEqual(got, want) {
				t.Errorf("iceberg-go reads %v, want %v", got, want)
			}
			if n := len(itbl.Metadata().Snapshots()); n != 3 {
				t.Errorf("iceberg-go sees %d snapshots, want 3", n)
			}

			// iceberg-go commits; podium's stale Table is fenced, a fresh one
			// reads both writers' rows.
			icebergAppend(t, itbl, "4:four")
			if err := tb.Append(ctx, []lakehouse.Row{{int64(5), "five"}}, nil); !errors.Is(err, lakehouse.ErrConflict) {
				t.Fatalf("podium's append after iceberg-go's commit: %v, want ErrConflict", err)
			}
			if err := tb.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := podiumRows(t, tb), []string{"2:two", "3:three", "4:four"}; !reflect.DeepEqual(got, want) {
				t.Errorf("podium reads %v, want %v", got, want)
			}
			if err := tb.Append(ctx, []lakehouse.Row{{int64(5), "five"}}, nil); err != nil {
				t.Fatal(err)
			}
			itbl, err = ic.LoadTable(ctx, table.Identifier{"things", "pairs"})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := icebergRows(t, itbl), []string{"2:two", "3:three", "4:four", "5:five"}; !reflect.DeepEqual(got, want) {
				t.Errorf("iceberg-go reads %v, want %v", got, want)
			}

			// Dropped by podium, the table is gone for iceberg-go too.
			if err := l.DropTable(ctx, "things.pairs"); err != nil {
				t.Fatal(err)
			}
			if _, err := ic.LoadTable(ctx, table.Identifier{"things", "pairs"}); !errors.Is(err, catalog.ErrNoSuchTable) {
				t.Errorf("iceberg-go loads a dropped table: %v", err)
			}
			var left []string
			_ = filepath.WalkDir(filepath.Join(wh, "things.db", "pairs"), func(path string, e fs.DirEntry, err error) error {
				if err == nil && !e.IsDir() {
					left = append(left, path)
				}
				return nil
			})
			if len(left) > 0 {
				t.Errorf("the dropped table's files are still there: %v", left)
			}
		})
	}
}

// TestPodiumOpensIcebergGoCatalog: a catalog made by iceberg-go's SQL
// catalog, as podium made them before it had its own, is opened by
// podium, which reads and appends to its table.
func TestPodiumOpensIcebergGoCatalog(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			wh := filepath.Join(t.TempDir(), "warehouse")
			ic := icebergCatalog(t, s, wh)
			id := table.Identifier{"old", "pairs"}
			if err := ic.CreateNamespace(ctx, table.Identifier{"old"}, nil); err != nil {
				t.Fatal(err)
			}
			sc := iceberg.NewSchema(0,
				iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
				iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String})
			itbl, err := ic.CreateTable(ctx, id, sc, catalog.WithProperties(iceberg.Properties{"format-version": "2"}))
			if err != nil {
				t.Fatal(err)
			}
			itbl = icebergAppend(t, itbl, "1:one", "2:two")

			l := openLake(t, s, lakehouse.Config{Warehouse: wh})
			if names, err := l.Tables(ctx); err != nil || !reflect.DeepEqual(names, []string{"old.pairs"}) {
				t.Fatalf("podium lists %v, %v", names, err)
			}
			tb, err := l.EnsureTable(ctx, "old.pairs", pairCols, nil)
			if err != nil {
				t.Fatalf("podium opens iceberg-go's table: %v", err)
			}
			if tb.MetadataLocation() != itbl.MetadataLocation() {
				t.Errorf("podium loaded %s, iceberg-go committed %s", tb.MetadataLocation(), itbl.MetadataLocation())
			}
			if got, want := podiumRows(t, tb), []string{"1:one", "2:two"}; !reflect.DeepEqual(got, want) {
				t.Errorf("podium reads %v, want %v", got, want)
			}
			if err := tb.Append(ctx, []lakehouse.Row{{int64(3), "three"}}, nil); err != nil {
				t.Fatalf("podium appends to iceberg-go's table: %v", err)
			}
			cur, prev := catalogRow(t, s, "old", "pairs")
			if prev != itbl.MetadataLocation() || cur != tb.MetadataLocation() || !strings.Contains(cur, "/metadata/00002-") {
				t.Errorf("catalog row: %s (previous %s); want podium's version 2 after %s", cur, prev, itbl.MetadataLocation())
			}
			// A second table in iceberg-go's namespace, by podium.
			if _, err := l.EnsureTable(ctx, "old.more", pairCols, nil); err != nil {
				t.Fatal(err)
			}

			fresh, err := ic.LoadTable(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := icebergRows(t, fresh), []string{"1:one", "2:two", "3:three"}; !reflect.DeepEqual(got, want) {
				t.Errorf("iceberg-go reads %v after podium's append, want %v", got, want)
			}
			var listed []string
			for id, err := range ic.ListTables(ctx, table.Identifier{"old"}) {
				if err != nil {
					t.Fatal(err)
				}
				listed = append(listed, strings.Join(id, "."))
			}
			slices.Sort(listed)
			if !reflect.DeepEqual(listed, []string{"old.more", "old.pairs"}) {
				t.Errorf("iceberg-go lists %v", listed)
			}
			// The namespace iceberg-go made has one row, podium added none.
			var n int
			if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM iceberg_namespace_properties`).Scan(&n); err != nil || n != 1 {
				t.Errorf("%d namespace property rows, %v; want iceberg-go's one", n, err)
			}
		})
	}
}

// TestLegacyCatalogSchema: a catalog whose iceberg_tables lacks the
// iceberg_type column (JdbcCatalog's schema V0) is used as it is, by
// podium and then by iceberg-go.
func TestLegacyCatalogSchema(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			if _, err := s.DB().ExecContext(ctx, `CREATE TABLE iceberg_tables (catalog_name VARCHAR(255) NOT NULL,
				table_namespace VARCHAR(255) NOT NULL, table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000),
				previous_metadata_location VARCHAR(1000), PRIMARY KEY (catalog_name, table_namespace, table_name))`); err != nil {
				t.Fatal(err)
			}
			wh := filepath.Join(t.TempDir(), "warehouse")
			l := openLake(t, s, lakehouse.Config{Warehouse: wh})
			tb, err := l.EnsureTable(ctx, "v0.pairs", pairCols, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range int64(2) {
				if err := tb.Append(ctx, []lakehouse.Row{{i, "x"}}, nil); err != nil {
					t.Fatal(err)
				}
			}
			if names, err := l.Tables(ctx); err != nil || !reflect.DeepEqual(names, []string{"v0.pairs"}) {
				t.Errorf("tables = %v, %v", names, err)
			}
			var cols int
			if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM iceberg_tables WHERE iceberg_type IS NULL`).Scan(&cols); err == nil {
				t.Error("podium added the column iceberg_type to a V0 catalog")
			}
			itbl, err := icebergCatalog(t, s, wh).LoadTable(ctx, table.Identifier{"v0", "pairs"})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := icebergRows(t, itbl), []string{"0:x", "1:x"}; !reflect.DeepEqual(got, want) {
				t.Errorf("iceberg-go reads %v, want %v", got, want)
			}
		})
	}
}

// TestRacingWriters: writers holding the same version of a table commit
// at once: one wins, every other gets ErrConflict, and the losers leave
// no metadata file behind.
func TestRacingWriters(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			wh := filepath.Join(t.TempDir(), "warehouse")
			l := openLake(t, s, lakehouse.Config{Warehouse: wh})
			if _, err := l.EnsureTable(ctx, "race.pairs", pairCols, nil); err != nil {
				t.Fatal(err)
			}
			const writers = 8
			tables := make([]*lakehouse.Table, writers)
			for i := range tables {
				var err error
				if tables[i], err = l.Table(ctx, "race.pairs"); err != nil {
					t.Fatal(err)
				}
			}
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for i, tb := range tables {
				wg.Go(func() { errs[i] = tb.Append(ctx, []lakehouse.Row{{int64(i), "w"}}, nil) })
			}
			wg.Wait()
			won := 0
			for i, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, lakehouse.ErrConflict):
					t.Errorf("writer %d: %v, want nil or ErrConflict", i, err)
				}
			}
			if won != 1 {
				t.Errorf("%d writers won, want 1: %v", won, errs)
			}
			tb, err := l.Table(ctx, "race.pairs")
			if err != nil {
				t.Fatal(err)
			}
			if rows := podiumRows(t, tb); len(rows) != 1 {
				t.Errorf("rows %v, want the winner's one", rows)
			}
			files, err := filepath.Glob(filepath.Join(wh, "race.db", "pairs", "metadata", "*.metadata.json"))
			if err != nil || len(files) != 2 {
				t.Errorf("metadata files %v, %v; want the table's first and the winner's", files, err)
			}
		})
	}
}

// TestOpenConcurrently: workers opening the lake of a fresh store at once
// all succeed (on PostgreSQL, CREATE TABLE IF NOT EXISTS racing itself
// fails on the system catalogs' unique indexes unless serialised).
func TestOpenConcurrently(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			for round := range 5 {
				s := storetest.Open(t, d)
				wh := filepath.Join(t.TempDir(), "warehouse")
				errs := make([]error, 6)
				var wg sync.WaitGroup
				for i := range errs {
					wg.Go(func() {
						l, err := lakehouse.Open(context.Background(), s.DB(), lakehouse.Dialect(s.Dialect()), lakehouse.Config{Warehouse: wh})
						if err == nil {
							_ = l.Close()
						}
						errs[i] = err
					})
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("round %d, worker %d: %v", round, i, err)
					}
				}
			}
		})
	}
}

// TestMetadataCodecs: a table whose metadata is to be compressed (the
// table property write.metadata.compression-codec) gets its metadata
// files so named and so compressed, which podium and iceberg-go read.
func TestMetadataCodecs(t *testing.T) {
	for _, c := range []struct{ codec, suffix string }{
		{"none", ".metadata.json"},
		{"gzip", ".gz.metadata.json"},
		{"zstd", ".zstd.metadata.json"},
	} {
		t.Run(c.codec, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, store.SQLite)
			wh := filepath.Join(t.TempDir(), "warehouse")
			l := openLake(t, s, lakehouse.Config{Warehouse: wh})
			tb, err := l.EnsureTable(ctx, "codec.pairs", pairCols, map[string]string{"write.metadata.compression-codec": c.codec})
			if err != nil {
				t.Fatal(err)
			}
			for i := range int64(2) {
				if err := tb.Append(ctx, []lakehouse.Row{{i, "x"}}, nil); err != nil {
					t.Fatal(err)
				}
			}
			cur, prev := catalogRow(t, s, "codec", "pairs")
			for i, loc := range []string{prev, cur} {
				base := loc[strings.LastIndex(loc, "/")+1:]
				if !strings.HasPrefix(base, fmt.Sprintf("%05d-", i+1)) || !strings.HasSuffix(base, c.suffix) ||
					c.codec == "none" && strings.Count(base, ".") != 2 {
					t.Errorf("metadata file %s: want %05d-<uuid>%s", base, i+1, c.suffix)
				}
			}
			raw, err := os.ReadFile(strings.TrimPrefix(cur, "file://"))
			if err != nil {
				t.Fatal(err)
			}
			if plain := len(raw) > 0 && raw[0] == '{'; plain != (c.codec == "none") {
				t.Errorf("%s: plain JSON %v", c.codec, plain)
			}
			again, err := l.Table(ctx, "codec.pairs")
			if err != nil {
				t.Fatal(err)
			}
			if got := podiumRows(t, again); !reflect.DeepEqual(got, []string{"0:x", "1:x"}) {
				t.Errorf("podium reads %v", got)
			}
			itbl, err := icebergCatalog(t, s, wh).LoadTable(ctx, table.Identifier{"codec", "pairs"})
			if err != nil {
				t.Fatal(err)
			}
			if got := icebergRows(t, itbl); !reflect.DeepEqual(got, []string{"0:x", "1:x"}) {
				t.Errorf("iceberg-go reads %v", got)
			}
		})
	}
}
