package iceberg

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"

	"github.com/podiumhq/podium/internal/parquet"
)

// rowGroupRows caps the rows of a Parquet row group (a variable for the
// tests).
var rowGroupRows = 1 << 20

// boundLength is the length to which string and binary bounds are
// truncated: Iceberg's default metrics mode, truncate(16).
const boundLength = 16

// parquetColumns returns the Parquet columns of cols, each carrying its
// Iceberg field id, with the physical and logical types Iceberg's spec
// gives (https://iceberg.apache.org/spec/#parquet).
func parquetColumns(cols []column) []parquet.Column {
	out := make([]parquet.Column, len(cols))
	for i, c := range cols {
		pc := parquet.Column{Name: c.name, FieldID: c.id, Required: c.required}
		switch c.kind {
		case kindLong:
			pc.Type = parquet.Int64
		case kindInt:
			pc.Type = parquet.Int32
		case kindDouble:
			pc.Type = parquet.Double
		case kindBool:
			pc.Type = parquet.Boolean
		case kindBinary:
			pc.Type = parquet.ByteArray
		case kindString:
			pc.Type, pc.Logical = parquet.ByteArray, parquet.Logical{Kind: parquet.String}
		case kindTimestampTz:
			pc.Type, pc.Logical = parquet.Int64, parquet.Logical{Kind: parquet.Timestamp, Unit: parquet.Micros, UTC: true}
		case kindDecimal:
			// Precision up to 9 in an int32, up to 18 in an int64, as
			// Iceberg's Java writer does.
			pc.Type = parquet.Int64
			if c.precision <= 9 {
				pc.Type = parquet.Int32
			}
			pc.Logical = parquet.Logical{Kind: parquet.Decimal, Precision: c.precision, Scale: c.scale}
		}
		out[i] = pc
	}
	return out
}

// colMetrics are the Iceberg metrics of one column of a data file, over
// all its row groups.
type colMetrics struct {
	values, nulls, nans int64
	// ext is the column's *extrema[T], T the Go type its values are
	// written as.
	ext bounded
}

// bounded gives the least and greatest value of a column as literals; nil
// without a non-null, non-NaN value.
type bounded interface {
	literals() (lower, upper iceberg.Literal)
}

// extrema tracks the least and greatest of a column's values, typed, so
// that no value is boxed on the way.
type extrema[T any] struct {
	lo, hi T
	seen   bool
	less   func(a, b T) bool
	lit    func(T) iceberg.Literal
}

// extremaOf returns the extrema of m, made on the first row group.
func extremaOf[T any](m *colMetrics, less func(a, b T) bool, lit func(T) iceberg.Literal) *extrema[T] {
	if e, ok := m.ext.(*extrema[T]); ok {
		return e
	}
	e := &extrema[T]{less: less, lit: lit}
	m.ext = e
	return e
}

func (e *extrema[T]) add(v T) {
	if !e.seen {
		e.lo, e.hi, e.seen = v, v, true
		return
	}
	if e.less(v, e.lo) {
		e.lo = v
	}
	if e.less(e.hi, v) {
		e.hi = v
	}
}

func (e *extrema[T]) literals() (lower, upper iceberg.Literal) {
	if !e.seen {
		return nil, nil
	}
	return e.lit(e.lo), e.lit(e.hi)
}

// countingWriter counts what is written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// WriteDataFile writes rows, in the order of sc's fields, to a new Parquet
// file at path (zstd-compressed pages, Iceberg field ids on the columns)
// and returns it as an Iceberg data file of spec with its metrics: value,
// null and NaN counts, lower and upper bounds (strings and binaries
// truncated to 16 characters or bytes), column sizes, split offsets.
func WriteDataFile(ctx context.Context, fsys iceio.WriteFileIO, path string, sc *iceberg.Schema, spec iceberg.PartitionSpec, rows []Row) (iceberg.DataFile, error) {
	w, err := newDataFileWriter(ctx, fsys, path, sc, spec)
	if err != nil {
		return nil, err
	}
	if err := w.write(rows); err != nil {
		w.abort()
		return nil, err
	}
	return w.close()
}

// dataFileWriter writes a Parquet data file in batches of rows, each a
// row group or more, so that a file larger than what memory should hold
// (a compaction's) is written from one batch at a time; the metrics are
// counted over all of them.
type dataFileWriter struct {
	ctx     context.Context
	fsys    iceio.WriteFileIO
	path    string
	spec    iceberg.PartitionSpec
	cols    []column
	out     iceio.FileWriter
	cw      *countingWriter
	pw      *parquet.Writer
	metrics []colMetrics
	rows    int64
	sizes   map[int]int64 // the compressed size of each column, by field id
	splits  []int64       // where each row group starts
}

