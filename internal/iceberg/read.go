package iceberg

import (
	"context"
	"fmt"
	"iter"
	"math/big"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
)

// readBatch is the rows a column is read in at a time.
const readBatch = 4096

// ReadDataFile reads the rows of a Parquet data file, as sc's fields (Row
// values in field order), matching the file's columns to the fields by
// Iceberg field id. A field the file has no column for reads as null; a
// file without field ids (written by an engine that knows no Iceberg) is
// matched by column name. It holds every row of the file: to hold one row
// group at a time, range over RowGroups.
func ReadDataFile(ctx context.Context, fsys iceio.IO, sc *iceberg.Schema, df iceberg.DataFile) ([]Row, error) {
	var out []Row
	if n := df.Count(); n > 0 && n <= 1<<24 { // the manifest's count, a hint
		out = make([]Row, 0, n)
	}
	for rows, err := range RowGroups(ctx, fsys, sc, df) {
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// rowGroupRead, when set (by the tests), is called with the rows of each
// row group RowGroups reads, before it yields them.
var rowGroupRead func(rows []Row)

// RowGroups reads the rows of a Parquet data file as ReadDataFile does, a
// row group at a time: it yields the rows of each row group in turn (a
// new slice each time, which the caller may keep) and holds no other row.
// An error is yielded once, last. Stopping the iteration closes the file
// without reading the row groups left.
func RowGroups(ctx context.Context, fsys iceio.IO, sc *iceberg.Schema, df iceberg.DataFile) iter.Seq2[[]Row, error] {
	return func(yield func([]Row, error) bool) {
		fail := func(err error) { yield(nil, fmt.Errorf("iceberg: read %s: %w", df.FilePath(), err)) }
		if df.FileFormat() != iceberg.ParquetFile {
			fail(fmt.Errorf("%s files: %w", df.FileFormat(), ErrUnsupported))
			return
		}
		cols, err := columnsOf(sc)
		if err != nil {
			yield(nil, err)
			return
		}
		f, err := fsys.Open(df.FilePath())
		if err != nil {
			yield(nil, fmt.Errorf("iceberg: open %s: %w", df.FilePath(), err))
			return
		}
		defer f.Close()
		pr, err := file.NewParquetReader(f)
		if err != nil {
			fail(err)
			return
		}
		defer pr.Close()
		idx, err := columnIndex(pr, cols)
		if err != nil {
			fail(err)
			return
		}
		for g := range pr.NumRowGroups() {
			if err := ctx.Err(); err != nil {
				fail(err)
				return
			}
			rows, err := readRowGroup(pr.RowGroup(g), cols, idx)
			if err != nil {
				fail(fmt.Errorf("row group %d: %w", g, err))
				return
			}
			if rowGroupRead != nil {
				rowGroupRead(rows)
			}
			if !yield(rows, nil) {
				return
			}
		}
	}
}

// columnIndex returns, for each of cols, the index of pr's column it reads
// from; -1 for none.
func columnIndex(pr *file.Reader, cols []column) ([]int, error) {
	ps := pr.MetaData().Schema
	byID, byName := map[int]int{}, map[string]int{}
	ids := false
	for j := range ps.NumColumns() {
		d := ps.Column(j)
		if d.MaxRepetitionLevel() != 0 || d.SchemaNode().Parent() != ps.Root() {
			continue // nested: no podium column
		}
		if id := d.SchemaNode().FieldID(); id >= 0 {
			byID[int(id)] = j
			ids = true
		}
		byName[d.Name()] = j
	}
	idx := make([]int, len(cols))
	for i, c := range cols {
		j, ok := byID[c.id]
		if !ids {
			j, ok = byName[c.name]
		}
		if !ok {
			j = -1
			if c.required {
				return nil, fmt.Errorf("no column for the required field %s (id %d)", c.name, c.id)
			}
		}
		idx[i] = j
	}
	return idx, nil
}

// readRowGroup reads the rows of rg as cols, column i from rg's column
// idx[i].
func readRowGroup(rg *file.RowGroupReader, cols []column, idx []int) ([]Row, error) {
	rows := make([]Row, rg.NumRows())
	for r := range rows {
		rows[r] = make(Row, len(cols))
	}
	for i, c := range cols {
		if idx[i] < 0 {
			continue
		}
		cr, err := rg.Column(idx[i])
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		if err := readColumn(cr, c, i, rows); err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
	}
	return rows, nil
}

// readChunk reads a column chunk of len(rows) values with read, calling set
// with each row's index and non-null value.
func readChunk[T any](read func(int64, []T, []int16, []int16) (int64, int, error), maxDef int16, n int, set func(r int, v T) error) error {
	vals := make([]T, readBatch)
	def := make([]int16, readBatch)
	r := 0
	for r < n {
		total, nv, err := read(int64(min(readBatch, n-r)), vals, def, nil)
		if err != nil {
			return err
		}
		if total == 0 {
			return fmt.Errorf("%d values, the row group %d rows", r, n)
		}
		v := 0
		for k := range int(total) {
			if maxDef > 0 && def[k] < maxDef {
				continue // null
			}
			if v >= nv {
				return fmt.Errorf("fewer values than definition levels")
			}
			if err := set(r+k, vals[v]); err != nil {
				return err
			}
			v++
		}
		r += int(total)
	}
	return nil
}

// readColumn reads a column chunk into rows[r][i] as column c, converting
// the file's physical and logical type to c's Go type.
func readColumn(cr file.ColumnChunkReader, c column, i int, rows []Row) error {
	d := cr.Descriptor()
	maxDef := d.MaxDefinitionLevel()
	n := len(rows)
	mismatch := func() error {
		return fmt.Errorf("a %s column (%s) cannot be read as %s", d.PhysicalType(), d.LogicalType(), c.typeName())
	}
	switch cr := cr.(type) {
	case *file.Int64ColumnChunkReader:
		var conv func(int64) any
		switch c.kind {
		case kindLong:
			conv = func(x int64) any { return x }
		case kindDecimal:
			conv = func(x int64) any { return x }
		case kindTimestampTz:
			unit := schema.TimeUnitMicros
			if ts, ok := d.LogicalType().(*schema.TimestampLogicalType); ok {
				unit = ts.TimeUnit()
			}
			switch unit {
			case schema.TimeUnitMillis:
				conv = func(x int64) any { return time.UnixMilli(x).UTC() }
			case schema.TimeUnitNanos:
				conv = func(x int64) any { return time.Unix(0, x).UTC() }
			default:
				conv = func(x int64) any { return time.UnixMicro(x).UTC() }
			}
		default:
			return mismatch()
		}
		return readChunk(cr.ReadBatch, maxDef, n, func(r int, x int64) error { rows[r][i] = conv(x); return nil })
	case *file.Int32ColumnChunkReader:
		switch c.kind {
		case kindInt:
			return readChunk(cr.ReadBatch, maxDef, n, func(r int, x int32) error { rows[r][i] = x; return nil })
		case kindLong, kindDecimal: // an int promoted to long; a narrow decimal
			return readChunk(cr.ReadBatch, maxDef, n, func(r int, x int32) error { rows[r][i] = int64(x); return nil })
		}
		return mismatch()
	case *file.Float64ColumnChunkReader:
		if c.kind != kindDouble {
			return mismatch()
		}
		return readChunk(cr.ReadBatch, maxDef, n, func(r int, x float64) error { rows[r][i] = x; return nil })
	case *file.Float32ColumnChunkReader:
		if c.kind != kindDouble { // a float promoted to double
			return mismatch()
		}
		return readChunk(cr.ReadBatch, maxDef, n, func(r int, x float32) error { rows[r][i] = float64(x); return nil })
	case *file.BooleanColumnChunkReader:
		if c.kind != kindBool {
			return mismatch()
		}
		return readChunk(cr.ReadBatch, maxDef, n, func(r int, x bool) error { rows[r][i] = x; return nil })
	case *file.ByteArrayColumnChunkReader:
		switch c.kind {
		case kindString:
			return readChunk(cr.ReadBatch, maxDef, n, func(r int, x parquet.ByteArray) error { rows[r][i] = string(x); return nil })
		case kindBinary:
			return readChunk(cr.ReadBatch, maxDef, n, func(r int, x parquet.ByteArray) error { rows[r][i] = slices.Clone([]byte(x)); return nil })
		case kindDecimal:
			return readChunk(cr.ReadBatch, maxDef, n, func(r int, x parquet.ByteArray) error { return setDecimal(rows[r], i, x) })
		}
		return mismatch()
	case *file.FixedLenByteArrayColumnChunkReader:
		switch c.kind {
		case kindDecimal:
			return readChunk(cr.ReadBatch, maxDef, n, func(r int, x parquet.FixedLenByteArray) error { return setDecimal(rows[r], i, x) })
		case kindBinary:
			return readChunk(cr.ReadBatch, maxDef, n, func(r int, x parquet.FixedLenByteArray) error { rows[r][i] = slices.Clone([]byte(x)); return nil })
		}
		return mismatch()
	}
	return mismatch()
}

// setDecimal sets row[i] to the unscaled value of a decimal stored as
// big-endian two's complement bytes.
func setDecimal(row Row, i int, b []byte) error {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if !n.IsInt64() {
		return fmt.Errorf("decimal %s does not fit an int64", n)
	}
	row[i] = n.Int64()
	return nil
}
