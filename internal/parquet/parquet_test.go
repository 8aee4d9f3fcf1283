package parquet

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	ap "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/klauspost/compress/zstd"
)

// The tests check the codec against arrow-go's Parquet reader and writer
// (test dependencies only): files it writes read back alike in both, and
// files arrow-go writes — dictionaries, data pages v2, every codec — read
// back as arrow-go wrote them.

// testColumns are a column of every type the codec writes, required and
// optional.
var testColumns = []Column{
	{Name: "id", FieldID: 1, Type: Int64, Required: true},
	{Name: "n", FieldID: 2, Type: Int32},
	{Name: "x", FieldID: 3, Type: Double},
	{Name: "f", FieldID: 4, Type: Float, Required: true},
	{Name: "ok", FieldID: 5, Type: Boolean},
	{Name: "s", FieldID: 6, Type: ByteArray, Logical: Logical{Kind: String}},
	{Name: "b", FieldID: 7, Type: ByteArray, Required: true},
	{Name: "at", FieldID: 8, Type: Int64, Logical: Logical{Kind: Timestamp, Unit: Micros, UTC: true}},
	{Name: "d9", FieldID: 9, Type: Int32, Logical: Logical{Kind: Decimal, Precision: 9, Scale: 2}},
	{Name: "d18", FieldID: 10, Type: Int64, Required: true, Logical: Logical{Kind: Decimal, Precision: 18, Scale: 3}},
	{Name: "fixed", FieldID: 11, Type: FixedLenByteArray, Length: 3},
}

// testValues returns rows of every test column, from row number base: an
// optional column has a null every third row, a string repeats (so that a
// dictionary pays), and one value in 5000 is large.
func testValues(base, rows int) []Values {
	vals := make([]Values, len(testColumns))
	for i, c := range testColumns {
		v := Values{Rows: rows}
		if !c.Required {
			v.Defined = make([]bool, rows)
		}
		for r := range rows {
			n := base + r
			if !c.Required {
				if (n+i)%3 == 0 {
					continue
				}
				v.Defined[r] = true
			}
			switch c.Type {
			case Int64:
				v.Int64 = append(v.Int64, int64(n)*1_000_003-int64(i)<<40)
			case Int32:
				v.Int32 = append(v.Int32, int32(n*7-500))
			case Double:
				v.Double = append(v.Double, float64(n)/7)
			case Float:
				v.Float = append(v.Float, float32(n)*0.5)
			case Boolean:
				v.Bool = append(v.Bool, n%5 < 2)
			case ByteArray:
				s := fmt.Sprintf("value %d é", n%40)
				if n%5000 == 17 {
					s = strings.Repeat("large ", 200_000) // past a page
				}
				if c.Name == "b" {
					s = fmt.Sprintf("%x", n)
					if n%11 == 0 {
						s = ""
					}
				}
				v.Bytes = append(v.Bytes, []byte(s))
			case FixedLenByteArray:
				v.Bytes = append(v.Bytes, []byte{byte(n), byte(n >> 8), byte(n >> 16)})
			}
		}
		vals[i] = v
	}
	return vals
}

// writeTest writes row groups of the given sizes with the codec.
func writeTest(t testing.TB, groups ...int) ([]byte, [][]Values) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testColumns, "podium test")
	if err != nil {
		t.Fatal(err)
	}
	var want [][]Values
	base := 0
	for _, rows := range groups {
		vals := testValues(base, rows)
		info, err := w.WriteRowGroup(vals)
		if err != nil {
			t.Fatal(err)
		}
		for i, ci := range info {
			if ci.Offset < 4 || ci.Size <= 0 || (i > 0 && ci.Offset != info[i-1].Offset+info[i-1].Size) {
				t.Fatalf("column %d lies at %+v, after %+v", i, ci, info[max(i-1, 0)])
			}
		}
		want = append(want, vals)
		base += rows
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), want
}

