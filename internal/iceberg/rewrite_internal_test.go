package iceberg

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"weak"

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
)

// heldRows watches the rows RowGroups reads: after each row group it
// collects the garbage and counts the rows read so far that are still
// alive, which a reader holding a whole file would keep.
type heldRows struct {
	alive  []weak.Pointer[any] // each row's first value, the start of its allocation
	groups int                 // row groups read
	most   int                 // the most rows alive at once
}

func (h *heldRows) observe(rows []Row) {
	h.groups++
	for _, r := range rows {
		h.alive = append(h.alive, weak.Make(&r[0]))
	}
	runtime.GC()
	n := 0
	for _, p := range h.alive {
		if p.Value() != nil {
			h.alive[n] = p
			n++
		}
	}
	h.alive = h.alive[:n]
	h.most = max(h.most, n)
}

// TestRewritesHoldOneRowGroup reads a data file of many row groups for a
// copy-on-write delete, a scan with a limit and a compaction: each holds,
// besides what it returns, one row group it reads and one batch it
// writes, never the file, which ReadDataFile does hold; the scan stops
// at its limit and the delete of no row writes nothing.
func TestRewritesHoldOneRowGroup(t *testing.T) {
	const groups, group = 60, 100 // rows per row group, written and rewritten
	defer func(g, b int) { rowGroupRows, batchRows = g, b }(rowGroupRows, batchRows)
	rowGroupRows, batchRows = group, group
	ctx := t.Context()
	fsys := iceio.LocalFS{}
	base := idStringTable(t)
	sc := base.CurrentSchema()
	var rows []Row // even ids: a delete of an odd one matches no row
	for i := range groups * group {
		rows = append(rows, Row{int64(2 * i), "s" + strconv.Itoa(i)})
	}
	df, err := WriteDataFile(ctx, fsys, base.DataFileLocation(), sc, *iceberg.UnpartitionedSpec, rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(df.SplitOffsets()) != groups {
		t.Fatalf("%d row groups, want %d", len(df.SplitOffsets()), groups)
	}
	rows = nil
	if base, err = Append(ctx, fsys, base, "", []iceberg.DataFile{df}, nil); err != nil {
		t.Fatal(err)
	}
	bind := func(f Filter) *BoundFilter {
		b, err := f.Bind(sc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	summary := func(m *Metadata) map[string]string { return m.CurrentSnapshot().Summary }
	for _, c := range []struct {
		name string
		run  func(context.Context) error
		// groupsRead is the row groups read; most the bound of the rows
		// held at once.
		groupsRead, most int
	}{
		{"read the file", func(ctx context.Context) error {
			back, err := ReadDataFile(ctx, fsys, sc, df)
			if err == nil && len(back) != groups*group {
				t.Errorf("%d rows read, want %d", len(back), groups*group)
			}
			return err
		}, groups, groups * group},
		{"delete one row", func(ctx context.Context) error {
			// The first pass stops in the 11th row group, the second reads all.
			m, err := Delete(ctx, fsys, base, "", bind(EqInt64("id", 2*(10*group+5))), nil)
			if err == nil {
				s := summary(m)
				if s["deleted-records"] != strconv.Itoa(groups*group) || s["added-records"] != strconv.Itoa(groups*group-1) {
					t.Errorf("summary %v", s)
				}
			}
			return err
		}, 11 + groups, 2 * group},
		{"delete a row the bounds admit, no row holds", func(ctx context.Context) error {
			m, err := Delete(ctx, fsys, base, "", bind(EqInt64("id", 2*(10*group+5)+1)), nil)
			if err == nil {
				if s := summary(m); s["deleted-data-files"] != "" || s["added-data-files"] != "" || s["total-records"] != strconv.Itoa(groups*group) {
					t.Errorf("summary %v", s)
				}
			}
			return err
		}, groups, 2 * group},
		{"scan with a limit", func(ctx context.Context) error {
			back, err := ScanRows(ctx, fsys, base, 0, bind(AtLeastInt64("id", 2*group)), 2*group+1)
			if err == nil && (len(back) != 2*group+1 || back[0][0] != int64(2*group)) {
				t.Errorf("%d rows from %v", len(back), back[0])
			}
			return err
		}, 4, 2*group + 1 + 2*group},
		{"compact", func(ctx context.Context) error {
			small, err := WriteDataFile(ctx, fsys, base.DataFileLocation(), sc, *iceberg.UnpartitionedSpec, []Row{{int64(-1), nil}})
			if err != nil {
				return err
			}
			m, err := Append(ctx, fsys, base, "", []iceberg.DataFile{small}, nil)
			if err != nil {
				return err
			}
			m, done, err := Compact(ctx, fsys, m, "", 1<<40, nil)
			if err == nil && (done.Removed != 2 || summary(m)["added-records"] != strconv.Itoa(groups*group+1)) {
				t.Errorf("compacted %+v, summary %v", done, summary(m))
			}
			return err
		}, groups + 1, 2 * group},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h heldRows
			rowGroupRead = h.observe
			defer func() { rowGroupRead = nil }()
			if err := c.run(t.Context()); err != nil {
				t.Fatal(err)
			}
			if h.groups != c.groupsRead {
				t.Errorf("%d row groups read, want %d", h.groups, c.groupsRead)
			}
			if h.most > c.most {
				t.Errorf("%d rows held at once, want at most %d", h.most, c.most)
			}
			t.Logf("%d row groups read, at most %d rows held", h.groups, h.most)
		})
	}
}
