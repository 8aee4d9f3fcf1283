package iceberg

import (
	"reflect"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
)

// TestCompactStreams compacts files a batch at a time: the file written
// has a row group per batch, every row in order, and the metrics of all
// of them.
func TestCompactStreams(t *testing.T) {
	defer func(n int) { batchRows = n }(batchRows)
	batchRows = 7
	ctx := t.Context()
	fsys := iceio.LocalFS{}
	m := idStringTable(t)
	sc := m.CurrentSchema()
	var all []Row
	for f := range 5 { // 5 files of 4 rows: batches of 7, 7 and 6 rows
		var rows []Row
		for i := range 4 {
			id := int64(f*4 + i)
			r := Row{id, strings.Repeat("s", int(id)%5)}
			if id%6 == 0 {
				r[1] = nil
			}
			rows = append(rows, r)
		}
		all = append(all, rows...)
		df, err := WriteDataFile(ctx, fsys, m.DataFileLocation(), sc, *iceberg.UnpartitionedSpec, rows)
		if err != nil {
			t.Fatal(err)
		}
		if m, err = Append(ctx, fsys, m, "", []iceberg.DataFile{df}, nil); err != nil {
			t.Fatal(err)
		}
	}
	m, done, err := Compact(ctx, fsys, m, "", 1<<30, nil)
	if err != nil || done.Removed != 5 || done.Added != 1 {
		t.Fatalf("compacted %+v, %v", done, err)
	}
	files, err := DataFiles(ctx, fsys, m.CurrentSnapshot())
	if err != nil || len(files) != 1 {
		t.Fatalf("files %v, %v", files, err)
	}
	df := files[0]
	if got := len(df.SplitOffsets()); got != 3 {
		t.Errorf("%d row groups, want 3", got)
	}
	if df.Count() != 20 || df.ValueCounts()[2] != 20 || df.NullValueCounts()[2] != 4 {
		t.Errorf("%d records, value counts %v, null counts %v", df.Count(), df.ValueCounts(), df.NullValueCounts())
	}
	if lo, hi := df.LowerBoundValues()[1], df.UpperBoundValues()[1]; lo[0] != 0 || hi[0] != 19 {
		t.Errorf("id bounds %v %v, want 0 and 19", lo, hi)
	}
	back, err := Scan(ctx, fsys, m, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Manifest order is newest first: the rows of the last append lead.
	if len(back) != len(all) {
		t.Fatalf("%d rows, want %d", len(back), len(all))
	}
	for f := range 5 {
		got, want := back[f*4:f*4+4], all[(4-f)*4:(4-f)*4+4]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("rows %d to %d: %v, want %v", f*4, f*4+3, got, want)
		}
	}
}
