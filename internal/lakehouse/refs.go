package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/apache/iceberg-go/table"
)

// ErrExpired is returned for a point in time the table's history no
// longer reaches: its snapshots were expired.
var ErrExpired = errors.New("history expired")

// Snapshot returns the snapshot id of the table, whether on the current
// branch or kept by a tag.
func (t *Table) Snapshot(id int64) (Snapshot, error) {
	s := t.tbl.SnapshotByID(id)
	if s == nil {
		return Snapshot{}, fmt.Errorf("lakehouse: table %s has no snapshot %d (expired, or of another table: see its history)", t.name, id)
	}
	return snapshotOf(s), nil
}

// SnapshotAt returns the snapshot that was the table's current one at
// instant at, from the table's snapshot log (which expiry trims from the
// oldest end, so that what it keeps has no gap). It fails with ErrExpired
// when at is before the oldest entry the log keeps, and with an error
// when the table had no snapshot yet then.
func (t *Table) SnapshotAt(at time.Time) (Snapshot, error) {
	var found *table.SnapshotLogEntry
	first := true
	for e := range t.tbl.Metadata().SnapshotLogs() {
		if first && at.UnixMilli() < e.TimestampMs {
			return Snapshot{}, fmt.Errorf("lakehouse: table %s as of %s: the oldest snapshot kept is of %s: %w",
				t.name, at.UTC().Format(time.RFC3339), time.UnixMilli(e.TimestampMs).UTC().Format(time.RFC3339), ErrExpired)
		}
		first = false
		if e.TimestampMs > at.UnixMilli() {
			break
		}
		found = &e
	}
	if found == nil {
		return Snapshot{}, fmt.Errorf("lakehouse: table %s had no snapshot at %s", t.name, at.UTC().Format(time.RFC3339))
	}
	return t.Snapshot(found.SnapshotID)
}

// Tags returns the table's tags: name to snapshot id. A tagged snapshot
// is kept by expiry.
func (t *Table) Tags() map[string]int64 {
	out := map[string]int64{}
	for name, ref := range t.tbl.Metadata().Refs() {
		if ref.SnapshotRefType == table.TagRef {
			out[name] = ref.SnapshotID
		}
	}
	return out
}

// Tag names snapshot id with a tag, which keeps it from expiry until the
// tag is removed. Tagging a snapshot with the tag it has is a no-op.
func (t *Table) Tag(ctx context.Context, name string, id int64) error {
	if cur, ok := t.Tags()[name]; ok && cur == id {
		return nil
	}
	if t.tbl.SnapshotByID(id) == nil {
		return fmt.Errorf("lakehouse: tag %s: table %s has no snapshot %d", name, t.name, id)
	}
	return t.commitRefs(ctx, "tag", []table.Update{table.NewSetSnapshotRefUpdate(name, id, table.TagRef, 0, 0, 0)})
}

// RemoveTag removes a tag; the snapshot it kept expires with the next
// expiry that reaches it.
func (t *Table) RemoveTag(ctx context.Context, name string) error {
	if _, ok := t.Tags()[name]; !ok {
		return nil
	}
	return t.commitRefs(ctx, "remove the tag of", []table.Update{table.NewRemoveSnapshotRefUpdate(name)})
}

// commitRefs commits updates of the table's refs (no snapshot) through
// the catalog, then reloads the table.
func (t *Table) commitRefs(ctx context.Context, what string, updates []table.Update) error {
	id, err := ident(t.name)
	if err != nil {
		return err
	}
	uuid := t.tbl.Metadata().TableUUID()
	if _, _, err := t.lake.cat.CommitTable(ctx, id, []table.Requirement{table.AssertTableUUID(uuid)}, updates); err != nil {
		return fmt.Errorf("lakehouse: %s %s: %w", what, t.name, err)
	}
	return t.Refresh(ctx)
}

// Snapshots returns every snapshot the table keeps, oldest first: those
// of its history and those only a tag keeps.
func (t *Table) Snapshots() []Snapshot {
	var out []Snapshot
	for _, s := range t.tbl.Metadata().Snapshots() {
		out = append(out, snapshotOf(&s))
	}
	slices.SortFunc(out, func(a, b Snapshot) int { return a.Time.Compare(b.Time) })
	return out
}

// ExpireAllButCurrent expires every snapshot but the current one and those
// tags keep, and deletes the files only they needed; it returns the ids
// of the snapshots expired.
func (t *Table) ExpireAllButCurrent(ctx context.Context) ([]int64, error) {
	before := t.Snapshots()
	// Snapshots committed within the same millisecond as now are kept by
	// the age rule: wait one.
	time.Sleep(2 * time.Millisecond)
	if err := t.commit(ctx, "expire snapshots of", func(_ context.Context, tx *table.Transaction) error {
		return tx.ExpireSnapshots(table.WithOlderThan(0), table.WithRetainLast(1))
	}); err != nil {
		return nil, err
	}
	kept := map[int64]bool{}
	for _, s := range t.Snapshots() {
		kept[s.ID] = true
	}
	var gone []int64
	for _, s := range before {
		if !kept[s.ID] {
			gone = append(gone, s.ID)
		}
	}
	return gone, nil
}

// RewriteManifests rewrites the manifests of the current snapshot into new
// ones that list its live files only, in one "replace" snapshot (without
// summary properties of podium's): the entries of files earlier snapshots removed,
// with their column statistics, are left behind (and go with the expiry
// of the snapshots before it).
func (t *Table) RewriteManifests(ctx context.Context) error {
	if _, ok := t.Current(); !ok {
		return nil
	}
	return t.commit(ctx, "rewrite the manifests of", func(ctx context.Context, tx *table.Transaction) error {
		_, err := tx.RewriteManifests(ctx)
		return err
	})
}

// RemoveOrphanFiles deletes the files under the table's location that
// nothing the table keeps refers to — data and delete files, manifests,
// manifest lists left by failed commits and crashes — and that are older
// than olderThan (files a writer is writing now are younger), with
// iceberg-go's own orphan cleanup. It returns the paths deleted.
func (t *Table) RemoveOrphanFiles(ctx context.Context, olderThan time.Duration) ([]string, error) {
	res, err := t.tbl.DeleteOrphanFiles(ctx, table.WithFilesOlderThan(olderThan))
	if err != nil {
		return nil, fmt.Errorf("lakehouse: %s: remove orphan files: %w", t.name, err)
	}
	gone := slices.Clone(res.DeletedFiles)
	slices.Sort(gone)
	return gone, nil
}
