package lakehouse

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"weak"

	podice "github.com/podiumhq/podium/internal/iceberg"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// TestCommitsDoNotKeepOldMetadata commits twenty times to one Table and
// checks that the metadata of the earlier versions can be collected.
// iceberg-go v0.7.0's committed snapshots point into the transaction's
// metadata builder, whose base is the previous metadata: kept, every
// version stayed reachable from the current one (heap growing with the
// square of the commits, 1 GB after 20 minutes of podium demo). podium's
// own layer (internal/iceberg) makes each version a deep copy of its base,
// which the test holds to sharing nothing the table keeps.
func TestCommitsDoNotKeepOldMetadata(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	l, err := Open(ctx, s.DB(), Dialect(s.Dialect()), Config{Warehouse: filepath.Join(t.TempDir(), "wh")})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tb, err := l.EnsureTable(ctx, "ns.t", []Column{{Name: "id", Type: Int64}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var old []weak.Pointer[podice.Metadata]
	for i := range 20 {
		old = append(old, weak.Make(tb.meta))
		if err := tb.Append(ctx, []Row{{int64(i)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.GC()
	alive := 0
	for _, w := range old {
		if w.Value() != nil {
			alive++
		}
	}
	if alive > 0 {
		t.Errorf("%d of %d earlier metadata versions are still reachable from the table", alive, len(old))
	}
	runtime.KeepAlive(tb)
}
