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
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
)

// rowGroupRows caps the rows of a Parquet row group (a variable for the
// tests).
var rowGroupRows = 1 << 20

// boundLength is the length to which string and binary bounds are
// truncated: Iceberg's default metrics mode, truncate(16).
const boundLength = 16

// parquetSchema returns the Parquet schema of cols, each column carrying
// its Iceberg field id, with the physical and logical types Iceberg's
// spec gives (https://iceberg.apache.org/spec/#parquet).
func parquetSchema(cols []column) (*schema.GroupNode, error) {
	fields := make(schema.FieldList, len(cols))
	for i, c := range cols {
		rep := parquet.Repetitions.Optional
		if c.required {
			rep = parquet.Repetitions.Required
		}
		id := int32(c.id)
		var (
			n   schema.Node
			err error
		)
		switch c.kind {
		case kindLong:
			n, err = schema.NewPrimitiveNode(c.name, rep, parquet.Types.Int64, id, -1)
		case kindInt:
			n, err = schema.NewPrimitiveNode(c.name, rep, parquet.Types.Int32, id, -1)
		case kindDouble:
			n, err = schema.NewPrimitiveNode(c.name, rep, parquet.Types.Double, id, -1)
		case kindBool:
			n, err = schema.NewPrimitiveNode(c.name, rep, parquet.Types.Boolean, id, -1)
		case kindBinary:
			n, err = schema.NewPrimitiveNode(c.name, rep, parquet.Types.ByteArray, id, -1)
		case kindString:
			n, err = schema.NewPrimitiveNodeLogical(c.name, rep, schema.StringLogicalType{}, parquet.Types.ByteArray, -1, id)
		case kindTimestampTz:
			n, err = schema.NewPrimitiveNodeLogical(c.name, rep, schema.NewTimestampLogicalType(true, schema.TimeUnitMicros), parquet.Types.Int64, -1, id)
		case kindDecimal:
			// Precision up to 9 in an int32, up to 18 in an int64, as
			// Iceberg's Java writer does.
			phys := parquet.Types.Int64
			if c.precision <= 9 {
				phys = parquet.Types.Int32
			}
			n, err = schema.NewPrimitiveNodeLogical(c.name, rep, schema.NewDecimalLogicalType(int32(c.precision), int32(c.scale)), phys, -1, id)
		}
		if err != nil {
			return nil, fmt.Errorf("iceberg: parquet column %s: %w", c.name, err)
		}
		fields[i] = n
	}
	g, err := schema.NewGroupNode("table", parquet.Repetitions.Required, fields, -1)
	if err != nil {
		return nil, fmt.Errorf("iceberg: parquet schema: %w", err)
	}
	return g, nil
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
	pw      *file.Writer
	metrics []colMetrics
	rows    int64
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
	ps, err := parquetSchema(cols)
	if err != nil {
		return nil, err
	}
	out, err := fsys.Create(path)
	if err != nil {
		return nil, fmt.Errorf("iceberg: create %s: %w", path, err)
	}
	cw := &countingWriter{w: out}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCreatedBy("podium"))
	pw, err := file.NewParquetWriterWithError(cw, ps, file.WithWriterProps(props))
	if err != nil {
		_ = out.Close()
		_ = fsys.Remove(path)
		return nil, fmt.Errorf("iceberg: write %s: %w", path, err)
	}
	return &dataFileWriter{ctx: ctx, fsys: fsys, path: path, spec: spec, cols: cols, out: out, cw: cw, pw: pw,
		metrics: make([]colMetrics, len(cols))}, nil
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
	for start := 0; start < len(rows); start += rowGroupRows {
		chunk := rows[start:min(start+rowGroupRows, len(rows))]
		rg, err := w.pw.AppendRowGroupChecked()
		if err != nil {
			return fmt.Errorf("iceberg: write %s: %w", w.path, err)
		}
		for i, c := range w.cols {
			ccw, err := rg.NextColumn()
			if err == nil {
				err = writeColumn(ccw, c, i, chunk, &w.metrics[i])
			}
			if err != nil {
				return fmt.Errorf("iceberg: write %s: %w", w.path, err)
			}
		}
		if err := rg.Close(); err != nil {
			return fmt.Errorf("iceberg: write %s: %w", w.path, err)
		}
	}
	w.rows += int64(len(rows))
	return nil
}