// newDataFileWriter creates the file at path for rows of sc.
func newDataFileWriter(ctx context.Context, fsys iceio.WriteFileIO, path string, sc *iceberg.Schema, spec iceberg.PartitionSpec) (*dataFileWriter, error) {
	if spec.NumFields() != 0 {
		return nil, fmt.Errorf("iceberg: write %s: a partitioned spec: %w", path, ErrUnsupported)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("iceberg: write %s: %w", path, err)
	}
	cols, err := columnsOf(sc)
	if err != nil {
		return nil, err
	}
	out, err := fsys.Create(path)
	if err != nil {
		return nil, fmt.Errorf("iceberg: create %s: %w", path, err)
	}
	cw := &countingWriter{w: out}
	pw, err := parquet.NewWriter(cw, parquetColumns(cols), "podium")
	if err != nil {
		_ = out.Close()
		_ = fsys.Remove(path)
		return nil, fmt.Errorf("iceberg: write %s: %w", path, err)
	}
	return &dataFileWriter{ctx: ctx, fsys: fsys, path: path, spec: spec, cols: cols, out: out, cw: cw, pw: pw,
		metrics: make([]colMetrics, len(cols)), sizes: make(map[int]int64, len(cols))}, nil
}

// write writes rows as row groups of at most rowGroupRows rows; after an
// error, abort.
func (w *dataFileWriter) write(rows []Row) error {
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("iceberg: write %s: %w", w.path, err)
	}
	for r, row := range rows {
		if len(row) != len(w.cols) {
			return fmt.Errorf("iceberg: write %s: row %d has %d values, the schema %d fields", w.path, r, len(row), len(w.cols))
		}
	}
	// An empty file has no row group.
	vals := make([]parquet.Values, len(w.cols))
	for start := 0; start < len(rows); start += rowGroupRows {
		chunk := rows[start:min(start+rowGroupRows, len(rows))]
		for i, c := range w.cols {
			v, err := columnValues(c, i, chunk, &w.metrics[i])
			if err != nil {
				return fmt.Errorf("iceberg: write %s: %w", w.path, err)
			}
			vals[i] = v
		}
		info, err := w.pw.WriteRowGroup(vals)
		if err != nil {
			return fmt.Errorf("iceberg: write %s: %w", w.path, err)
		}
		for i, c := range w.cols {
			w.sizes[c.id] += info[i].Size
		}
		w.splits = append(w.splits, info[0].Offset)
	}
	w.rows += int64(len(rows))
	return nil
}

// abort closes and deletes the file.
func (w *dataFileWriter) abort() {
	_ = w.out.Close()
	_ = w.fsys.Remove(w.path)
}

// close finishes the file and returns it as a data file with its metrics.
func (w *dataFileWriter) close() (iceberg.DataFile, error) {
	path, cols := w.path, w.cols
	if err := w.pw.Close(); err != nil {
		_ = w.out.Close()
		_ = w.fsys.Remove(path)
		return nil, fmt.Errorf("iceberg: write %s: %w", path, err)
	}
	// out is closed here, which for an object store is the upload.
	if err := w.out.Close(); err != nil {
		_ = w.fsys.Remove(path)
		return nil, fmt.Errorf("iceberg: write %s: %w", path, err)
	}
	values := make(map[int]int64, len(cols))
	nulls := make(map[int]int64, len(cols))
	nans := map[int]int64{}
	lowers, uppers := map[int][]byte{}, map[int][]byte{}
	for i, c := range cols {
		m := w.metrics[i]
		values[c.id], nulls[c.id] = m.values, m.nulls
		if c.kind == kindDouble {
			nans[c.id] = m.nans
		}
		if m.ext == nil {
			continue
		}
		if lower, upper := m.ext.literals(); lower != nil {
			lo, hi, err := bounds(c, lower, upper)
			if err != nil {
				return nil, fmt.Errorf("iceberg: write %s: column %s bounds: %w", path, c.name, err)
			}
			lowers[c.id] = lo
			if hi != nil {
				uppers[c.id] = hi
			}
		}
	}
	b, err := iceberg.NewDataFileBuilder(w.spec, iceberg.EntryContentData, path, iceberg.ParquetFile, nil, nil, nil, w.rows, w.cw.n)
	if err != nil {
		return nil, fmt.Errorf("iceberg: data file %s: %w", path, err)
	}
	b.ColumnSizes(w.sizes).ValueCounts(values).NullValueCounts(nulls).NaNValueCounts(nans).
		LowerBoundValues(lowers).UpperBoundValues(uppers)
	if len(w.splits) > 0 {
		b.SplitOffsets(w.splits)
	}
	return b.Build(), nil
}