// readAll reads every column of every row group with the codec.
func readAll(t testing.TB, b []byte) (*File, [][]Values) {
	t.Helper()
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var got [][]Values
	for g := range f.NumRowGroups() {
		var row []Values
		for c := range f.Columns() {
			v, err := f.ReadColumn(g, c)
			if err != nil {
				t.Fatal(err)
			}
			row = append(row, v)
		}
		got = append(got, row)
	}
	return f, got
}

// equalValues compares column values as the codec returns them: empty
// and nil slices alike.
func equalValues(t *testing.T, what string, got, want [][]Values) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d row groups, want %d", what, len(got), len(want))
	}
	for g := range want {
		for c := range want[g] {
			if w, gv := want[g][c], got[g][c]; !sameValues(gv, w) {
				t.Errorf("%s: row group %d, column %s: values differ (%d rows, %d defined, want %d, %d)", what, g, testColumns[c].Name,
					gv.Rows, len(gv.Defined), w.Rows, len(w.Defined))
			}
		}
	}
}

// sameValues reports whether a and b hold the same values, empty and nil
// slices alike.
func sameValues(a, b Values) bool {
	return a.Rows == b.Rows && slices.Equal(a.Defined, b.Defined) && slices.Equal(a.Bool, b.Bool) &&
		slices.Equal(a.Int32, b.Int32) && slices.Equal(a.Int64, b.Int64) && slices.Equal(a.Float, b.Float) &&
		slices.Equal(a.Double, b.Double) && slices.EqualFunc(a.Bytes, b.Bytes, bytes.Equal)
}

func TestRoundTrip(t *testing.T) {
	b, want := writeTest(t, 10_000, 1, 45_000)
	f, got := readAll(t, b)
	equalValues(t, "read back", got, want)
	// Pages: at most pageRows rows, at most pageSize bytes of values but
	// for the one value that is larger.
	for g, rg := range f.meta.rowGroups {
		for c, cc := range rg.columns {
			buf := b[cc.meta.dataPageOffset : cc.meta.dataPageOffset+cc.meta.totalCompressed]
			pages, rows := 0, 0
			for len(buf) > 0 {
				h, n, err := decodePageHeader(buf)
				if err != nil {
					t.Fatal(err)
				}
				if h.numValues > pageRows || (h.uncompressed > pageSize+8*pageRows && h.numValues > 1 && testColumns[c].Type != ByteArray) {
					t.Errorf("row group %d, column %s: a page of %d rows, %d bytes", g, testColumns[c].Name, h.numValues, h.uncompressed)
				}
				pages++
				rows += int(h.numValues)
				buf = buf[n+int(h.compressed):]
			}
			if rows != int(rg.numRows) || (rg.numRows > pageRows && pages < 2) {
				t.Errorf("row group %d, column %s: %d pages of %d rows in all, the row group has %d", g, testColumns[c].Name, pages, rows, rg.numRows)
			}
		}
	}
	if !reflect.DeepEqual(f.Columns(), testColumns) {
		t.Errorf("columns read back:\n%+v\nwant\n%+v", f.Columns(), testColumns)
	}
	if f.NumRows() != 55_001 {
		t.Errorf("%d rows, want 55001", f.NumRows())
	}
}

// TestArrowReadsOurs reads the codec's files with arrow-go.
func TestArrowReadsOurs(t *testing.T) {
	b, want := writeTest(t, 10_000, 1, 20_000)
	pr, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	sc := pr.MetaData().Schema
	for i, c := range testColumns {
		d := sc.Column(i)
		if d.Name() != c.Name || int(d.SchemaNode().FieldID()) != c.FieldID || d.PhysicalType() != ap.Type(c.Type) {
			t.Errorf("column %d: arrow-go reads %s (id %d, %s), want %s (id %d, %s)", i, d.Name(), d.SchemaNode().FieldID(), d.PhysicalType(), c.Name, c.FieldID, c.Type)
		}
		if c.Required != (d.SchemaNode().RepetitionType() == ap.Repetitions.Required) {
			t.Errorf("column %s: repetition %s", c.Name, d.SchemaNode().RepetitionType())
		}
		switch lt := d.LogicalType().(type) {
		case schema.StringLogicalType:
			if c.Logical.Kind != String {
				t.Errorf("column %s: arrow-go reads a string", c.Name)
			}
		case interface{ Precision() int32 }:
			dec := lt.(interface{ Scale() int32 })
			if c.Logical.Kind != Decimal || int(lt.Precision()) != c.Logical.Precision || int(dec.Scale()) != c.Logical.Scale {
				t.Errorf("column %s: arrow-go reads %s", c.Name, lt)
			}
		case interface{ IsAdjustedToUTC() bool }:
			unit := lt.(interface{ TimeUnit() schema.TimeUnitType })
			if c.Logical.Kind != Timestamp || unit.TimeUnit() != schema.TimeUnitMicros || !lt.IsAdjustedToUTC() {
				t.Errorf("column %s: arrow-go reads %s", c.Name, lt)
			}
		default:
			if c.Logical.Kind != NoLogical {
				t.Errorf("column %s: arrow-go reads %s, want %s", c.Name, lt, c.Logical)
			}
		}
	}
	equalValues(t, "arrow-go reads", arrowRead(t, pr), want)
}