// abort closes and deletes the file.
func (w *dataFileWriter) abort() {
	_ = w.pw.Close()
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
	// The Parquet writer does not close cw (no io.Closer): out is closed
	// here, which for an object store is the upload.
	if err := w.out.Close(); err != nil {
		_ = w.fsys.Remove(path)
		return nil, fmt.Errorf("iceberg: write %s: %w", path, err)
	}
	fmd, err := w.pw.FileMetadata()
	if err != nil {
		return nil, fmt.Errorf("iceberg: write %s: file metadata: %w", path, err)
	}
	sizes := make(map[int]int64, len(cols))
	var splits []int64
	for g := range fmd.NumRowGroups() {
		rgm := fmd.RowGroup(g)
		for i, c := range cols {
			cc, err := rgm.ColumnChunk(i)
			if err != nil {
				return nil, fmt.Errorf("iceberg: write %s: file metadata: %w", path, err)
			}
			sizes[c.id] += cc.TotalCompressedSize()
			if i == 0 {
				off := cc.DataPageOffset()
				if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 {
					off = min(off, cc.DictionaryPageOffset())
				}
				splits = append(splits, off)
			}
		}
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
	b.ColumnSizes(sizes).ValueCounts(values).NullValueCounts(nulls).NaNValueCounts(nans).
		LowerBoundValues(lowers).UpperBoundValues(uppers)
	if len(splits) > 0 {
		b.SplitOffsets(splits)
	}
	return b.Build(), nil
}

// writeColumn writes column i of rows with the chunk writer w, counting
// its metrics into m.
func writeColumn(w file.ColumnChunkWriter, c column, i int, rows []Row, m *colMetrics) error {
	var def []int16
	if !c.required {
		def = make([]int16, len(rows))
	}
	switch c.kind {
	case kindLong, kindTimestampTz, kindDecimal:
		ext := extremaOf(m, func(a, b int64) bool { return a < b }, func(x int64) iceberg.Literal { return literalOf(c, x) })
		// Only a decimal has a range narrower than int64's.
		limit := int64(math.MaxInt64)
		if c.kind == kindDecimal {
			limit = int64(math.Pow10(c.precision)) - 1
		}
		vals, err := gather(rows, i, c, m, def, ext, func(v any) (int64, bool, error) {
			x, err := c.asInt64(v)
			if err != nil {
				return 0, false, err
			}
			if c.kind == kindDecimal && (x > limit || x < -limit) {
				return 0, false, fmt.Errorf("column %s: %d does not fit %s", c.name, x, c.typeName())
			}
			return x, true, nil
		})
		if err != nil {
			return err
		}
		if c.kind == kindDecimal && c.precision <= 9 {
			v32 := make([]int32, len(vals))
			for j, x := range vals {
				v32[j] = int32(x)
			}
			_, err := w.(*file.Int32ColumnChunkWriter).WriteBatch(v32, def, nil)
			return err
		}
		_, err = w.(*file.Int64ColumnChunkWriter).WriteBatch(vals, def, nil)
		return err
	case kindInt:
		ext := extremaOf(m, func(a, b int32) bool { return a < b }, func(x int32) iceberg.Literal { return iceberg.Int32Literal(x) })
		vals, err := gather(rows, i, c, m, def, ext, func(v any) (int32, bool, error) {
			switch y := v.(type) {
			case int32:
				return y, true, nil
			case int:
				if y > math.MaxInt32 || y < math.MinInt32 {
					return 0, false, fmt.Errorf("column %s: %d does not fit an int", c.name, y)
				}
				return int32(y), true, nil
			}
			return 0, false, c.badValue(v)
		})
		if err != nil {
			return err
		}
		_, err = w.(*file.Int32ColumnChunkWriter).WriteBatch(vals, def, nil)
		return err
	case kindDouble:
		ext := extremaOf(m, lessFloat64, func(x float64) iceberg.Literal { return iceberg.Float64Literal(x) })
		vals, err := gather(rows, i, c, m, def, ext, func(v any) (float64, bool, error) {
			x, isFloat := v.(float64)
			if !isFloat {
				return 0, false, c.badValue(v)
			}
			if math.IsNaN(x) {
				m.nans++ // counted apart, never a bound
				return x, false, nil
			}
			return x, true, nil
		})
		if err != nil {
			return err
		}
		_, err = w.(*file.Float64ColumnChunkWriter).WriteBatch(vals, def, nil)
		return err
	case kindBool:
		ext := extremaOf(m, func(a, b bool) bool { return !a && b }, func(x bool) iceberg.Literal { return iceberg.BoolLiteral(x) })
		vals, err := gather(rows, i, c, m, def, ext, func(v any) (bool, bool, error) {
			x, isBool := v.(bool)
			if !isBool {
				return false, false, c.badValue(v)
			}
			return x, true, nil
		})
		if err != nil {
			return err
		}
		_, err = w.(*file.BooleanColumnChunkWriter).WriteBatch(vals, def, nil)
		return err
	case kindString, kindBinary:
		// Strings and binaries alike by their bytes (UTF-8 byte order is
		// code point order); a string's bytes are not copied.
		ext := extremaOf(m, func(a, b parquet.ByteArray) bool { return bytes.Compare(a, b) < 0 }, func(x parquet.ByteArray) iceberg.Literal {
			if c.kind == kindString {
				return iceberg.StringLiteral(x)
			}
			return iceberg.BinaryLiteral(slices.Clone(x))
		})
		vals, err := gather(rows, i, c, m, def, ext, func(v any) (parquet.ByteArray, bool, error) {
			switch x := v.(type) {
			case string:
				if c.kind == kindString {
					// The string's own bytes: the column writer only
					// reads them (and copies what it keeps, into its
					// pages and dictionary), so no copy of each string
					// is made.
					return unsafe.Slice(unsafe.StringData(x), len(x)), true, nil
				}
			case []byte:
				if c.kind == kindBinary {
					return x, true, nil
				}
			}
			return nil, false, c.badValue(v)
		})
		if err != nil {
			return err
		}
		_, err = w.(*file.ByteArrayColumnChunkWriter).WriteBatch(vals, def, nil)
		return err
	}
	return fmt.Errorf("column %s: %s not handled", c.name, c.typeName())
}

// gather returns the values of column i of rows that are not null,
// converted by conv, which also says whether a value counts for the
// column's bounds (a NaN does not). It counts values and nulls into m,
// sets def for the values present (when the column is optional), and
// refuses a null in a required column.
func gather[T any](rows []Row, i int, c column, m *colMetrics, def []int16, ext *extrema[T], conv func(v any) (T, bool, error)) ([]T, error) {
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
		if def != nil {
			def[r] = 1
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
