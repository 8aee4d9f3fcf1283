package iceberg_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"

	podice "github.com/podiumhq/podium/internal/iceberg"
)

// idFilter selects the rows whose id (field 1, column 0) is in ids, and
// prunes files by the id bounds. It counts the rows it was asked about:
// the rows of the files read.
type idFilter struct {
	ids   map[int64]bool
	asked int
}

func newIDFilter(ids ...int64) *idFilter {
	f := &idFilter{ids: map[int64]bool{}}
	for _, id := range ids {
		f.ids[id] = true
	}
	return f
}

func (f *idFilter) Match(row podice.Row) (bool, error) {
	f.asked++
	id, ok := row[0].(int64)
	if !ok {
		return false, fmt.Errorf("id %T", row[0])
	}
	return f.ids[id], nil
}

func (f *idFilter) bounds(df iceberg.DataFile) (lo, hi int64) {
	return int64(binary.LittleEndian.Uint64(df.LowerBoundValues()[1])), int64(binary.LittleEndian.Uint64(df.UpperBoundValues()[1]))
}

func (f *idFilter) MightMatch(df iceberg.DataFile) bool {
	lo, hi := f.bounds(df)
	for id := range f.ids {
		if id >= lo && id <= hi {
			return true
		}
	}
	return false
}

func (f *idFilter) AllMatch(df iceberg.DataFile) bool {
	lo, hi := f.bounds(df)
	for id := lo; id <= hi; id++ {
		if !f.ids[id] {
			return false
		}
	}
	return true
}

// expr is the filter as an iceberg-go expression.
func (f *idFilter) expr() iceberg.BooleanExpression {
	if len(f.ids) == 0 {
		return iceberg.AlwaysFalse{}
	}
	ids := make([]int64, 0, len(f.ids))
	for id := range f.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return iceberg.IsIn(iceberg.Reference("id"), ids...)
}

func without(rows []podice.Row, f *idFilter) []podice.Row {
	var out []podice.Row
	for _, r := range rows {
		if !f.ids[r[0].(int64)] {
			out = append(out, r)
		}
	}
	return out
}

// goTable opens the table of metadata file loc with iceberg-go, committing
// through metadata files alone.
func goTable(t *testing.T, loc string) *table.Table {
	t.Helper()
	raw, err := os.ReadFile(strings.TrimPrefix(loc, "file://"))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := table.ParseMetadataBytes(raw)
	if err != nil {
		t.Fatalf("iceberg-go parses %s: %v", loc, err)
	}
	cat := &committer{fsys: iceio.LocalFS{}, loc: loc, meta: meta, v: 1000}
	return table.New(table.Identifier{"db", "t"}, meta, loc, func(context.Context) (iceio.IO, error) { return iceio.LocalFS{}, nil }, cat)
}

// goScan reads snapshot id (0: the current one) of the table of metadata
// file loc with iceberg-go.
func goScan(t *testing.T, loc string, id int64) []podice.Row {
	t.Helper()
	tbl := goTable(t, loc)
	var opts []table.ScanOption
	if id != 0 {
		opts = append(opts, table.WithSnapshotID(id))
	}
	at, err := tbl.Scan(opts...).ToArrowTable(context.Background())
	if err != nil {
		t.Fatalf("iceberg-go scans %s: %v", loc, err)
	}
	defer at.Release()
	return arrowRows(t, at)
}

// commitTo writes m as the next metadata file of the table at loc.
func commitTo(t *testing.T, m *podice.Metadata, v int) string {
	t.Helper()
	loc := metadataPath(m.Location, v)
	if err := podice.WriteMetadataFile(iceio.LocalFS{}, loc, m); err != nil {
		t.Fatal(err)
	}
	return loc
}

// entryStatuses counts the entries of the manifests of s by status, and
// returns the paths of those deleted by snapshot s.
func entryStatuses(t *testing.T, m *podice.Metadata, s *podice.Snapshot) (map[iceberg.ManifestEntryStatus]int, []string) {
	t.Helper()
	mfs, err := podice.Manifests(iceio.LocalFS{}, s)
	if err != nil {
		t.Fatal(err)
	}
	n := map[iceberg.ManifestEntryStatus]int{}
	var deleted []string
	for _, mf := range mfs {
		for e, err := range mf.Entries(iceio.LocalFS{}, false) {
			if err != nil {
				t.Fatal(err)
			}
			n[e.Status()]++
			if e.Status() == iceberg.EntryStatusDELETED && e.SnapshotID() == s.SnapshotID {
				deleted = append(deleted, e.DataFile().FilePath())
			}
		}
	}
	return n, deleted
}

