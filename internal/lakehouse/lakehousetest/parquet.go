// Package lakehousetest reads the lakehouse's Parquet files for tests with
// arrow-go's own reader, outside Iceberg: an independent view of what the
// warehouse holds.
package lakehousetest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ReadParquet reads every row of the Parquet file at path with arrow-go's
// reader: column name to value (int64, int32, float64, string, bool,
// time.Time, []byte, int64 for decimals: the unscaled value; nil for null).
func ReadParquet(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatalf("parquet %s: %v", path, err)
	}
	defer pr.Close()
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("parquet %s: %v", path, err)
	}
	defer tbl.Release()
	rows := make([]map[string]any, tbl.NumRows())
	for i := range rows {
		rows[i] = map[string]any{}
	}
	for c := 0; c < int(tbl.NumCols()); c++ {
		col := tbl.Column(c)
		name := col.Name()
		r := 0
		for _, chunk := range col.Data().Chunks() {
			for i := 0; i < chunk.Len(); i, r = i+1, r+1 {
				v, err := Value(chunk, i)
				if err != nil {
					t.Fatalf("parquet %s: column %s: %v", path, name, err)
				}
				rows[r][name] = v
			}
		}
	}
	return rows
}

// Value returns the value at i of a, as podium's rows hold it: int64,
// int32, float64, string, bool, time.Time (UTC), []byte (a copy), int64
// for a decimal (the unscaled value); nil for null.
func Value(a arrow.Array, i int) (any, error) {
	if a.IsNull(i) {
		return nil, nil
	}
	switch a := a.(type) {
	case *array.Int64:
		return a.Value(i), nil
	case *array.Int32:
		return a.Value(i), nil
	case *array.Float64:
		return a.Value(i), nil
	case *array.String:
		return a.Value(i), nil
	case *array.LargeString:
		return a.Value(i), nil
	case *array.Boolean:
		return a.Value(i), nil
	case *array.Timestamp:
		return a.Value(i).ToTime(a.DataType().(*arrow.TimestampType).Unit).UTC(), nil
	case *array.Binary:
		return slices.Clone(a.Value(i)), nil
	case *array.LargeBinary:
		return slices.Clone(a.Value(i)), nil
	case *array.Decimal128:
		return int64(a.Value(i).LowBits()), nil
	}
	return nil, fmt.Errorf("arrow type %s not handled", a.DataType())
}
