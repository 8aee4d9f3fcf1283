package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	podice "github.com/podiumhq/podium/internal/iceberg"
)

// ErrExpired is returned for a point in time the table's history no
// longer reaches: its snapshots were expired.
var ErrExpired = errors.New("history expired")

// Snapshot returns the snapshot id of the table, whether on the current
// branch or kept by a tag.
func (t *Table) Snapshot(id int64) (Snapshot, error) {
	s := t.meta.SnapshotByID(id)
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
	var found *podice.SnapshotLogEntry
	for i, e := range t.meta.SnapshotLog {
		if i == 0 && at.UnixMilli() < e.TimestampMS {
			return Snapshot{}, fmt.Errorf("lakehouse: table %s as of %s: the oldest snapshot kept is of %s: %w",
				t.name, at.UTC().Format(time.RFC3339), time.UnixMilli(e.TimestampMS).UTC().Format(time.RFC3339), ErrExpired)
		}
		if e.TimestampMS > at.UnixMilli() {
			break
		}
		found = &t.meta.SnapshotLog[i]
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
	for name, ref := range t.meta.Refs {
		if ref.Type == "tag" {
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
	if t.meta.SnapshotByID(id) == nil {
		return fmt.Errorf("lakehouse: tag %s: table %s has no snapshot %d", name, t.name, id)
	}
	return t.commitRefs(ctx, "tag", func(base *podice.Metadata, baseLoc string) (*podice.Metadata, error) {
		return podice.SetTag(base, baseLoc, name, id)
	})
}

// RemoveTag removes a tag; the snapshot it kept expires with the next
// expiry that reaches it.
func (t *Table) RemoveTag(ctx context.Context, name string) error {
	if _, ok := t.Tags()[name]; !ok {
		return nil
	}
	return t.commitRefs(ctx, "remove the tag of", func(base *podice.Metadata, baseLoc string) (*podice.Metadata, error) {
		if _, ok := base.Refs[name]; !ok {
			return nil, nil // removed meanwhile
		}
		return podice.RemoveTag(base, baseLoc, name)
	})
}

// commitRefs commits a change of the table's refs (no snapshot) to its
// metadata as of now in the catalog, whatever other writers committed
// since the table was loaded (but another table of the same name), then
// reloads the table.
func (t *Table) commitRefs(ctx context.Context, what string, change func(base *podice.Metadata, baseLoc string) (*podice.Metadata, error)) error {
	uuid := t.meta.TableUUID
	err := t.commit(ctx, what, false, func(_ context.Context, base *podice.Metadata, baseLoc string) (*podice.Metadata, error) {
		if base.TableUUID != uuid {
			return nil, fmt.Errorf("%w: the table was replaced (uuid %s, was %s)", ErrConflict, base.TableUUID, uuid)
		}
		return change(base, baseLoc)
	})
	if err != nil {
		return err
	}
	return t.Refresh(ctx)
}

// Snapshots returns every snapshot the table keeps, oldest first: those
// of its history and those only a tag keeps.
func (t *Table) Snapshots() []Snapshot {
	var out []Snapshot
	for i := range t.meta.Snapshots {
		out = append(out, snapshotOf(&t.meta.Snapshots[i]))
	}
	slices.SortFunc(out, func(a, b Snapshot) int { return a.Time.Compare(b.Time) })
	return out
}

// ExpireAllButCurrent expires every snapshot but the current one and those
// tags keep, and deletes the files only they needed; it returns the ids
// of the snapshots expired.
func (t *Table) ExpireAllButCurrent(ctx context.Context) ([]int64, error) {
	// Snapshots committed within the same millisecond as now are kept by
	// the age rule: wait one.
	time.Sleep(2 * time.Millisecond)
	return t.expire(ctx, time.Now(), 1)
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
	return t.commit(ctx, "rewrite the manifests of", true, func(ctx context.Context, base *podice.Metadata, baseLoc string) (*podice.Metadata, error) {
		next, _, err := podice.RewriteManifests(ctx, t.fsys, base, baseLoc, nil)
		return next, err
	})
}

// RemoveOrphanFiles deletes the files under the table's location that
// nothing the table keeps refers to — data and delete files, manifests,
// manifest lists left by failed commits and crashes — and that are older
// than olderThan (files a writer is writing now are younger). It returns
// the paths deleted. It needs a warehouse whose files can be listed: a
// local one (podium's S3 IO lists nothing, and fails).
func (t *Table) RemoveOrphanFiles(ctx context.Context, olderThan time.Duration) ([]string, error) {
	gone, err := podice.OrphanFiles(ctx, t.fsys, t.meta, t.metaLoc, time.Now().Add(-olderThan))
	if err == nil {
		err = podice.RemoveFiles(ctx, t.fsys, gone)
	}
	if err != nil {
		return nil, fmt.Errorf("lakehouse: %s: remove orphan files: %w", t.name, err)
	}
	return gone, nil
}
