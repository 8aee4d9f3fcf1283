package iceberg

import (
	"context"
	"fmt"
	"iter"
	"math/big"
	"slices"
	"time"

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"

	"github.com/podiumhq/podium/internal/parquet"
)

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
		st, err := f.Stat()
		if err != nil {
			fail(err)
			return
		}
		pr, err := parquet.Open(f, st.Size())
		if err != nil {
			fail(err)
			return
		}
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
			rows, err := readRowGroup(pr, g, cols, idx)
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
func columnIndex(pr *parquet.File, cols []column) ([]int, error) {
	byID, byName := map[int]int{}, map[string]int{}
	ids := false
	for j, c := range pr.Columns() {
		if c.Nested {
			continue // no podium column
		}
		if c.FieldID >= 0 {
			byID[c.FieldID] = j
			ids = true
		}
		byName[c.Name] = j
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

// readRowGroup reads the rows of row group g of pr as cols, column i from
// pr's column idx[i].
func readRowGroup(pr *parquet.File, g int, cols []column, idx []int) ([]Row, error) {
	rows := make([]Row, pr.RowGroupRows(g))
	for r := range rows {
		rows[r] = make(Row, len(cols))
	}
	for i, c := range cols {
		if idx[i] < 0 {
			continue
		}
		v, err := pr.ReadColumn(g, idx[i])
		if err != nil {
			return nil, err
		}
		if err := setColumn(pr.Columns()[idx[i]], v, c, i, rows); err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
	}
	return rows, nil
}

// setValues sets rows[r][i] for each row r that has a value, to conv of
// the next of vals.
func setValues[T any](v parquet.Values, vals []T, rows []Row, i int, conv func(T) (any, error)) error {
	k := 0
	for r := range rows {
		if v.Defined != nil && !v.Defined[r] {
			continue
		}
		if k == len(vals) {
			return fmt.Errorf("%d values for more rows", len(vals))
		}
		x, err := conv(vals[k])
		if err != nil {
			return err
		}
		rows[r][i] = x
		k++
	}
	return nil
}

// setColumn sets rows[r][i] to the values v of the file's column pc read as
// column c, converting the file's physical and logical type to c's Go
// type.
func setColumn(pc parquet.Column, v parquet.Values, c column, i int, rows []Row) error {
	mismatch := func() error {
		return fmt.Errorf("a %s column (%s) cannot be read as %s", pc.Type, pc.Logical, c.typeName())
	}
	switch pc.Type {
	case parquet.Int64:
		switch c.kind {
		case kindLong, kindDecimal:
			return setValues(v, v.Int64, rows, i, func(x int64) (any, error) { return x, nil })
		case kindTimestampTz:
			conv := func(x int64) (any, error) { return time.UnixMicro(x).UTC(), nil }
			if pc.Logical.Kind == parquet.Timestamp {
				switch pc.Logical.Unit {
				case parquet.Millis:
					conv = func(x int64) (any, error) { return time.UnixMilli(x).UTC(), nil }
				case parquet.Nanos:
					conv = func(x int64) (any, error) { return time.Unix(0, x).UTC(), nil }
				}
			}
			return setValues(v, v.Int64, rows, i, conv)
		}
	case parquet.Int32:
		switch c.kind {
		case kindInt:
			return setValues(v, v.Int32, rows, i, func(x int32) (any, error) { return x, nil })
		case kindLong, kindDecimal: // an int promoted to long; a narrow decimal
			return setValues(v, v.Int32, rows, i, func(x int32) (any, error) { return int64(x), nil })
		}
	case parquet.Double:
		if c.kind == kindDouble {
			return setValues(v, v.Double, rows, i, func(x float64) (any, error) { return x, nil })
		}
	case parquet.Float:
		if c.kind == kindDouble { // a float promoted to double
			return setValues(v, v.Float, rows, i, func(x float32) (any, error) { return float64(x), nil })
		}
	case parquet.Boolean:
		if c.kind == kindBool {
			return setValues(v, v.Bool, rows, i, func(x bool) (any, error) { return x, nil })
		}
	case parquet.ByteArray, parquet.FixedLenByteArray:
		switch {
		case c.kind == kindString && pc.Type == parquet.ByteArray:
			return setValues(v, v.Bytes, rows, i, func(x []byte) (any, error) { return string(x), nil })
		case c.kind == kindBinary:
			return setValues(v, v.Bytes, rows, i, func(x []byte) (any, error) { return slices.Clone(x), nil })
		case c.kind == kindDecimal:
			return setValues(v, v.Bytes, rows, i, decimalOf)
		}
	}
	return mismatch()
}

// decimalOf returns the unscaled value of a decimal stored as big-endian
// two's complement bytes.
func decimalOf(b []byte) (any, error) {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if !n.IsInt64() {
		return nil, fmt.Errorf("decimal %s does not fit an int64", n)
	}
	return n.Int64(), nil
}
