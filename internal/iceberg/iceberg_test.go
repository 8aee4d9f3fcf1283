package iceberg_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/klauspost/compress/zstd"

	podice "github.com/podiumhq/podium/internal/iceberg"
)

func TestWriteDataFileRejects(t *testing.T) {
	good := testRows(0, 1)[0]
	with := func(i int, v any) podice.Row {
		r := append(podice.Row(nil), good...)
		r[i] = v
		return r
	}
	for _, c := range []struct {
		name string
		row  podice.Row
		want string
	}{
		{"null in a required column", with(0, nil), "null in a required column"},
		{"a string for a long", with(0, "1"), "want a value for long, got string"},
		{"an int64 for an int", with(1, int64(1)), "want a value for int, got int64"},
		{"an int past int32", with(1, 1<<40), "does not fit an int"},
		{"a float32 for a double", with(2, float32(1)), "want a value for double"},
		{"bytes for a string", with(3, []byte("x")), "want a value for string"},
		{"a string for binary", with(6, "x"), "want a value for binary"},
		{"a time for a boolean", with(4, time.Now()), "want a value for boolean"},
		{"a float for a decimal", with(7, 1.5), "want a value for decimal(12,2)"},
		{"a decimal of 13 digits", with(7, int64(1e12)), "does not fit decimal(12,2)"},
		{"a short row", good[:3], "has 3 values, the schema 8 fields"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.ToSlash(t.TempDir()) + "/f.parquet"
			_, err := podice.WriteDataFile(t.Context(), iceio.LocalFS{}, path, testSchema(), *iceberg.UnpartitionedSpec, []podice.Row{good, c.row})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the failed file is left: %v", err)
			}
		})
	}
}

func TestWriteDataFileAcceptsInt(t *testing.T) {
	path := filepath.ToSlash(t.TempDir()) + "/f.parquet"
	row := testRows(0, 1)[0]
	row[0], row[1] = 7, -3 // int for long and int
	df, err := podice.WriteDataFile(t.Context(), iceio.LocalFS{}, path, testSchema(), *iceberg.UnpartitionedSpec, []podice.Row{row})
	if err != nil {
		t.Fatal(err)
	}
	back, err := podice.ReadDataFile(t.Context(), iceio.LocalFS{}, testSchema(), df)
	if err != nil {
		t.Fatal(err)
	}
	if back[0][0] != int64(7) || back[0][1] != int32(-3) {
		t.Errorf("read back %v %v", back[0][0], back[0][1])
	}
}

// TestWriteDataFileLongExtremes: the least and the greatest long are
// longs (a check of x < -MaxInt64 once refused the least one), and they
// are the file's bounds.
func TestWriteDataFileLongExtremes(t *testing.T) {
	path := filepath.ToSlash(t.TempDir()) + "/f.parquet"
	rows := testRows(0, 2)
	rows[0][0], rows[1][0] = int64(math.MinInt64), int64(math.MaxInt64)
	df, err := podice.WriteDataFile(t.Context(), iceio.LocalFS{}, path, testSchema(), *iceberg.UnpartitionedSpec, rows)
	if err != nil {
		t.Fatal(err)
	}
	back, err := podice.ReadDataFile(t.Context(), iceio.LocalFS{}, testSchema(), df)
	if err != nil {
		t.Fatal(err)
	}
	if back[0][0] != int64(math.MinInt64) || back[1][0] != int64(math.MaxInt64) {
		t.Errorf("read back %v and %v", back[0][0], back[1][0])
	}
	id := testSchema().Fields()[0].ID
	lo, hi := df.LowerBoundValues()[id], df.UpperBoundValues()[id]
	if len(lo) != 8 || len(hi) != 8 || int64(binary.LittleEndian.Uint64(lo)) != math.MinInt64 || int64(binary.LittleEndian.Uint64(hi)) != math.MaxInt64 {
		t.Errorf("bounds %x .. %x, want the least and the greatest long", lo, hi)
	}
}

// TestDataFileLayout checks what other engines rely on: zstd pages,
// Iceberg field ids on the columns, Iceberg's physical and logical types.
func TestDataFileLayout(t *testing.T) {
	path := filepath.ToSlash(t.TempDir()) + "/f.parquet"
	df, err := podice.WriteDataFile(t.Context(), iceio.LocalFS{}, path, testSchema(), *iceberg.UnpartitionedSpec, testRows(0, 50))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != df.FileSizeBytes() || df.Count() != 50 {
		t.Errorf("file of %d bytes, data file says %d; %d records", st.Size(), df.FileSizeBytes(), df.Count())
	}
	pr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	rg := pr.MetaData().RowGroup(0)
	want := []string{"INT64", "INT32", "DOUBLE", "BYTE_ARRAY String", "BOOLEAN", "INT64 Timestamp(isAdjustedToUTC=true, timeUnit=microseconds", "BYTE_ARRAY", "INT64 Decimal(precision=12, scale=2)"}
	for i, f := range testSchema().Fields() {
		d := pr.MetaData().Schema.Column(i)
		if int(d.SchemaNode().FieldID()) != f.ID || d.Name() != f.Name {
			t.Errorf("column %d: %s with field id %d, want %s with %d", i, d.Name(), d.SchemaNode().FieldID(), f.Name, f.ID)
		}
		got := d.PhysicalType().String()
		if lt := d.LogicalType(); lt.IsValid() && !lt.IsNone() {
			got += " " + lt.String()
		}
		if !strings.HasPrefix(got, want[i]) {
			t.Errorf("column %s: %s, want %s", f.Name, got, want[i])
		}
		cc, err := rg.ColumnChunk(i)
		if err != nil {
			t.Fatal(err)
		}
		if cc.Compression() != compress.Codecs.Zstd {
			t.Errorf("column %s compressed with %s", f.Name, cc.Compression())
		}
	}
}

