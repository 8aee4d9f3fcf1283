package iceberg

import (
	"bytes"
	"encoding/hex"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"

	"github.com/podiumhq/podium/internal/parquet"
)

func TestTruncateStringUp(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"short", "short", true},
		{strings.Repeat("a", 16), strings.Repeat("a", 16), true},
		{strings.Repeat("a", 15) + "bc", strings.Repeat("a", 15) + "c", true},
		// The 16th code point, す (U+3059), rounds up to U+305A.
		{"日本語のテキストはとても長いです、十六文字以上", "日本語のテキストはとても長いで\u305a", true},
		{strings.Repeat("a", 15) + "\U0010FFFF" + "z", strings.Repeat("a", 14) + "b", true},
		{strings.Repeat("\U0010FFFF", 17), "", false},
		{strings.Repeat("a", 15) + "\uD7FF" + "z", strings.Repeat("a", 15) + "\uE000", true},
	} {
		got, ok := truncateStringUp(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("truncateStringUp(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
		if ok && got < truncateString(c.in) {
			t.Errorf("upper bound %q below the lower %q", got, truncateString(c.in))
		}
	}
}

func TestTruncateBinaryUp(t *testing.T) {
	ff := bytes.Repeat([]byte{0xff}, 17)
	for _, c := range []struct {
		in, want string // hex
		ok       bool
	}{
		{"0102", "0102", true},
		{strings.Repeat("00", 16) + "01", strings.Repeat("00", 15) + "01", true},
		{"01" + strings.Repeat("ff", 16), "02", true},
		{hex.EncodeToString(ff), "", false},
	} {
		in, _ := hex.DecodeString(c.in)
		got, ok := truncateBinaryUp(in)
		if hex.EncodeToString(got) != c.want || ok != c.ok {
			t.Errorf("truncateBinaryUp(%s) = %x, %v; want %s, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestBounds checks Iceberg's single-value serialisation of each type
// (https://iceberg.apache.org/spec/#binary-single-value-serialization).
func TestBounds(t *testing.T) {
	for _, c := range []struct {
		name  string
		col   column
		value iceberg.Literal
		want  string // hex
	}{
		{"long", column{kind: kindLong}, iceberg.Int64Literal(-2), "feffffffffffffff"},
		{"int", column{kind: kindInt}, iceberg.Int32Literal(258), "02010000"},
		{"double", column{kind: kindDouble}, iceberg.Float64Literal(1), "000000000000f03f"},
		{"boolean", column{kind: kindBool}, iceberg.BoolLiteral(true), "01"},
		{"timestamptz", column{kind: kindTimestampTz}, literalOf(column{kind: kindTimestampTz}, 1), "0100000000000000"},
		{"string", column{kind: kindString}, iceberg.StringLiteral("é"), "c3a9"},
		{"binary", column{kind: kindBinary}, iceberg.BinaryLiteral{0, 1}, "0001"},
		{"decimal", column{kind: kindDecimal, precision: 12, scale: 2}, literalOf(column{kind: kindDecimal, scale: 2}, 12345), "3039"},
		{"negative decimal", column{kind: kindDecimal, precision: 12, scale: 2}, literalOf(column{kind: kindDecimal, scale: 2}, -129), "ff7f"},
		{"decimal 128", column{kind: kindDecimal, precision: 12, scale: 2}, literalOf(column{kind: kindDecimal, scale: 2}, 128), "0080"},
	} {
		t.Run(c.name, func(t *testing.T) {
			lo, hi, err := bounds(c.col, c.value, c.value)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(lo) != c.want || hex.EncodeToString(hi) != c.want {
				t.Errorf("bounds %x %x, want %s", lo, hi, c.want)
			}
		})
	}
}

func TestDecimalOf(t *testing.T) {
	for _, c := range []struct {
		hex  string
		want int64
		err  bool
	}{
		{"3039", 12345, false},
		{"ff7f", -129, false},
		{"000000000000003039", 12345, false}, // a fixed of 9 bytes
		{"ffffffffffffffff7f", -129, false},
		{"010000000000000000", 0, true}, // 2^64
	} {
		b, _ := hex.DecodeString(c.hex)
		got, err := decimalOf(b)
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("decimalOf(%s) = %v, %v; want %d (error %v)", c.hex, got, err, c.want, c.err)
		}
	}
}

func TestRowGroups(t *testing.T) {
	defer func(n int) { rowGroupRows = n }(rowGroupRows)
	rowGroupRows = 10
	sc := idStringSchema()
	rows := make([]Row, 25)
	for i := range rows {
		rows[i] = Row{int64(i), strings.Repeat("x", i)}
		if i%4 == 0 {
			rows[i][1] = nil
		}
	}
	ctx := t.Context()
	fsys := iceio.LocalFS{}
	df, err := WriteDataFile(ctx, fsys, t.TempDir()+"/f.parquet", sc, *iceberg.UnpartitionedSpec, rows)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(df.SplitOffsets()); got != 3 {
		t.Errorf("%d split offsets, want 3 (one a row group)", got)
	}
	if df.NullValueCounts()[2] != 7 || df.ValueCounts()[2] != 25 {
		t.Errorf("null counts %v, value counts %v", df.NullValueCounts(), df.ValueCounts())
	}
	// Bounds over all row groups: ids 0 to 24, strings "x" (row 1) to
	// 16 x's, the longest rounded up to "xxxxxxxxxxxxxxxy".
	wantLower := map[int]string{1: "0000000000000000", 2: hex.EncodeToString([]byte("x"))}
	wantUpper := map[int]string{1: "1800000000000000", 2: hex.EncodeToString([]byte(strings.Repeat("x", 15) + "y"))}
	for id := range wantLower {
		if got := hex.EncodeToString(df.LowerBoundValues()[id]); got != wantLower[id] {
			t.Errorf("field %d: lower bound %s, want %s", id, got, wantLower[id])
		}
		if got := hex.EncodeToString(df.UpperBoundValues()[id]); got != wantUpper[id] {
			t.Errorf("field %d: upper bound %s, want %s", id, got, wantUpper[id])
		}
	}
	back, err := ReadDataFile(ctx, fsys, sc, df)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rows) {
		t.Errorf("read back %v\nwant %v", back, rows)
	}
}

// TestReadByFieldID reads a file whose columns come in another order than
// the schema's fields, under other names, with a column the schema does
// not have and without one of its optional fields: matched by field id.
// A file without field ids is matched by name.
func TestReadByFieldID(t *testing.T) {
	sc := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "label", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 3, Name: "added_later", Type: iceberg.PrimitiveTypes.Float64})
	for _, c := range []struct {
		name string
		cols []column // as the file has them
		rows []Row    // as written
		want []Row
	}{
		{"by field id",
			[]column{{id: 9, name: "extra", kind: kindBool}, {id: 2, name: "renamed", kind: kindString}, {id: 1, name: "old_id", kind: kindLong, required: true}},
			[]Row{{true, "a", int64(1)}, {nil, nil, int64(2)}},
			[]Row{{int64(1), "a", nil}, {int64(2), nil, nil}}},
		{"by name without field ids",
			[]column{{id: -1, name: "label", kind: kindString}, {id: -1, name: "id", kind: kindLong, required: true}},
			[]Row{{"b", int64(3)}},
			[]Row{{int64(3), "b", nil}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := t.TempDir() + "/f.parquet"
			writeRaw(t, path, c.cols, c.rows)
			df, err := iceberg.NewDataFileBuilder(*iceberg.UnpartitionedSpec, iceberg.EntryContentData, path, iceberg.ParquetFile, nil, nil, nil, int64(len(c.rows)), 1)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadDataFile(t.Context(), iceio.LocalFS{}, sc, df.Build())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("read %v, want %v", got, c.want)
			}
		})
	}

	// A required field the file lacks is an error.
	path := t.TempDir() + "/f.parquet"
	writeRaw(t, path, []column{{id: 2, name: "label", kind: kindString}}, []Row{{"x"}})
	df, _ := iceberg.NewDataFileBuilder(*iceberg.UnpartitionedSpec, iceberg.EntryContentData, path, iceberg.ParquetFile, nil, nil, nil, 1, 1)
	if _, err := ReadDataFile(t.Context(), iceio.LocalFS{}, sc, df.Build()); err == nil || !strings.Contains(err.Error(), "no column for the required field") {
		t.Errorf("error %v, want one for the missing required field", err)
	}
}

// writeRaw writes rows as a Parquet file of cols (field ids as given, -1
// for none) with the package's column writer.
// idStringSchema is the schema of the internal tests' tables: a required
// long id and an optional string s.
func idStringSchema() *iceberg.Schema {
	return iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "s", Type: iceberg.PrimitiveTypes.String})
}

// idStringTable is a new table of idStringSchema in a temporary directory.
func idStringTable(t *testing.T) *Metadata {
	t.Helper()
	m, err := NewMetadata(t.TempDir()+"/t", idStringSchema(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func writeRaw(t *testing.T, path string, cols []column, rows []Row) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pw, err := parquet.NewWriter(f, parquetColumns(cols), "test")
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]parquet.Values, len(cols))
	for i, c := range cols {
		if vals[i], err = columnValues(c, i, rows, &colMetrics{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pw.WriteRowGroup(vals); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
}