// figureKeys are the summary's figures podium's and iceberg-go's
// overwrites and deletes must agree on (file sizes differ: the Parquet
// writers differ).
var figureKeys = []string{"added-data-files", "deleted-data-files", "added-records", "deleted-records",
	"total-records", "total-data-files", "total-delete-files"}

// TestOverwriteDeleteAsIcebergGo deletes and overwrites rows with
// podium's layer and iceberg-go's, on tables written by either: the rows
// left, the files dropped unread, the manifests and the summary figures
// agree, and each reads the other's result.
func TestOverwriteDeleteAsIcebergGo(t *testing.T) {
	batches := [][]podice.Row{testRows(0, 10), testRows(10, 10), testRows(20, 10)}
	var all []podice.Row
	for _, b := range batches {
		all = append(all, b...)
	}
	added := testRows(100, 3)
	ids := []int64{3, 4, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29}
	for _, c := range []struct {
		name     string
		writer   func(*testing.T, string, [][]podice.Row) []string
		op       string
		filter   *idFilter
		rows     []podice.Row
		asked    int // rows the filter is asked about: those of the files read
		figures  map[string]string
		statuses map[iceberg.ManifestEntryStatus]int
	}{
		{"delete, podium's table", writeTable, "delete", newIDFilter(ids...), nil, 10,
			map[string]string{"added-data-files": "1", "deleted-data-files": "2", "added-records": "8", "deleted-records": "20", "total-records": "18", "total-data-files": "2"},
			map[iceberg.ManifestEntryStatus]int{iceberg.EntryStatusADDED: 2, iceberg.EntryStatusDELETED: 2, iceberg.EntryStatusEXISTING: 0}},
		{"overwrite, iceberg-go's table", icebergGoTable, "overwrite", newIDFilter(ids...), added, 10,
			map[string]string{"added-data-files": "2", "deleted-data-files": "2", "added-records": "11", "deleted-records": "20", "total-records": "21", "total-data-files": "3"},
			nil},
		{"delete of nothing", writeTable, "delete", newIDFilter(), nil, 0,
			map[string]string{"total-records": "30", "total-data-files": "3"},
			map[iceberg.ManifestEntryStatus]int{iceberg.EntryStatusADDED: 3}},
		{"overwrite of rows no file holds", writeTable, "overwrite", newIDFilter(5000), added, 0,
			map[string]string{"added-data-files": "1", "added-records": "3", "total-records": "33", "total-data-files": "4"},
			nil},
		{"delete of rows a file's bounds admit", writeTable, "delete", newIDFilter(15, 16, 17), nil, 10,
			map[string]string{"added-data-files": "1", "deleted-data-files": "1", "added-records": "7", "deleted-records": "10", "total-records": "27", "total-data-files": "3"},
			nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			loc := filepath.ToSlash(t.TempDir()) + "/db/t"
			locs := c.writer(t, loc, batches)
			baseLoc := locs[len(locs)-1]
			base, err := podice.ReadMetadataFile(iceio.LocalFS{}, baseLoc)
			if err != nil {
				t.Fatal(err)
			}
			props := map[string]string{"podium.k": "7"}
			var next *podice.Metadata
			if c.op == "delete" {
				next, err = podice.Delete(ctx, iceio.LocalFS{}, base, baseLoc, c.filter, props)
			} else {
				next, err = podice.Overwrite(ctx, iceio.LocalFS{}, base, baseLoc, c.filter, c.rows, props)
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.filter.asked != c.asked {
				t.Errorf("the filter was asked about %d rows, want %d (the files it cannot tell from their bounds)", c.filter.asked, c.asked)
			}
			want := append(without(all, c.filter), c.rows...)
			rows, err := podice.Scan(ctx, iceio.LocalFS{}, next, 0)
			if err != nil {
				t.Fatal(err)
			}
			equalRows(t, "podium's scan", rows, want)
			nextLoc := commitTo(t, next, 100)
			equalRows(t, "iceberg-go's scan of podium's "+c.op, goScan(t, nextLoc, 0), want)
			// The snapshot before is still there as it was.
			equalRows(t, "time travel", goScan(t, nextLoc, base.CurrentSnapshot().SnapshotID), all)

			s := next.CurrentSnapshot()
			if s.Operation() != c.op || s.Summary["podium.k"] != "7" || *s.ParentSnapshotID != base.CurrentSnapshot().SnapshotID ||
				s.SequenceNumber != base.LastSequenceNumber+1 || next.Refs["main"].SnapshotID != s.SnapshotID {
				t.Errorf("snapshot %+v", s)
			}
			for _, k := range figureKeys {
				if s.Summary[k] != c.figures[k] && !(k == "total-delete-files" && s.Summary[k] == "0") {
					t.Errorf("summary %s = %q, want %q", k, s.Summary[k], c.figures[k])
				}
			}
			statuses, deleted := entryStatuses(t, next, s)
			if c.statuses != nil {
				for st, n := range c.statuses {
					if statuses[st] != n {
						t.Errorf("%d entries of status %d, want %d (all: %v)", statuses[st], st, n, statuses)
					}
				}
			}
			if got, _ := strconv(c.figures["deleted-data-files"]); len(deleted) != got {
				t.Errorf("%d entries deleted by the snapshot, want %d", len(deleted), got)
			}

			// iceberg-go does the same on the same base: the same rows and
			// figures, and podium reads its result.
			tx := goTable(t, baseLoc).NewTransaction()
			if c.op == "delete" {
				err = tx.Delete(ctx, c.filter.expr(), iceberg.Properties(props))
			} else {
				rdr := goReader(t, c.rows)
				err = tx.Overwrite(ctx, rdr, iceberg.Properties(props), table.WithOverwriteFilter(c.filter.expr()))
				rdr.Release()
			}
			if err != nil {
				t.Fatalf("iceberg-go's %s: %v", c.op, err)
			}
			gt, err := tx.Commit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			gs := gt.CurrentSnapshot()
			for _, k := range figureKeys {
				if s.Summary[k] != gs.Summary.Properties[k] {
					t.Errorf("summary %s: podium %q, iceberg-go %q", k, s.Summary[k], gs.Summary.Properties[k])
				}
			}
			if string(gs.Summary.Operation) != c.op {
				t.Errorf("iceberg-go's operation %s", gs.Summary.Operation)
			}
			gm, err := podice.ReadMetadataFile(iceio.LocalFS{}, gt.MetadataLocation())
			if err != nil {
				t.Fatal(err)
			}
			rows, err = podice.Scan(ctx, iceio.LocalFS{}, gm, 0)
			if err != nil {
				t.Fatal(err)
			}
			equalRows(t, "podium's scan of iceberg-go's "+c.op, rows, want)
		})
	}
}