// arrowRead reads every column of every row group with arrow-go.
func arrowRead(t *testing.T, pr *file.Reader) [][]Values {
	t.Helper()
	var out [][]Values
	for g := range pr.NumRowGroups() {
		rg := pr.RowGroup(g)
		rows := int(rg.NumRows())
		var vals []Values
		for i := range rg.NumColumns() {
			cr, err := rg.Column(i)
			if err != nil {
				t.Fatal(err)
			}
			v := Values{Rows: rows}
			def := make([]int16, rows)
			switch cr := cr.(type) {
			case *file.Int64ColumnChunkReader:
				v.Int64 = arrowBatch(t, cr.ReadBatch, rows, def)
			case *file.Int32ColumnChunkReader:
				v.Int32 = arrowBatch(t, cr.ReadBatch, rows, def)
			case *file.Float64ColumnChunkReader:
				v.Double = arrowBatch(t, cr.ReadBatch, rows, def)
			case *file.Float32ColumnChunkReader:
				v.Float = arrowBatch(t, cr.ReadBatch, rows, def)
			case *file.BooleanColumnChunkReader:
				v.Bool = arrowBatch(t, cr.ReadBatch, rows, def)
			case *file.ByteArrayColumnChunkReader:
				for _, x := range arrowBatch(t, cr.ReadBatch, rows, def) {
					v.Bytes = append(v.Bytes, bytes.Clone(x))
				}
			case *file.FixedLenByteArrayColumnChunkReader:
				for _, x := range arrowBatch(t, cr.ReadBatch, rows, def) {
					v.Bytes = append(v.Bytes, bytes.Clone(x))
				}
			default:
				t.Fatalf("column %d: a %T", i, cr)
			}
			n := v.count(Type(cr.Descriptor().PhysicalType()))
			if cr.Descriptor().MaxDefinitionLevel() > 0 {
				v.Defined = make([]bool, rows)
				for r, d := range def {
					v.Defined[r] = d == 1
				}
			} else if n != rows {
				t.Fatalf("column %d: arrow-go read %d of %d values", i, n, rows)
			}
			vals = append(vals, v)
		}
		out = append(out, vals)
	}
	return out
}

// arrowBatch reads the rows values of a column chunk with an arrow-go
// reader's ReadBatch, the definition levels into def.
func arrowBatch[T any](t *testing.T, read func(int64, []T, []int16, []int16) (int64, int, error), rows int, def []int16) []T {
	t.Helper()
	vals := make([]T, rows)
	_, n, err := read(int64(rows), vals, def, nil)
	if err != nil {
		t.Fatal(err)
	}
	return vals[:n]
}