// columnValues returns column i of rows as Parquet values, counting its
// metrics into m.
func columnValues(c column, i int, rows []Row, m *colMetrics) (parquet.Values, error) {
	v := parquet.Values{Rows: len(rows)}
	if !c.required {
		v.Defined = make([]bool, len(rows))
	}
	var err error
	switch c.kind {
	case kindLong, kindTimestampTz, kindDecimal:
		ext := extremaOf(m, func(a, b int64) bool { return a < b }, func(x int64) iceberg.Literal { return literalOf(c, x) })
		// Only a decimal has a range narrower than int64's.
		limit := int64(math.MaxInt64)
		if c.kind == kindDecimal {
			limit = int64(math.Pow10(c.precision)) - 1
		}
		v.Int64, err = gather(rows, i, c, m, v.Defined, ext, func(x any) (int64, bool, error) {
			n, err := c.asInt64(x)
			if err != nil {
				return 0, false, err
			}
			if c.kind == kindDecimal && (n > limit || n < -limit) {
				return 0, false, fmt.Errorf("column %s: %d does not fit %s", c.name, n, c.typeName())
			}
			return n, true, nil
		})
		if err == nil && c.kind == kindDecimal && c.precision <= 9 {
			v.Int32 = make([]int32, len(v.Int64))
			for j, x := range v.Int64 {
				v.Int32[j] = int32(x)
			}
			v.Int64 = nil
		}
	case kindInt:
		ext := extremaOf(m, func(a, b int32) bool { return a < b }, func(x int32) iceberg.Literal { return iceberg.Int32Literal(x) })
		v.Int32, err = gather(rows, i, c, m, v.Defined, ext, func(x any) (int32, bool, error) {
			switch y := x.(type) {
			case int32:
				return y, true, nil
			case int:
				if y > math.MaxInt32 || y < math.MinInt32 {
					return 0, false, fmt.Errorf("column %s: %d does not fit an int", c.name, y)
				}
				return int32(y), true, nil
			}
			return 0, false, c.badValue(x)
		})
	case kindDouble:
		ext := extremaOf(m, lessFloat64, func(x float64) iceberg.Literal { return iceberg.Float64Literal(x) })
		v.Double, err = gather(rows, i, c, m, v.Defined, ext, func(x any) (float64, bool, error) {
			f, isFloat := x.(float64)
			if !isFloat {
				return 0, false, c.badValue(x)
			}
			if math.IsNaN(f) {
				m.nans++ // counted apart, never a bound
				return f, false, nil
			}
			return f, true, nil
		})
	case kindBool:
		ext := extremaOf(m, func(a, b bool) bool { return !a && b }, func(x bool) iceberg.Literal { return iceberg.BoolLiteral(x) })
		v.Bool, err = gather(rows, i, c, m, v.Defined, ext, func(x any) (bool, bool, error) {
			b, isBool := x.(bool)
			if !isBool {
				return false, false, c.badValue(x)
			}
			return b, true, nil
		})
	case kindString, kindBinary:
		// Strings and binaries alike by their bytes (UTF-8 byte order is
		// code point order); a string's bytes are not copied.
		ext := extremaOf(m, func(a, b []byte) bool { return bytes.Compare(a, b) < 0 }, func(x []byte) iceberg.Literal {
			if c.kind == kindString {
				return iceberg.StringLiteral(x)
			}
			return iceberg.BinaryLiteral(slices.Clone(x))
		})
		v.Bytes, err = gather(rows, i, c, m, v.Defined, ext, func(x any) ([]byte, bool, error) {
			switch y := x.(type) {
			case string:
				if c.kind == kindString {
					// The string's own bytes: the Parquet writer only
					// reads them (encoding them into its pages), so no
					// copy of each string is made.
					return unsafe.Slice(unsafe.StringData(y), len(y)), true, nil
				}
			case []byte:
				if c.kind == kindBinary {
					return y, true, nil
				}
			}
			return nil, false, c.badValue(x)
		})
	default:
		err = fmt.Errorf("column %s: %s not handled", c.name, c.typeName())
	}
	return v, err
}

