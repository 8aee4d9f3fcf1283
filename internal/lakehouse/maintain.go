package lakehouse

import (
	"context"
	"fmt"
	"time"

	podice "github.com/podiumhq/podium/internal/iceberg"
)

// Maintenance says how a table that a long-running writer commits to often
// is kept small. Every commit adds a snapshot, a manifest and usually a
// small data file, and every commit's work grows with what the table holds:
// without maintenance a sink committing every few seconds slows down and
// grows without end.
type Maintenance struct {
	// ExpireOlderThan expires the snapshots older than this, beyond the
	// last RetainLast (the current one always stays); 0 expires none. The
	// files only expired snapshots needed are deleted.
	ExpireOlderThan time.Duration
	// RetainLast is how many snapshots expiry always keeps (at least 1).
	RetainLast int
	// CompactFiles rewrites the small data files of the current snapshot
	// (smaller than 3/4 of TargetFileSize) into files of about
	// TargetFileSize, in one snapshot, once there are more than this many;
	// 0 never compacts.
	CompactFiles int
	// CompactManifests merges the manifests of the current snapshot once
	// there are more than this many; 0 never merges.
	CompactManifests int
	// TargetFileSize is the size compaction aims at (default 32 MiB).
	TargetFileSize int64
}

// DefaultTargetFileSize is Maintenance.TargetFileSize's default: small
// enough that a compaction never holds much in memory, large enough that a
// year of activities is a handful of files.
const DefaultTargetFileSize = 32 << 20

// Maintained says what Maintain did.
type Maintained struct {
	Expired          int // snapshots expired
	CompactedFiles   int // small data files rewritten
	WrittenFiles     int // data files written in their place
	MergedManifests  int // manifests merged
	Snapshots, Files int // the snapshots and live data files left
}

// Maintain merges manifests, compacts small data files and expires old
// snapshots of the table (internal/iceberg's RewriteManifests, Compact
// and ExpireSnapshots), each in a commit that fails with ErrConflict if
// another writer committed to the main branch first. The compaction
// snapshot's summary carries props: a writer that keeps its positions in
// the summaries (podium's sinks) passes those of its last commit, so that
// the current snapshot still holds them. No row changes.
func (t *Table) Maintain(ctx context.Context, m Maintenance, props map[string]string) (Maintained, error) {
	var done Maintained
	if m.TargetFileSize <= 0 {
		m.TargetFileSize = DefaultTargetFileSize
	}
	if _, ok := t.Current(); ok && m.CompactManifests > 0 {
		n, err := t.manifestCount()
		if err != nil {
			return done, err
		}
		if n > m.CompactManifests {
			err := t.commit(ctx, "merge the manifests of", true, func(ctx context.Context, base *podice.Metadata, baseLoc string) (*podice.Metadata, error) {
				next, replaced, err := podice.RewriteManifests(ctx, t.fsys, base, baseLoc, nil)
				done.MergedManifests = replaced
				return next, err
			})
			if err != nil {
				return done, err
			}
		}
	}
	if _, ok := t.Current(); ok && m.CompactFiles > 0 {
		files, err := t.Files(ctx, 0)
		if err != nil {
			return done, err
		}
		small := 0
		for _, f := range files {
			if f.Content == DataContent && f.Size < m.TargetFileSize*3/4 {
				small++
			}
		}
		if small > m.CompactFiles {
			err := t.commit(ctx, "compact", true, func(ctx context.Context, base *podice.Metadata, baseLoc string) (*podice.Metadata, error) {
				next, c, err := podice.Compact(ctx, t.fsys, base, baseLoc, m.TargetFileSize, props)
				if err != nil || c.Removed == 0 {
					return nil, err // nothing to commit
				}
				done.CompactedFiles, done.WrittenFiles = c.Removed, c.Added
				return next, nil
			})
			if err != nil {
				return done, err
			}
		}
	}
	if m.ExpireOlderThan > 0 {
		ids, err := t.expire(ctx, time.Now().Add(-m.ExpireOlderThan), m.RetainLast)
		done.Expired = len(ids)
		if err != nil {
			return done, err
		}
	}
	done.Snapshots = len(t.meta.Snapshots)
	files, err := t.Files(ctx, 0)
	if err != nil {
		return done, err
	}
	for _, f := range files {
		if f.Content == DataContent {
			done.Files++
		}
	}
	return done, nil
}

// manifestCount returns the number of manifests of the current snapshot.
func (t *Table) manifestCount() (int, error) {
	snap := t.meta.CurrentSnapshot()
	if snap == nil {
		return 0, nil
	}
	ms, err := podice.Manifests(t.fsys, snap)
	if err != nil {
		return 0, fmt.Errorf("lakehouse: %s: %w", t.name, err)
	}
	return len(ms), nil
}
