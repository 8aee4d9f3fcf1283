package iceberg_test

// The tests here hold podium's Iceberg layer against iceberg-go's table
// package (a test-only import): tables podium writes are read by
// iceberg-go, tables iceberg-go writes are read by podium, and both write
// the same metrics for the same rows.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"

	podice "github.com/podiumhq/podium/internal/iceberg"
	"github.com/podiumhq/podium/internal/lakehouse/lakehousetest"
)

// testSchema has a field of every type podium writes.
func testSchema() *iceberg.Schema {
	return iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "n", Type: iceberg.PrimitiveTypes.Int32},
		iceberg.NestedField{ID: 3, Name: "x", Type: iceberg.PrimitiveTypes.Float64},
		iceberg.NestedField{ID: 4, Name: "s", Type: iceberg.PrimitiveTypes.String, Doc: "a string"},
		iceberg.NestedField{ID: 5, Name: "ok", Type: iceberg.PrimitiveTypes.Bool},
		iceberg.NestedField{ID: 6, Name: "at", Type: iceberg.PrimitiveTypes.TimestampTz},
		iceberg.NestedField{ID: 7, Name: "raw", Type: iceberg.PrimitiveTypes.Binary},
		iceberg.NestedField{ID: 8, Name: "eur", Type: iceberg.DecimalTypeOf(12, 2)},
	)
}

// testRows returns n rows with ids from first, every type, nulls in
// every optional column, strings and binaries past the 16 characters
// bounds are truncated to, negative numbers.
func testRows(first, n int) []podice.Row {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	words := []string{"alpha", "Ωmega-with-a-long-tail-past-sixteen", "", "zürich", "zzzzzzzzzzzzzzzzzzzz", "日本語のテキストはとても長いです、十六文字以上"}
	rows := make([]podice.Row, n)
	for k := range n {
		i := first + k
		r := podice.Row{int64(i), int32(i*7 - 50), float64(i)/3 - 2, words[i%len(words)], i%2 == 0,
			base.Add(time.Duration(i) * 90 * time.Minute).Add(time.Duration(i) * time.Microsecond),
			bytes.Repeat([]byte{byte(i), 0xff}, i%12), int64(i*12345 - 40000)}
		for c := 1; c < len(r); c++ {
			if (i+c)%5 == 0 {
				r[c] = nil
			}
		}
		rows[k] = r
	}
	return rows
}

// sortRows orders rows by their id (column 0).
func sortRows(rows []podice.Row) {
	slices.SortFunc(rows, func(a, b podice.Row) int { return int(a[0].(int64) - b[0].(int64)) })
}

// metadataPath names version v of a table's metadata file.
func metadataPath(loc string, v int) string {
	return fmt.Sprintf("%s/metadata/%05d-%s.metadata.json", loc, v, uuid.New())
}

// writeTable writes batches to a new table at loc with podium's layer, one
// append each, and returns the metadata files written, oldest first.
func writeTable(t *testing.T, loc string, batches [][]podice.Row) []string {
	t.Helper()
	ctx := context.Background()
	fsys := iceio.LocalFS{}
	m, err := podice.NewMetadata(loc, testSchema(), map[string]string{"owner": "podium"})
	if err != nil {
		t.Fatal(err)
	}
	var locs []string
	metaLoc := ""
	for b, rows := range batches {
		var files []iceberg.DataFile
		if rows != nil {
			spec, err := m.DefaultSpec()
			if err != nil {
				t.Fatal(err)
			}
			df, err := podice.WriteDataFile(ctx, fsys, m.DataFileLocation(), m.CurrentSchema(), spec, rows)
			if err != nil {
				t.Fatalf("batch %d: %v", b, err)
			}
			files = append(files, df)
		}
		next, err := podice.Append(ctx, fsys, m, metaLoc, files, map[string]string{"podium.batch": fmt.Sprint(b)})
		if err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
		metaLoc = metadataPath(loc, b+1)
		if err := podice.WriteMetadataFile(fsys, metaLoc, next); err != nil {
			t.Fatal(err)
		}
		m = next
		locs = append(locs, metaLoc)
	}
	return locs
}