// arrowSchema is testColumns as an arrow-go schema.
func arrowSchema(t testing.TB) *schema.GroupNode {
	t.Helper()
	var fields schema.FieldList
	for _, c := range testColumns {
		rep := ap.Repetitions.Optional
		if c.Required {
			rep = ap.Repetitions.Required
		}
		var lt schema.LogicalType = schema.NoLogicalType{}
		switch c.Logical.Kind {
		case String:
			lt = schema.StringLogicalType{}
		case Decimal:
			lt = schema.NewDecimalLogicalType(int32(c.Logical.Precision), int32(c.Logical.Scale))
		case Timestamp:
			lt = schema.NewTimestampLogicalType(true, schema.TimeUnitMicros)
		}
		length := -1
		if c.Type == FixedLenByteArray {
			length = c.Length
		}
		n, err := schema.NewPrimitiveNodeLogical(c.Name, rep, lt, ap.Type(c.Type), length, int32(c.FieldID))
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields, n)
	}
	g, err := schema.NewGroupNode("schema", ap.Repetitions.Required, fields, -1)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// arrowWrite writes row groups of values with arrow-go.
func arrowWrite(t testing.TB, groups [][]Values, opts ...ap.WriterProperty) []byte {
	t.Helper()
	var buf bytes.Buffer
	pw := file.NewParquetWriter(&buf, arrowSchema(t), file.WithWriterProps(ap.NewWriterProperties(opts...)))
	for _, vals := range groups {
		rg, err := pw.AppendRowGroupChecked()
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			cw, err := rg.NextColumn()
			if err != nil {
				t.Fatal(err)
			}
			var def []int16
			if v.Defined != nil {
				def = make([]int16, v.Rows)
				for r, d := range v.Defined {
					if d {
						def[r] = 1
					}
				}
			}
			switch cw := cw.(type) {
			case *file.Int64ColumnChunkWriter:
				_, err = cw.WriteBatch(v.Int64, def, nil)
			case *file.Int32ColumnChunkWriter:
				_, err = cw.WriteBatch(v.Int32, def, nil)
			case *file.Float64ColumnChunkWriter:
				_, err = cw.WriteBatch(v.Double, def, nil)
			case *file.Float32ColumnChunkWriter:
				_, err = cw.WriteBatch(v.Float, def, nil)
			case *file.BooleanColumnChunkWriter:
				_, err = cw.WriteBatch(v.Bool, def, nil)
			case *file.ByteArrayColumnChunkWriter:
				bs := make([]ap.ByteArray, len(v.Bytes))
				for j, x := range v.Bytes {
					bs[j] = x
				}
				_, err = cw.WriteBatch(bs, def, nil)
			case *file.FixedLenByteArrayColumnChunkWriter:
				bs := make([]ap.FixedLenByteArray, len(v.Bytes))
				for j, x := range v.Bytes {
					bs[j] = x
				}
				_, err = cw.WriteBatch(bs, def, nil)
			}
			if err != nil {
				t.Fatalf("column %d: %v", i, err)
			}
			if err := cw.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := rg.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestWeReadArrows reads files arrow-go writes, in each of its encodings,
// page versions and codecs.
func TestWeReadArrows(t *testing.T) {
	groups := [][]Values{testValues(0, 10_000), testValues(10_000, 1), testValues(10_001, 20_000)}
	delta := []int32{encDeltaInts, encDeltaLengths, encDeltaStrings, encByteStreamSplit}
	for _, tc := range []struct {
		name string
		opts []ap.WriterProperty
		want []int32 // encodings the file must use
	}{
		{"dictionary, v1, zstd", []ap.WriterProperty{ap.WithCompression(compress.Codecs.Zstd)}, []int32{encRLEDictionary}},
		{"plain, v1, snappy", []ap.WriterProperty{ap.WithDictionaryDefault(false), ap.WithCompression(compress.Codecs.Snappy)}, []int32{encPlain}},
		{"dictionary, v2, gzip", []ap.WriterProperty{ap.WithDataPageVersion(ap.DataPageV2), ap.WithCompression(compress.Codecs.Gzip)}, []int32{encRLEDictionary}},
		{"plain, v2, lz4 raw", []ap.WriterProperty{ap.WithDictionaryDefault(false), ap.WithDataPageVersion(ap.DataPageV2), ap.WithCompression(compress.Codecs.Lz4Raw)}, []int32{encPlain}},
		{"dictionary, v1, uncompressed, small pages", []ap.WriterProperty{ap.WithDataPageSize(1000), ap.WithDictionaryPageSizeLimit(200)}, []int32{encRLEDictionary, encPlain}},
		{"plain, v2, uncompressed", []ap.WriterProperty{ap.WithDictionaryDefault(false), ap.WithDataPageVersion(ap.DataPageV2)}, []int32{encPlain}},
		{"delta and byte stream split, v2, zstd", deltaEncodings(ap.WithDataPageVersion(ap.DataPageV2), ap.WithCompression(compress.Codecs.Zstd)), delta},
		{"delta and byte stream split, v1, small pages", deltaEncodings(ap.WithDataPageSize(1000)), delta},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := arrowWrite(t, groups, tc.opts...)
			f, got := readAll(t, b)
			used := map[int32]bool{}
			for _, rg := range f.meta.rowGroups {
				for _, c := range rg.columns {
					for _, e := range c.meta.encodings {
						used[e] = true
					}
				}
			}
			for _, e := range tc.want {
				if !used[e] {
					t.Errorf("arrow-go wrote no page in encoding %d (it used %v): the case tests nothing", e, used)
				}
			}
			equalValues(t, "read", got, groups)
			cols := f.Columns()
			for i := range cols {
				if cols[i] != testColumns[i] {
					t.Errorf("column %d read as %+v, want %+v", i, cols[i], testColumns[i])
				}
			}
		})
	}
}