func TestEmptyDataFile(t *testing.T) {
	path := filepath.ToSlash(t.TempDir()) + "/f.parquet"
	df, err := podice.WriteDataFile(t.Context(), iceio.LocalFS{}, path, testSchema(), *iceberg.UnpartitionedSpec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if df.Count() != 0 || len(df.LowerBoundValues()) != 0 {
		t.Errorf("%d records, lower bounds %v", df.Count(), df.LowerBoundValues())
	}
	rows, err := podice.ReadDataFile(t.Context(), iceio.LocalFS{}, testSchema(), df)
	if err != nil || len(rows) != 0 {
		t.Errorf("read %v, %v", rows, err)
	}
}

func TestReadMetadataFileCompressed(t *testing.T) {
	raw, err := os.ReadFile("testdata/java-v2.metadata.json")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write(raw)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	zs := enc.EncodeAll(raw, nil)
	dir := t.TempDir()
	for name, data := range map[string][]byte{"plain.metadata.json": raw, "t.gz.metadata.json": gz.Bytes(), "t.zstd.metadata.json": zs} {
		loc := filepath.Join(dir, name)
		if err := os.WriteFile(loc, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := podice.ReadMetadataFile(iceio.LocalFS{}, loc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s := m.CurrentSnapshot(); s == nil || s.SnapshotID != 3055729675574597004 || s.Operation() != "overwrite" {
			t.Errorf("%s: current snapshot %+v", name, s)
		}
		if len(m.Extra) != 1 || string(m.Extra["x-future-field"]) != `[1, "two", {"three": 3}]` {
			t.Errorf("%s: unknown fields %v", name, m.Extra)
		}
	}
}

func TestAppendLeavesBase(t *testing.T) {
	ctx := t.Context()
	loc := filepath.ToSlash(t.TempDir()) + "/t"
	m, err := podice.NewMetadata(loc, testSchema(), nil)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(m)
	next, err := podice.Append(ctx, iceio.LocalFS{}, m, "", nil, map[string]string{"k": "v", "operation": "overwrite"})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(m)
	if !bytes.Equal(before, after) {
		t.Errorf("Append changed its base:\n%s\n%s", before, after)
	}
	s := next.CurrentSnapshot()
	if s == nil || s.Operation() != "append" || s.Summary["k"] != "v" || s.Summary["total-records"] != "0" || s.ParentSnapshotID != nil {
		t.Fatalf("snapshot %+v", s)
	}
	if len(next.MetadataLog) != 0 {
		t.Errorf("metadata log %v for a table never written", next.MetadataLog)
	}
	rows, err := podice.Scan(ctx, iceio.LocalFS{}, next, 0)
	if err != nil || len(rows) != 0 {
		t.Errorf("scan of an empty snapshot: %v %v", rows, err)
	}
	if rows, err := podice.Scan(ctx, iceio.LocalFS{}, m, 0); err != nil || rows != nil {
		t.Errorf("scan of a table without snapshots: %v %v", rows, err)
	}
	if _, err := podice.Scan(ctx, iceio.LocalFS{}, next, 42); err == nil || !strings.Contains(err.Error(), "no snapshot 42") {
		t.Errorf("scan of an unknown snapshot: %v", err)
	}
}

func TestMetadataLogCapped(t *testing.T) {
	ctx := t.Context()
	loc := filepath.ToSlash(t.TempDir()) + "/t"
	m, err := podice.NewMetadata(loc, testSchema(), map[string]string{"write.metadata.previous-versions-max": "2"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if m, err = podice.Append(ctx, iceio.LocalFS{}, m, metadataPath(loc, i), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.MetadataLog) != 2 || !strings.Contains(m.MetadataLog[1].MetadataFile, "/00003-") {
		t.Errorf("metadata log %+v, want the last 2 files", m.MetadataLog)
	}
	if len(m.Snapshots) != 4 || m.LastSequenceNumber != 4 {
		t.Errorf("%d snapshots, last sequence number %d", len(m.Snapshots), m.LastSequenceNumber)
	}
}

func TestNewMetadataRejects(t *testing.T) {
	for _, f := range []iceberg.NestedField{
		{ID: 1, Name: "d", Type: iceberg.PrimitiveTypes.Date},
		{ID: 1, Name: "wide", Type: iceberg.DecimalTypeOf(38, 2)},
		{ID: 1, Name: "l", Type: &iceberg.ListType{ElementID: 2, Element: iceberg.PrimitiveTypes.Int32}},
	} {
		if _, err := podice.NewMetadata("/t", iceberg.NewSchema(0, f), nil); !errors.Is(err, podice.ErrUnsupported) {
			t.Errorf("%s: error %v, want ErrUnsupported", f.Type, err)
		}
	}
}

func BenchmarkWriteDataFile(b *testing.B) {
	rows := testRows(0, 10_000)
	dir := b.TempDir()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := podice.WriteDataFile(b.Context(), iceio.LocalFS{}, filepath.Join(dir, "f.parquet"), testSchema(), *iceberg.UnpartitionedSpec, rows); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadDataFile(b *testing.B) {
	rows := testRows(0, 10_000)
	df, err := podice.WriteDataFile(b.Context(), iceio.LocalFS{}, filepath.Join(b.TempDir(), "f.parquet"), testSchema(), *iceberg.UnpartitionedSpec, rows)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := podice.ReadDataFile(b.Context(), iceio.LocalFS{}, testSchema(), df); err != nil {
			b.Fatal(err)
		}
	}
}