// arrowRows converts an Arrow table of testSchema's columns to rows.
func arrowRows(t *testing.T, tbl arrow.Table) []podice.Row {
	t.Helper()
	rows := make([]podice.Row, tbl.NumRows())
	for i := range rows {
		rows[i] = make(podice.Row, tbl.NumCols())
	}
	for c := range int(tbl.NumCols()) {
		r := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for k := range chunk.Len() {
				v, err := lakehousetest.Value(chunk, k)
				if err != nil {
					t.Fatalf("column %d: %v", c, err)
				}
				rows[r][c] = v
				r++
			}
		}
	}
	return rows
}

// recordOf builds an Arrow record of rows in schema sc.
func recordOf(t *testing.T, sc *arrow.Schema, rows []podice.Row) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, row := range rows {
		for i, v := range row {
			if v == nil {
				b.Field(i).AppendNull()
				continue
			}
			switch fb := b.Field(i).(type) {
			case *array.Int64Builder:
				fb.Append(v.(int64))
			case *array.Int32Builder:
				fb.Append(v.(int32))
			case *array.Float64Builder:
				fb.Append(v.(float64))
			case *array.StringBuilder:
				fb.Append(v.(string))
			case *array.LargeStringBuilder:
				fb.Append(v.(string))
			case *array.BooleanBuilder:
				fb.Append(v.(bool))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
			case *array.BinaryBuilder:
				fb.Append(v.([]byte))
			case *array.Decimal128Builder:
				fb.Append(decimal128.FromI64(v.(int64)))
			default:
				t.Fatalf("arrow builder %T", fb)
			}
		}
	}
	return b.NewRecordBatch()
}

// equalRows compares rows as values, in any order.
func equalRows(t *testing.T, what string, got, want []podice.Row) {
	t.Helper()
	got, want = slices.Clone(got), slices.Clone(want)
	sortRows(got)
	sortRows(want)
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(normalise(got[i]), normalise(want[i])) {
			t.Fatalf("%s: row %d:\n got %#v\nwant %#v", what, i, got[i], want[i])
		}
	}
}

// normalise makes rows comparable: an empty binary is an empty slice,
// times are in UTC.
func normalise(r podice.Row) podice.Row {
	out := slices.Clone(r)
	for i, v := range out {
		switch x := v.(type) {
		case []byte:
			if len(x) == 0 {
				out[i] = []byte{}
			}
		case time.Time:
			out[i] = x.UTC()
		}
	}
	return out
}

