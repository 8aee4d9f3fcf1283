// Package lakehousetest reads the lakehouse's Parquet files for tests with
// arrow-go's own reader, outside Iceberg: an independent view of what the
// warehouse holds.
package lakehousetest

import (
	"context"
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
				if chunk.IsNull(i) {
					rows[r][name] = nil
					continue
				}
				switch a := chunk.(type) {
				case *array.Int64:
					rows[r][name] = a.Value(i)
				case *array.Int32:
					rows[r][name] = a.Value(i)
				case *array.Float64:
					rows[r][name] = a.Value(i)
				case *array.String:
					rows[r][name] = a.Value(i)
				case *array.LargeString:
					rows[r][name] = a.Value(i)
				case *array.Boolean:
					rows[r][name] = a.Value(i)
				case *array.Timestamp:
					rows[r][name] = a.Value(i).ToTime(a.DataType().(*arrow.TimestampType).Unit).UTC()
				case *array.Binary:
					rows[r][name] = slices.Clone(a.Value(i))
				case *array.LargeBinary:
					rows[r][name] = slices.Clone(a.Value(i))
				case *array.Decimal128:
					rows[r][name] = int64(a.Value(i).LowBits())
				default:
					t.Fatalf("parquet %s: column %s: type %s not handled", path, name, chunk.DataType())
				}
			}
		}
	}
	return rows
}