// deltaEncodings are writer properties that encode each test column in a
// delta or byte-stream-split encoding, without dictionaries (a fixed-length
// one PLAIN: arrow-go writes it in no other).
func deltaEncodings(opts ...ap.WriterProperty) []ap.WriterProperty {
	opts = append(opts, ap.WithDictionaryDefault(false))
	for _, c := range testColumns {
		enc := ap.Encodings.Plain
		switch c.Type {
		case Int32, Int64:
			enc = ap.Encodings.DeltaBinaryPacked
		case Float, Double:
			enc = ap.Encodings.ByteStreamSplit
		case ByteArray:
			enc = ap.Encodings.DeltaLengthByteArray
			if c.Name == "b" {
				enc = ap.Encodings.DeltaByteArray
			}
		}
		opts = append(opts, ap.WithEncodingFor(c.Name, enc))
	}
	return opts
}

// TestBrotliRefused checks that a codec the reader lacks is refused with
// ErrUnsupported, not misread.
func TestBrotliRefused(t *testing.T) {
	b := arrowWrite(t, [][]Values{testValues(0, 100)}, ap.WithCompression(compress.Codecs.Brotli))
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadColumn(0, 0); !errors.Is(err, ErrUnsupported) {
		t.Errorf("reading a Brotli page: %v, want ErrUnsupported", err)
	}
}