func TestPodiumTableReadByIcebergGo(t *testing.T) {
	ctx := context.Background()
	loc := filepath.ToSlash(t.TempDir()) + "/db/t"
	batches := [][]podice.Row{testRows(0, 40), testRows(40, 1), nil, testRows(41, 25)}
	locs := writeTable(t, loc, batches)

	tbl, err := table.NewFromLocation(ctx, table.Identifier{"db", "t"}, locs[len(locs)-1],
		func(context.Context) (iceio.IO, error) { return iceio.LocalFS{}, nil }, nil)
	if err != nil {
		t.Fatalf("iceberg-go opens the table: %v", err)
	}
	var all []podice.Row
	for _, b := range batches {
		all = append(all, b...)
	}
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("iceberg-go scans the table: %v", err)
	}
	defer at.Release()
	equalRows(t, "iceberg-go's scan", arrowRows(t, at), all)

	// Every snapshot reads as the batches up to it, by iceberg-go and by
	// podium.
	hist := tbl.Metadata().Snapshots()
	if len(hist) != len(batches) {
		t.Fatalf("%d snapshots, want %d", len(hist), len(batches))
	}
	m, err := podice.ReadMetadataFile(iceio.LocalFS{}, locs[len(locs)-1])
	if err != nil {
		t.Fatal(err)
	}
	var upTo []podice.Row
	for i, b := range batches {
		upTo = append(upTo, b...)
		id := hist[i].SnapshotID
		at, err := tbl.Scan(table.WithSnapshotID(id)).ToArrowTable(ctx)
		if err != nil {
			t.Fatalf("snapshot %d: %v", i, err)
		}
		equalRows(t, fmt.Sprintf("iceberg-go, snapshot %d", i), arrowRows(t, at), upTo)
		at.Release()
		ours, err := podice.Scan(ctx, iceio.LocalFS{}, m, id)
		if err != nil {
			t.Fatal(err)
		}
		equalRows(t, fmt.Sprintf("podium, snapshot %d", i), ours, upTo)

		s := hist[i]
		if got, want := s.Summary.Properties["total-records"], fmt.Sprint(len(upTo)); got != want {
			t.Errorf("snapshot %d: total-records %s, want %s", i, got, want)
		}
		if got, want := s.Summary.Properties["podium.batch"], fmt.Sprint(i); got != want {
			t.Errorf("snapshot %d: podium.batch %q, want %q", i, got, want)
		}
		if s.Summary.Operation != table.OpAppend {
			t.Errorf("snapshot %d: operation %s", i, s.Summary.Operation)
		}
		if s.SequenceNumber != int64(i+1) {
			t.Errorf("snapshot %d: sequence number %d", i, s.SequenceNumber)
		}
		if i > 0 && (s.ParentSnapshotID == nil || *s.ParentSnapshotID != hist[i-1].SnapshotID) {
			t.Errorf("snapshot %d: parent %v, want %d", i, s.ParentSnapshotID, hist[i-1].SnapshotID)
		}
		// The manifest list holds one manifest per append with files so
		// far, the new one first, stamped with the snapshot's id and
		// sequence number.
		mfs, err := podice.Manifests(iceio.LocalFS{}, m.SnapshotByID(id))
		if err != nil {
			t.Fatal(err)
		}
		withFiles := 0
		for _, b := range batches[:i+1] {
			if b != nil {
				withFiles++
			}
		}
		if len(mfs) != withFiles {
			t.Errorf("snapshot %d: %d manifests, want %d", i, len(mfs), withFiles)
		} else if batches[i] != nil && (mfs[0].SnapshotID() != id || mfs[0].SequenceNum() != s.SequenceNumber || mfs[0].AddedRows() != int64(len(batches[i]))) {
			t.Errorf("snapshot %d (%d, sequence %d): new manifest of snapshot %d, sequence %d, %d rows", i, id, s.SequenceNumber, mfs[0].SnapshotID(), mfs[0].SequenceNum(), mfs[0].AddedRows())
		}
	}
	if got := len(slices.Collect(tbl.Metadata().PreviousFiles())); got != len(locs)-1 {
		t.Errorf("metadata log of %d files, want %d", got, len(locs)-1)
	}
	if ref, ok := m.Refs[podice.MainBranch]; !ok || ref.SnapshotID != hist[len(hist)-1].SnapshotID || ref.Type != "branch" {
		t.Errorf("main ref %+v", m.Refs)
	}
	if len(m.SnapshotLog) != len(batches) {
		t.Errorf("snapshot log of %d entries, want %d", len(m.SnapshotLog), len(batches))
	}

	// Records come in Arrow batches too, iceberg-go's streaming read.
	_, recs, err := tbl.Scan().ToArrowRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rec, err := range recs {
		if err != nil {
			t.Fatal(err)
		}
		n += int(rec.NumRows())
		rec.Release()
	}
	if n != len(all) {
		t.Errorf("ToArrowRecords: %d rows, want %d", n, len(all))
	}
}