// gather returns the values of column i of rows that are not null,
// converted by conv, which also says whether a value counts for the
// column's bounds (a NaN does not). It counts values and nulls into m,
// sets defined for the values present (when the column is optional), and
// refuses a null in a required column.
func gather[T any](rows []Row, i int, c column, m *colMetrics, defined []bool, ext *extrema[T], conv func(v any) (T, bool, error)) ([]T, error) {
	vals := make([]T, 0, len(rows))
	for r, row := range rows {
		v := row[i]
		m.values++
		if v == nil {
			if c.required {
				return nil, fmt.Errorf("row %d: column %s: null in a required column", r, c.name)
			}
			m.nulls++
			continue
		}
		if defined != nil {
			defined[r] = true
		}
		x, bound, err := conv(v)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", r, err)
		}
		vals = append(vals, x)
		if bound {
			ext.add(x)
		}
	}
	return vals, nil
}

// literalOf returns the Iceberg literal of a value stored as an int64.
func literalOf(c column, x int64) iceberg.Literal {
	switch c.kind {
	case kindTimestampTz:
		return iceberg.TimestampLiteral(x)
	case kindDecimal:
		return iceberg.DecimalLiteral{Val: decimal128.FromI64(x), Scale: c.scale}
	}
	return iceberg.Int64Literal(x)
}

// lessFloat64 orders doubles with -0 before +0, as Iceberg's bounds do.
func lessFloat64(x, y float64) bool {
	if x == y {
		return math.Signbit(x) && !math.Signbit(y)
	}
	return x < y
}

// bounds serialises a column's lower and upper bound in Iceberg's
// single-value binary form; strings and binaries are truncated, the upper
// bound rounded up (and left out when it cannot be: hi is nil).
func bounds(c column, lower, upper iceberg.Literal) (lo, hi []byte, err error) {
	switch c.kind {
	case kindString:
		lower = iceberg.StringLiteral(truncateString(string(lower.(iceberg.StringLiteral))))
		s, ok := truncateStringUp(string(upper.(iceberg.StringLiteral)))
		if !ok {
			upper = nil
		} else {
			upper = iceberg.StringLiteral(s)
		}
	case kindBinary:
		lower = iceberg.BinaryLiteral(truncateBinary(lower.(iceberg.BinaryLiteral)))
		b, ok := truncateBinaryUp(upper.(iceberg.BinaryLiteral))
		if !ok {
			upper = nil
		} else {
			upper = iceberg.BinaryLiteral(b)
		}
	}
	if lo, err = lower.MarshalBinary(); err != nil {
		return nil, nil, err
	}
	if upper != nil {
		if hi, err = upper.MarshalBinary(); err != nil {
			return nil, nil, err
		}
	}
	return lo, hi, nil
}

// truncateString keeps the first boundLength code points of s.
func truncateString(s string) string {
	n := 0
	for i := range s {
		if n == boundLength {
			return s[:i]
		}
		n++
	}
	return s
}

// truncateStringUp returns the shortest string of at most boundLength
// code points not less than s: s itself if short enough, else its prefix
// with the last code point that can be incremented incremented. ok is
// false when there is none.
func truncateStringUp(s string) (string, bool) {
	t := truncateString(s)
	if len(t) == len(s) {
		return s, true
	}
	rs := []rune(t)
	for i := len(rs) - 1; i >= 0; i-- {
		next := rs[i] + 1
		if next >= 0xD800 && next <= 0xDFFF {
			next = 0xE000 // past the surrogates, which UTF-8 cannot hold
		}
		if next <= utf8.MaxRune {
			return string(append(rs[:i:i], next)), true
		}
	}
	return "", false
}

// truncateBinary keeps the first boundLength bytes of b.
func truncateBinary(b []byte) []byte {
	if len(b) <= boundLength {
		return b
	}
	return b[:boundLength]
}

// truncateBinaryUp returns the shortest byte string of at most
// boundLength bytes not less than b. ok is false when there is none.
func truncateBinaryUp(b []byte) ([]byte, bool) {
	if len(b) <= boundLength {
		return b, true
	}
	t := slices.Clone(b[:boundLength])
	for i := len(t) - 1; i >= 0; i-- {
		if t[i] != 0xff {
			t[i]++
			return t[:i+1], true
		}
	}
	return nil, false
}
