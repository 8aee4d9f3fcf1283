package lakehouse_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// parquetFiles counts the Parquet files under dir: what the warehouse
// holds on disk, live or not.
func parquetFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".parquet") {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMaintain commits one row at a time, as a sink on a quiet topic does,
// then maintains the table: the rows stay, the small files become one, the
// manifests are merged, the snapshots beyond the last one are expired and
// their files deleted, and the current snapshot still carries the writer's
// properties.
func TestMaintain(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	wh := filepath.Join(t.TempDir(), "warehouse")
	l := openLake(t, s, lakehouse.Config{Warehouse: wh})
	tb, err := l.EnsureTable(ctx, "things.busy", cols, nil)
	if err != nil {
		t.Fatal(err)
	}
	const commits = 40
	for i := int64(1); i <= commits; i++ {
		props := map[string]string{"podium.k": strconv.FormatInt(i, 10)}
		if i%4 == 0 {
			// Copy-on-write: replace the previous row.
			err = tb.Overwrite(ctx, lakehouse.EqInt64("id", i-1), []lakehouse.Row{row(i-1, "again"), row(i, "row")}, props)
		} else {
			err = tb.Append(ctx, []lakehouse.Row{row(i, "row")}, props)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	before, err := tb.Scan(ctx, lakehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := tb.Files(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < commits/2 {
		t.Fatalf("%d live files after %d commits: the test needs many small files", len(files), commits)
	}
	onDisk := parquetFiles(t, wh)
	time.Sleep(5 * time.Millisecond) // every snapshot older than the expiry age below
	done, err := tb.Maintain(ctx, lakehouse.Maintenance{ExpireOlderThan: time.Millisecond, RetainLast: 1,
		CompactFiles: 8, CompactManifests: 8}, map[string]string{"podium.k": strconv.Itoa(commits)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("maintained: %+v; parquet files on disk %d before", done, onDisk)
	after, err := tb.Scan(ctx, lakehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sortByID(after), sortByID(before)) {
		t.Fatalf("maintenance changed the rows: %d rows, had %d", len(after), len(before))
	}
	if done.CompactedFiles < len(files)-1 || done.WrittenFiles != 1 || done.Files != 1 {
		t.Errorf("compaction rewrote %d of %d files into %d (live %d), want all into 1", done.CompactedFiles, len(files), done.WrittenFiles, done.Files)
	}
	if done.MergedManifests == 0 {
		t.Error("no manifest merged")
	}
	if n := len(tb.History()); n != 1 || done.Snapshots != 1 || done.Expired != commits+1 {
		t.Errorf("%d snapshots left (%d expired), want 1", n, done.Expired)
	}
	if v, ok := tb.LastProperty("podium.k"); !ok || v != strconv.Itoa(commits) {
		t.Errorf("the writer's property after maintenance: %q, %v", v, ok)
	}
	if cur, _ := tb.Current(); cur.Summary["podium.k"] != strconv.Itoa(commits) {
		t.Errorf("the current snapshot (%s) lacks the writer's property: %v", cur.Operation, cur.Summary)
	}
	if n := parquetFiles(t, wh); n != 1 {
		t.Errorf("%d Parquet files left on disk (had %d): the expired snapshots' files were not deleted", n, onDisk)
	}
	// Nothing to do the second time.
	again, err := tb.Maintain(ctx, lakehouse.Maintenance{ExpireOlderThan: time.Hour, RetainLast: 1, CompactFiles: 8, CompactManifests: 8}, nil)
	if err != nil || again.CompactedFiles != 0 || again.MergedManifests != 0 || again.Expired != 0 {
		t.Errorf("second maintenance: %+v, %v; want nothing done", again, err)
	}
	// A later commit goes on from the compacted table.
	if err := tb.Append(ctx, []lakehouse.Row{row(commits+1, "row")}, nil); err != nil {
		t.Fatal(err)
	}
	if rows, err := tb.Scan(ctx, lakehouse.ScanOptions{}); err != nil || len(rows) != len(before)+1 {
		t.Errorf("after a later append: %d rows, %v", len(rows), err)
	}
}