// icebergGoTable writes batches with iceberg-go's table package, one
// Append each, and returns its metadata files, oldest first.
func icebergGoTable(t *testing.T, loc string, batches [][]podice.Row) []string {
	t.Helper()
	ctx := context.Background()
	fsys := iceio.LocalFS{}
	meta, err := table.NewMetadata(testSchema(), iceberg.UnpartitionedSpec, table.UnsortedSortOrder, loc, iceberg.Properties{"owner": "iceberg-go"})
	if err != nil {
		t.Fatal(err)
	}
	cat := &committer{fsys: fsys, loc: metadataPath(loc, 0), meta: meta}
	if err := writeGoMetadata(fsys, cat.loc, meta); err != nil {
		t.Fatal(err)
	}
	locs := []string{cat.loc}
	fsF := func(context.Context) (iceio.IO, error) { return fsys, nil }
	tbl := table.New(table.Identifier{"db", "t"}, meta, cat.loc, fsF, cat)
	for b, rows := range batches {
		sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
		if err != nil {
			t.Fatal(err)
		}
		rec := recordOf(t, sc, rows)
		rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
		if err != nil {
			t.Fatal(err)
		}
		tbl, err = tbl.Append(ctx, rdr, iceberg.Properties{"batch": fmt.Sprint(b)})
		rdr.Release()
		rec.Release()
		if err != nil {
			t.Fatalf("iceberg-go appends batch %d: %v", b, err)
		}
		locs = append(locs, tbl.MetadataLocation())
	}
	return locs
}

// committer is a table.CatalogIO over metadata files alone.
type committer struct {
	fsys iceio.WriteFileIO
	loc  string
	meta table.Metadata
	v    int
}

func (c *committer) LoadTable(context.Context, table.Identifier) (*table.Table, error) {
	return nil, fmt.Errorf("committer: no LoadTable")
}

func (c *committer) CommitTable(_ context.Context, _ table.Identifier, _ []table.Requirement, updates []table.Update) (table.Metadata, string, error) {
	meta, err := table.UpdateTableMetadata(c.meta, updates, c.loc)
	if err != nil {
		return nil, "", err
	}
	c.v++
	loc := metadataPath(meta.Location(), c.v)
	if err := writeGoMetadata(c.fsys, loc, meta); err != nil {
		return nil, "", err
	}
	c.meta, c.loc = meta, loc
	return meta, loc, nil
}

func writeGoMetadata(fsys iceio.WriteFileIO, loc string, meta table.Metadata) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	return fsys.WriteFile(loc, b)
}