func TestWriterRefuses(t *testing.T) {
	cols := []Column{{Name: "id", Type: Int64, Required: true, FieldID: -1}, {Name: "fixed", Type: FixedLenByteArray, Length: 2, FieldID: -1}}
	for _, tc := range []struct {
		name string
		vals []Values
		want string
	}{
		{"a null in a required column", []Values{{Rows: 2, Defined: []bool{true, false}, Int64: []int64{1}}, {Rows: 2, Bytes: [][]byte{{1, 2}, {3, 4}}}}, "null in a required column"},
		{"fewer values than rows", []Values{{Rows: 2, Int64: []int64{1}}, {Rows: 2, Bytes: [][]byte{{1, 2}, {3, 4}}}}, "1 values for 2 rows"},
		{"rows differ", []Values{{Rows: 1, Int64: []int64{1}}, {Rows: 2, Bytes: [][]byte{{1, 2}, {3, 4}}}}, "2 rows, column 0 has 1"},
		{"a fixed value of another length", []Values{{Rows: 1, Int64: []int64{1}}, {Rows: 1, Bytes: [][]byte{{1}}}}, "a value of 1 bytes"},
		{"no rows", []Values{{}, {}}, "0 rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWriter(&bytes.Buffer{}, cols, "test")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.WriteRowGroup(tc.vals); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	good, _ := writeTest(t, 10)
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"not parquet", []byte("hello, this is not parquet"), "not a Parquet file"},
		{"footer too long", append(append([]byte("PAR1xxxx"), 0xff, 0xff, 0, 0), "PAR1"...), "a footer of"},
		{"truncated footer", append(append([]byte("PAR1"), good[len(good)-40:len(good)-8]...), good[len(good)-8:]...), ""},
		{"encrypted", []byte("PAR1xxxxxxxxPARE"), "encrypted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(bytes.NewReader(tc.b), int64(len(tc.b)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestRLE(t *testing.T) {
	for _, tc := range []struct {
		name  string
		b     []byte
		width int
		n     int
		want  []uint32
	}{
		// The example of the format's documentation: values 0..7 bit-packed
		// with a width of 3 (https://parquet.apache.org/docs/file-format/data-pages/encodings/).
		{"bit-packed", []byte{3, 0b10001000, 0b11000110, 0b11111010}, 3, 8, []uint32{0, 1, 2, 3, 4, 5, 6, 7}},
		{"a run", []byte{10 << 1, 4}, 3, 10, []uint32{4, 4, 4, 4, 4, 4, 4, 4, 4, 4}},
		{"padding past n", []byte{3, 0xff}, 1, 3, []uint32{1, 1, 1}},
		{"two-byte values", []byte{2 << 1, 0x01, 0x02}, 10, 2, []uint32{0x201, 0x201}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeRLE(tc.b, tc.width, tc.n, nil)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	for _, bad := range [][]byte{{}, {10 << 1}, {9, 1}, {2 << 1, 9}} {
		if _, err := decodeRLE(bad, 3, 10, nil); err == nil {
			t.Errorf("decodeRLE(%v) decoded", bad)
		}
	}
	levels := []uint8{1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	got, err := decodeRLE(appendRLE(nil, levels, 1), 1, len(levels), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range levels {
		if got[i] != uint32(l) {
			t.Fatalf("levels read back as %v, want %v", got, levels)
		}
	}
}

// FuzzRead opens and reads arbitrary bytes: the reader returns an error or
// values, never panics or allocates without bound.
func FuzzRead(f *testing.F) {
	small, _ := writeTest(f, 5, 3)
	f.Add(small)
	// arrow-go's files: dictionaries in a page v1, delta encodings in v2.
	f.Add(arrowWrite(f, [][]Values{testValues(0, 20)}))
	f.Add(arrowWrite(f, [][]Values{testValues(0, 20)}, deltaEncodings(ap.WithDataPageVersion(ap.DataPageV2))...))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pf, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for g := range pf.NumRowGroups() {
			for c := range pf.Columns() {
				v, err := pf.ReadColumn(g, c)
				if err != nil {
					continue
				}
				if v.Rows != pf.RowGroupRows(g) || (v.Defined != nil && len(v.Defined) != v.Rows) {
					t.Fatalf("row group %d column %d: %d rows, %d definitions; the row group has %d", g, c, v.Rows, len(v.Defined), pf.RowGroupRows(g))
				}
			}
		}
	})
}

// TestZstdWindow checks that pages are compressed with a window no larger
// than a page, so that an encoder keeps no more history than that, and
// that the frames decode as standard zstd.
func TestZstdWindow(t *testing.T) {
	var src bytes.Buffer
	for i := 0; src.Len() < 4*zstdWindow; i++ {
		fmt.Fprintf(&src, "row %d of a page, value %d\n", i, i*i%977)
	}
	frame := compressZstd(nil, src.Bytes())
	var h zstd.Header
	if err := h.Decode(frame); err != nil {
		t.Fatal(err)
	}
	if h.WindowSize == 0 || h.WindowSize > zstdWindow {
		t.Errorf("a window of %d bytes (single segment %v), want at most %d", h.WindowSize, h.SingleSegment, zstdWindow)
	}
	back, err := decompress(Zstd, frame, src.Len())
	if err != nil || !bytes.Equal(back, src.Bytes()) {
		t.Errorf("decoded %d bytes, want %d: %v", len(back), src.Len(), err)
	}
}