// strconv parses a decimal figure, "" as 0.
func strconv(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	var n int
	_, err := fmt.Sscan(s, &n)
	return n, err
}

// goReader returns rows as an Arrow record reader of testSchema.
func goReader(t *testing.T, rows []podice.Row) array.RecordReader {
	t.Helper()
	sc, err := table.SchemaToArrowSchema(testSchema(), nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	rec := recordOf(t, sc, rows)
	defer rec.Release()
	rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	return rdr
}

// TestOverwriteFailureLeavesNoFile makes the rewrite fail (a filter that
// errs) after the new rows are written: no data file is left.
func TestOverwriteFailureLeavesNoFile(t *testing.T) {
	ctx := context.Background()
	loc := filepath.ToSlash(t.TempDir()) + "/db/t"
	locs := writeTable(t, loc, [][]podice.Row{testRows(0, 5)})
	base, err := podice.ReadMetadataFile(iceio.LocalFS{}, locs[0])
	if err != nil {
		t.Fatal(err)
	}
	before := dataFiles(t, loc)
	_, err = podice.Overwrite(ctx, iceio.LocalFS{}, base, locs[0], failing{}, testRows(10, 2), nil)
	if err == nil || !strings.Contains(err.Error(), "no row for you") {
		t.Fatalf("error %v", err)
	}
	if after := dataFiles(t, loc); !slices.Equal(after, before) {
		t.Errorf("data files %v, before %v", after, before)
	}
}

type failing struct{}

func (failing) Match(podice.Row) (bool, error)   { return false, errors.New("no row for you") }
func (failing) MightMatch(iceberg.DataFile) bool { return true }
func (failing) AllMatch(iceberg.DataFile) bool   { return false }

// dataFiles lists the Parquet files under the table at loc.
func dataFiles(t *testing.T, loc string) []string {
	t.Helper()
	out, err := filepath.Glob(filepath.Join(loc, "data", "*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExpireSnapshots expires snapshots around a tag and the branch's last
// ones: what stays reads as before (with iceberg-go too), the snapshot log
// keeps no gap, and exactly the files only expired snapshots needed are
// listed for deletion.
func TestExpireSnapshots(t *testing.T) {
	ctx := context.Background()
	fsys := iceio.LocalFS{}
	loc := filepath.ToSlash(t.TempDir()) + "/db/t"
	batches := [][]podice.Row{testRows(0, 3), testRows(3, 3), testRows(6, 3), testRows(9, 3), testRows(12, 3)}
	locs := writeTable(t, loc, batches)
	m, err := podice.ReadMetadataFile(fsys, locs[len(locs)-1])
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, 0, 6)
	for _, s := range m.Snapshots {
		ids = append(ids, s.SnapshotID)
	}
	// s5 deletes batch 1: its file leaves the table.
	f1 := newIDFilter(3, 4, 5)
	next, err := podice.Delete(ctx, fsys, m, locs[len(locs)-1], f1, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, gone := entryStatuses(t, next, next.CurrentSnapshot())
	if len(gone) != 1 {
		t.Fatalf("the delete removed %v", gone)
	}
	ids = append(ids, next.CurrentSnapshot().SnapshotID)
	v := 100
	metaLoc := commitTo(t, next, v)
	if m, err = podice.SetTag(next, metaLoc, "first", ids[0]); err != nil {
		t.Fatal(err)
	}
	v++
	metaLoc = commitTo(t, m, v)
	var all []podice.Row
	for _, b := range batches {
		all = append(all, b...)
	}

	// Nothing is older than an hour ago.
	same, ex, err := podice.ExpireSnapshots(ctx, fsys, m, metaLoc, time.Now().Add(-time.Hour), 1)
	if err != nil || len(ex.Snapshots) != 0 || len(same.Snapshots) != 6 {
		t.Fatalf("expiring nothing: %v %+v", err, ex)
	}

	// The tag keeps s0, the last two s4 and s5.
	m, ex, err = podice.ExpireSnapshots(ctx, fsys, m, metaLoc, time.Now().Add(time.Second), 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ex.Snapshots, ids[1:4]) {
		t.Errorf("expired %v, want %v", ex.Snapshots, ids[1:4])
	}
	var lists []string
	old, err := podice.ReadMetadataFile(fsys, metaLoc)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[1:4] {
		lists = append(lists, old.SnapshotByID(id).ManifestList)
	}
	if !slices.Equal(ex.Files, lists) {
		t.Errorf("files to delete %v, want the expired manifest lists %v", ex.Files, lists)
	}
	if len(m.SnapshotLog) != 2 || m.SnapshotLog[0].SnapshotID != ids[4] || m.SnapshotLog[1].SnapshotID != ids[5] {
		t.Errorf("snapshot log %+v, want s4 and s5", m.SnapshotLog)
	}
	if got := m.MetadataLog[len(m.MetadataLog)-1].MetadataFile; got != metaLoc {
		t.Errorf("the metadata log ends with %s, want the expiry's base %s", got, metaLoc)
	}
	if err := podice.RemoveFiles(ctx, fsys, ex.Files); err != nil {
		t.Fatal(err)
	}
	v++
	metaLoc = commitTo(t, m, v)
	equalRows(t, "iceberg-go, the tagged snapshot", goScan(t, metaLoc, ids[0]), batches[0])
	equalRows(t, "iceberg-go, s4", goScan(t, metaLoc, ids[4]), all)
	equalRows(t, "iceberg-go, current", goScan(t, metaLoc, 0), without(all, f1))

	// Without the tag, only s5 stays: s0's and s4's manifest lists go, the
	// manifest s5 rewrote and the data file s5 deleted with them.
	if m, err = podice.RemoveTag(m, metaLoc, "first"); err != nil {
		t.Fatal(err)
	}
	v++
	metaLoc = commitTo(t, m, v)
	before := m
	m, ex, err = podice.ExpireSnapshots(ctx, fsys, m, metaLoc, time.Now().Add(time.Second), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ex.Snapshots, []int64{ids[0], ids[4]}) || len(m.Snapshots) != 1 {
		t.Errorf("expired %v, left %d", ex.Snapshots, len(m.Snapshots))
	}
	s4, err := podice.Manifests(fsys, before.SnapshotByID(ids[4]))
	if err != nil {
		t.Fatal(err)
	}
	s5, err := podice.Manifests(fsys, before.SnapshotByID(ids[5]))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{before.SnapshotByID(ids[0]).ManifestList, before.SnapshotByID(ids[4]).ManifestList}
	for _, mf := range s4 {
		if !slices.ContainsFunc(s5, func(o iceberg.ManifestFile) bool { return o.FilePath() == mf.FilePath() }) {
			want = append(want, mf.FilePath())
		}
	}
	want = append(want, gone...)
	if len(want) != 4 || !slices.Equal(slices.Sorted(slices.Values(ex.Files)), slices.Sorted(slices.Values(want))) {
		t.Errorf("files to delete\n %v\nwant\n %v", ex.Files, want)
	}
	if err := podice.RemoveFiles(ctx, fsys, ex.Files); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(strings.TrimPrefix(gone[0], "file://")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the deleted data file is still there: %v", err)
	}
	v++
	metaLoc = commitTo(t, m, v)
	equalRows(t, "iceberg-go after expiry", goScan(t, metaLoc, 0), without(all, f1))
	rows, err := podice.Scan(ctx, fsys, m, 0)
	if err != nil {
		t.Fatal(err)
	}
	equalRows(t, "podium after expiry", rows, without(all, f1))
	if len(m.SnapshotLog) != 1 {
		t.Errorf("snapshot log %+v", m.SnapshotLog)
	}
	if err := podice.RemoveFiles(ctx, fsys, ex.Files); err != nil {
		t.Errorf("removing files already gone: %v", err)
	}
}

func TestTags(t *testing.T) {
	loc := filepath.ToSlash(t.TempDir()) + "/db/t"
	locs := writeTable(t, loc, [][]podice.Row{testRows(0, 1), testRows(1, 1)})
	m, err := podice.ReadMetadataFile(iceio.LocalFS{}, locs[1])
	if err != nil {
		t.Fatal(err)
	}
	first := m.Snapshots[0].SnapshotID
	if _, err := podice.SetTag(m, locs[1], "main", first); err == nil {
		t.Error("a tag replaced the main branch")
	}
	if _, err := podice.SetTag(m, locs[1], "x", 42); err == nil {
		t.Error("a tag of no snapshot")
	}
	tagged, err := podice.SetTag(m, locs[1], "x", first)
	if err != nil {
		t.Fatal(err)
	}
	if r := tagged.Refs["x"]; r.Type != "tag" || r.SnapshotID != first || len(m.Refs) != 1 {
		t.Errorf("refs %+v (base %+v)", tagged.Refs, m.Refs)
	}
	if got := tagged.MetadataLog[len(tagged.MetadataLog)-1].MetadataFile; got != locs[1] {
		t.Errorf("metadata log ends with %s", got)
	}
	loc2 := commitTo(t, tagged, 10)
	var r table.SnapshotRef
	ok := false
	for name, ref := range goTable(t, loc2).Metadata().Refs() {
		if name == "x" {
			r, ok = ref, true
		}
	}
	if !ok || r.SnapshotRefType != table.TagRef || r.SnapshotID != first {
		t.Errorf("iceberg-go reads the tag as %+v", r)
	}
	untagged, err := podice.RemoveTag(tagged, loc2, "x")
	if err != nil || len(untagged.Refs) != 1 {
		t.Fatalf("%v %+v", err, untagged.Refs)
	}
	if _, err := podice.RemoveTag(untagged, loc2, "x"); err == nil {
		t.Error("removed a tag that is not there")
	}
}

// TestCompact rewrites small files into files of about the target size,
// with the rows unchanged for podium and iceberg-go.
func TestCompact(t *testing.T) {
	ctx := context.Background()
	fsys := iceio.LocalFS{}
	var batches [][]podice.Row
	for i := range 6 {
		batches = append(batches, testRows(i*20, 20))
	}
	var all []podice.Row
	for _, b := range batches {
		all = append(all, b...)
	}
	loc0 := filepath.ToSlash(t.TempDir()) + "/db/t"
	locs0 := writeTable(t, loc0, batches)
	m0, err := podice.ReadMetadataFile(fsys, locs0[len(locs0)-1])
	if err != nil {
		t.Fatal(err)
	}
	files, err := podice.DataFiles(ctx, fsys, m0.CurrentSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	var biggest int64
	for _, f := range files {
		biggest = max(biggest, f.FileSizeBytes())
	}
	for _, c := range []struct {
		name           string
		target         int64
		removed, added int
	}{
		{"all into one", biggest * 100, 6, 1},
		{"groups of three", biggest*3 - 1, 6, 2},
		{"none small", biggest / 2, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			loc := filepath.ToSlash(t.TempDir()) + "/db/t"
			locs := writeTable(t, loc, batches)
			baseLoc := locs[len(locs)-1]
			base, err := podice.ReadMetadataFile(fsys, baseLoc)
			if err != nil {
				t.Fatal(err)
			}
			m, done, err := podice.Compact(ctx, fsys, base, baseLoc, c.target, map[string]string{"podium.k": "9"})
			if err != nil {
				t.Fatal(err)
			}
			if done.Removed != c.removed || done.Added != c.added {
				t.Fatalf("compacted %+v, want %d files into %d", done, c.removed, c.added)
			}
			if c.removed == 0 {
				if len(m.Snapshots) != len(base.Snapshots) {
					t.Error("a compaction of nothing made a snapshot")
				}
				return
			}
			s := m.CurrentSnapshot()
			if s.Operation() != "replace" || s.Summary["podium.k"] != "9" || s.Summary["total-records"] != "120" ||
				s.Summary["total-data-files"] != fmt.Sprint(c.added) || s.Summary["deleted-data-files"] != "6" {
				t.Errorf("summary %v", s.Summary)
			}
			rows, err := podice.Scan(ctx, fsys, m, 0)
			if err != nil {
				t.Fatal(err)
			}
			equalRows(t, "podium after compaction", rows, all)
			equalRows(t, "iceberg-go after compaction", goScan(t, commitTo(t, m, 50), 0), all)
		})
	}
}

// TestRewriteManifests leaves one manifest of the live files, which
// iceberg-go reads as the table's rows.
func TestRewriteManifests(t *testing.T) {
	ctx := context.Background()
	fsys := iceio.LocalFS{}
	loc := filepath.ToSlash(t.TempDir()) + "/db/t"
	batches := [][]podice.Row{testRows(0, 4), testRows(4, 4), testRows(8, 4)}
	locs := icebergGoTable(t, loc, batches)
	base, err := podice.ReadMetadataFile(fsys, locs[len(locs)-1])
	if err != nil {
		t.Fatal(err)
	}
	f := newIDFilter(4, 5, 6, 7, 8)
	m, err := podice.Delete(ctx, fsys, base, locs[len(locs)-1], f, nil)
	if err != nil {
		t.Fatal(err)
	}
	mLoc := commitTo(t, m, 20)
	m, replaced, err := podice.RewriteManifests(ctx, fsys, m, mLoc, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := m.CurrentSnapshot()
	mfs, err := podice.Manifests(fsys, s)
	if err != nil {
		t.Fatal(err)
	}
	statuses, _ := entryStatuses(t, m, s)
	// The delete left 4 manifests: the new file's, the first append's,
	// and the two it rewrote.
	if replaced != 4 || len(mfs) != 1 || statuses[iceberg.EntryStatusEXISTING] != 2 || len(statuses) != 1 {
		t.Errorf("replaced %d manifests by %d, entries %v; want 4 by 1, 2 existing", replaced, len(mfs), statuses)
	}
	if s.Operation() != "replace" || s.Summary["manifests-replaced"] != "4" || s.Summary["total-records"] != "7" {
		t.Errorf("summary %v", s.Summary)
	}
	var all []podice.Row
	for _, b := range batches {
		all = append(all, b...)
	}
	equalRows(t, "iceberg-go after rewriting the manifests", goScan(t, commitTo(t, m, 21), 0), without(all, f))
	empty, err := podice.NewMetadata(loc+"2", testSchema(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := podice.RewriteManifests(ctx, fsys, empty, "", nil); err == nil {
		t.Error("rewrote the manifests of a table without snapshots")
	}
}

// listless hides the local file system's WalkDir.
type listless struct{ iceio.IO }

func TestOrphanFiles(t *testing.T) {
	ctx := context.Background()
	fsys := iceio.LocalFS{}
	dir := filepath.ToSlash(t.TempDir())
	loc := "file://" + dir + "/db/t"
	locs := writeTable(t, loc, [][]podice.Row{testRows(0, 4), testRows(4, 4)})
	m, err := podice.ReadMetadataFile(fsys, locs[1])
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	stray := map[string]time.Time{
		"data/stray.parquet":                old,
		"metadata/00099-lost.metadata.json": old,
		"metadata/lost-m0.avro":             old,
		"data/young.parquet":                time.Now(),
		"data/sub/deeper-stray.parquet":     old,
	}
	for rel, mt := range stray {
		p := dir + "/db/t/" + rel
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	// Every file the table refers to is old too.
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && !strings.Contains(p, "young") {
			err = os.Chtimes(p, old, old)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := podice.OrphanFiles(ctx, fsys, m, locs[1], time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{loc + "/data/stray.parquet", loc + "/data/sub/deeper-stray.parquet", loc + "/metadata/00099-lost.metadata.json", loc + "/metadata/lost-m0.avro"}
	if !slices.Equal(got, want) {
		t.Errorf("orphans\n %v\nwant\n %v", got, want)
	}
	if err := podice.RemoveFiles(ctx, fsys, got); err != nil {
		t.Fatal(err)
	}
	rows, err := podice.Scan(ctx, fsys, m, 0)
	if err != nil || len(rows) != 8 {
		t.Errorf("after removing the orphans: %d rows, %v", len(rows), err)
	}
	equalRows(t, "iceberg-go after removing the orphans", goScan(t, locs[1], 0), append(testRows(0, 4), testRows(4, 4)...))
	if again, err := podice.OrphanFiles(ctx, fsys, m, locs[1], time.Now().Add(-time.Hour)); err != nil || len(again) != 0 {
		t.Errorf("orphans after removal: %v %v", again, err)
	}
	if _, err := podice.OrphanFiles(ctx, listless{fsys}, m, locs[1], time.Now()); !errors.Is(err, podice.ErrUnsupported) {
		t.Errorf("an IO that cannot list: %v, want ErrUnsupported", err)
	}
}

// TestIcebergGoMaintenanceReadByPodium: a table whose manifests
// iceberg-go rewrote and whose snapshots it expired reads the same with
// podium, which deletes from it and compacts it.
func TestIcebergGoMaintenanceReadByPodium(t *testing.T) {
	ctx := context.Background()
	fsys := iceio.LocalFS{}
	loc := filepath.ToSlash(t.TempDir()) + "/db/t"
	batches := [][]podice.Row{testRows(0, 5), testRows(5, 5), testRows(10, 5), testRows(15, 5)}
	var all []podice.Row
	for _, b := range batches {
		all = append(all, b...)
	}
	locs := icebergGoTable(t, loc, batches)
	tx := goTable(t, locs[len(locs)-1]).NewTransaction()
	if _, err := tx.RewriteManifests(ctx); err != nil {
		t.Fatal(err)
	}
	tbl, err := tx.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	tx = goTable(t, tbl.MetadataLocation()).NewTransaction()
	if err := tx.ExpireSnapshots(table.WithOlderThan(0), table.WithRetainLast(1)); err != nil {
		t.Fatal(err)
	}
	if tbl, err = tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	m, err := podice.ReadMetadataFile(fsys, tbl.MetadataLocation())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Snapshots) != 1 {
		t.Fatalf("%d snapshots after iceberg-go's expiry", len(m.Snapshots))
	}
	rows, err := podice.Scan(ctx, fsys, m, 0)
	if err != nil {
		t.Fatal(err)
	}
	equalRows(t, "podium's scan after iceberg-go's maintenance", rows, all)
	f := newIDFilter(7)
	if m, err = podice.Delete(ctx, fsys, m, tbl.MetadataLocation(), f, nil); err != nil {
		t.Fatal(err)
	}
	mLoc := commitTo(t, m, 300)
	m, done, err := podice.Compact(ctx, fsys, m, mLoc, 1<<30, nil)
	if err != nil || done.Removed != 4 || done.Added != 1 {
		t.Fatalf("compacted %+v, %v", done, err)
	}
	equalRows(t, "iceberg-go after podium's delete and compaction", goScan(t, commitTo(t, m, 301), 0), without(all, f))
}