func TestIcebergGoTableReadByPodium(t *testing.T) {
	ctx := context.Background()
	loc := filepath.ToSlash(t.TempDir()) + "/db/t"
	batches := [][]podice.Row{testRows(100, 30), testRows(130, 7), testRows(137, 19)}
	locs := icebergGoTable(t, loc, batches)

	m, err := podice.ReadMetadataFile(iceio.LocalFS{}, locs[len(locs)-1])
	if err != nil {
		t.Fatal(err)
	}
	var all []podice.Row
	for _, b := range batches {
		all = append(all, b...)
	}
	rows, err := podice.Scan(ctx, iceio.LocalFS{}, m, 0)
	if err != nil {
		t.Fatalf("podium scans iceberg-go's table: %v", err)
	}
	equalRows(t, "podium's scan", rows, all)

	// podium appends to iceberg-go's table: its history and summary totals
	// go on, and iceberg-go reads the result.
	spec, err := m.DefaultSpec()
	if err != nil {
		t.Fatal(err)
	}
	more := testRows(156, 9)
	df, err := podice.WriteDataFile(ctx, iceio.LocalFS{}, m.DataFileLocation(), m.CurrentSchema(), spec, more)
	if err != nil {
		t.Fatal(err)
	}
	next, err := podice.Append(ctx, iceio.LocalFS{}, m, locs[len(locs)-1], []iceberg.DataFile{df}, nil)
	if err != nil {
		t.Fatal(err)
	}
	nextLoc := metadataPath(loc, len(locs))
	if err := podice.WriteMetadataFile(iceio.LocalFS{}, nextLoc, next); err != nil {
		t.Fatal(err)
	}
	all = append(all, more...)
	if got, want := next.CurrentSnapshot().Summary["total-records"], fmt.Sprint(len(all)); got != want {
		t.Errorf("total-records %s, want %s", got, want)
	}
	if got, want := next.CurrentSnapshot().Summary["total-data-files"], fmt.Sprint(len(batches)+1); got != want {
		t.Errorf("total-data-files %s, want %s", got, want)
	}
	tbl, err := table.NewFromLocation(ctx, table.Identifier{"db", "t"}, nextLoc,
		func(context.Context) (iceio.IO, error) { return iceio.LocalFS{}, nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	equalRows(t, "iceberg-go after podium's append", arrowRows(t, at), all)
}

// TestMetricsAsIcebergGo writes the same rows with iceberg-go and podium
// and compares the data files' metrics (column sizes aside: the Parquet
// encodings differ).
func TestMetricsAsIcebergGo(t *testing.T) {
	ctx := context.Background()
	rows := testRows(0, 60)
	rows = append(rows, podice.Row{int64(1000), nil, math.NaN(), nil, nil, nil, nil, nil})
	dir := filepath.ToSlash(t.TempDir())
	icebergGoTable(t, dir+"/go", [][]podice.Row{rows})
	goLocs := icebergGoTable(t, dir+"/go2", [][]podice.Row{rows})
	gm, err := podice.ReadMetadataFile(iceio.LocalFS{}, goLocs[len(goLocs)-1])
	if err != nil {
		t.Fatal(err)
	}
	goFiles, err := podice.DataFiles(ctx, iceio.LocalFS{}, gm.CurrentSnapshot())
	if err != nil || len(goFiles) != 1 {
		t.Fatalf("iceberg-go's data files: %v %v", goFiles, err)
	}
	spec, _ := gm.DefaultSpec()
	ours, err := podice.WriteDataFile(ctx, iceio.LocalFS{}, dir+"/ours.parquet", testSchema(), spec, rows)
	if err != nil {
		t.Fatal(err)
	}
	theirs := goFiles[0]
	if ours.Count() != theirs.Count() {
		t.Errorf("record count %d, iceberg-go %d", ours.Count(), theirs.Count())
	}
	// Two differences, where podium follows the spec and Java's writer:
	// iceberg-go counts no NaNs, and it leaves out a lower bound that is
	// empty (the empty string, the empty binary).
	if got := ours.NaNValueCounts(); !reflect.DeepEqual(got, map[int]int64{3: 1}) {
		t.Errorf("NaN counts %v, want map[3:1]", got)
	}
	lower := ours.LowerBoundValues()
	for _, id := range []int{4, 7} {
		if b, ok := lower[id]; !ok || len(b) != 0 {
			t.Errorf("column %d: lower bound %v, want the empty value", id, b)
		}
		delete(lower, id)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"value counts", ours.ValueCounts(), theirs.ValueCounts()},
		{"null counts", ours.NullValueCounts(), theirs.NullValueCounts()},
		{"lower bounds", lower, theirs.LowerBoundValues()},
		{"upper bounds", ours.UpperBoundValues(), theirs.UpperBoundValues()},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s:\n podium     %v\n iceberg-go %v", c.name, c.got, c.want)
		}
	}
	if len(ours.ColumnSizes()) != len(testSchema().Fields()) {
		t.Errorf("column sizes %v", ours.ColumnSizes())
	}
	var sum int64
	for _, s := range ours.ColumnSizes() {
		sum += s
	}
	if sum <= 0 || sum >= ours.FileSizeBytes() {
		t.Errorf("column sizes add up to %d, file of %d bytes", sum, ours.FileSizeBytes())
	}
	back, err := podice.ReadDataFile(ctx, iceio.LocalFS{}, testSchema(), ours)
	if err != nil {
		t.Fatal(err)
	}
	// NaN is not equal to itself: compare that row apart.
	if x := back[len(back)-1][2]; x == nil || !math.IsNaN(x.(float64)) {
		t.Errorf("NaN read back as %v", x)
	}
	equalRows(t, "read back", back[:len(back)-1], rows[:len(rows)-1])
}

// TestMetadataRoundTrip reads the metadata files iceberg-go writes and
// podium's, writes them again, and compares: nothing lost, and iceberg-go
// parses podium's.
func TestMetadataRoundTrip(t *testing.T) {
	dir := filepath.ToSlash(t.TempDir())
	files := icebergGoTable(t, dir+"/go", [][]podice.Row{testRows(0, 3), testRows(3, 2)})
	files = append(files, writeTable(t, dir+"/ours", [][]podice.Row{testRows(0, 3), nil, testRows(3, 1)})...)
	fixtures, err := filepath.Glob("testdata/*.metadata.json")
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("fixtures: %v %v", fixtures, err)
	}
	files = append(files, fixtures...)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := iceio.LocalFS{}.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := podice.ParseMetadata(raw)
			if err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			want, got := parseJSON(t, raw), parseJSON(t, out)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip differs:\n got %s\nwant %s", out, raw)
			}
			gm, err := table.ParseMetadataBytes(out)
			if err != nil {
				t.Fatalf("iceberg-go parses it: %v", err)
			}
			if gm.TableUUID() != m.TableUUID || gm.Location() != m.Location || len(gm.Snapshots()) != len(m.Snapshots) ||
				!gm.CurrentSchema().Equals(m.CurrentSchema()) {
				t.Errorf("iceberg-go reads another table: %s %s %d snapshots", gm.TableUUID(), gm.Location(), len(gm.Snapshots()))
			}
			if cur := m.CurrentSnapshot(); cur != nil {
				if gc := gm.CurrentSnapshot(); gc == nil || gc.SnapshotID != cur.SnapshotID || gc.ManifestList != cur.ManifestList {
					t.Errorf("current snapshot %+v, iceberg-go %+v", cur, gc)
				}
			}
		})
	}
}

func TestParseMetadataRejects(t *testing.T) {
	for _, c := range []struct{ name, json, want string }{
		{"not an object", `[1]`, "cannot unmarshal"},
		{"v1", `{"format-version":1}`, "missing"},
		{"v3", strings.Replace(minimalV2, `"format-version":2`, `"format-version":3`, 1), "not supported"},
		{"no schemas", strings.Replace(minimalV2, `"schemas"`, `"schemata"`, 1), `missing "schemas"`},
		{"bad snapshot", strings.Replace(minimalV2, `"snapshots":[]`, `"snapshots":[{"snapshot-id":"x"}]`, 1), "snapshot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := podice.ParseMetadata([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := podice.ParseMetadata([]byte(minimalV2)); err != nil {
		t.Errorf("the minimal v2 metadata: %v", err)
	}
}

const minimalV2 = `{"format-version":2,"table-uuid":"9c12d441-03fe-4693-9a96-a0705ddf69c1","location":"s3://b/t",
"last-sequence-number":0,"last-updated-ms":1,"last-column-id":1,
"schemas":[{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"a","required":true,"type":"long"}]}],
"current-schema-id":0,"partition-specs":[{"spec-id":0,"fields":[]}],"default-spec-id":0,"last-partition-id":999,
"sort-orders":[{"order-id":0,"fields":[]}],"default-sort-order-id":0,"snapshots":[]}`

// parseJSON parses b with numbers kept exact (snapshot ids exceed a
// float64's 53 bits).
func parseJSON(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
