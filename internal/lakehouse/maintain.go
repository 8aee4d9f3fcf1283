package lakehouse

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/table/compaction"
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
// snapshots of the table, with iceberg-go's own operations
// (Transaction.RewriteManifests, compaction.Config.PlanCompaction with
// Transaction.RewriteDataFiles, Transaction.ExpireSnapshots), each in a
// commit that fails with ErrConflict if another writer committed first.
// The compaction snapshot's summary carries props: a writer that keeps
// its positions in the summaries (podium's sinks) passes those of its last
// commit, so that the current snapshot still holds them. No row changes.
func (t *Table) Maintain(ctx context.Context, m Maintenance, props map[string]string) (Maintained, error) {
	var done Maintained
	if m.TargetFileSize <= 0 {
		m.TargetFileSize = DefaultTargetFileSize
	}
	if _, ok := t.Current(); ok && m.CompactManifests > 0 {
		n, err := t.manifestCount(ctx)
		if err != nil {
			return done, err
		}
		if n > m.CompactManifests {
			err := t.commit(ctx, "merge the manifests of", func(ctx context.Context, tx *table.Transaction) error {
				res, err := tx.RewriteManifests(ctx)
				if err == nil {
					done.MergedManifests = len(res.RewrittenManifests)
				}
				return err
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
		cfg := compaction.DefaultConfig()
		cfg.TargetFileSizeBytes = m.TargetFileSize
		cfg.MinFileSizeBytes = m.TargetFileSize * 3 / 4
		cfg.MaxFileSizeBytes = m.TargetFileSize * 9 / 5
		small := 0
		for _, f := range files {
			if f.Content == DataContent && f.Size < cfg.MinFileSizeBytes {
				small++
			}
		}
		if small > m.CompactFiles {
			err := t.commit(ctx, "compact", func(ctx context.Context, tx *table.Transaction) error {
				tasks, err := t.tbl.Scan().PlanFiles(ctx)
				if err != nil {
					return fmt.Errorf("plan the compaction: %w", err)
				}
				plan, err := cfg.PlanCompaction(tasks)
				if err != nil {
					return fmt.Errorf("plan the compaction: %w", err)
				}
				groups := make([]table.CompactionTaskGroup, len(plan.Groups))
				for i, g := range plan.Groups {
					groups[i] = table.CompactionTaskGroup{PartitionKey: g.PartitionKey, Tasks: g.Tasks, TotalSizeBytes: g.TotalSizeBytes}
				}
				res, err := tx.RewriteDataFiles(ctx, groups, table.RewriteDataFilesOptions{SnapshotProps: props,
					GroupOptions: []table.CompactionGroupOption{table.WithCompactionTargetFileSize(m.TargetFileSize)}})
				if err == nil {
					done.CompactedFiles, done.WrittenFiles = res.RemovedDataFiles, res.AddedDataFiles
				}
				return err
			})
			if err != nil {
				return done, err
			}
		}
	}
	if m.ExpireOlderThan > 0 {
		before := len(t.tbl.Metadata().Snapshots())
		if err := t.ExpireSnapshots(ctx, m.ExpireOlderThan, m.RetainLast); err != nil {
			return done, err
		}
		done.Expired = before - len(t.tbl.Metadata().Snapshots())
	}
	done.Snapshots = len(t.tbl.Metadata().Snapshots())
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
func (t *Table) manifestCount(ctx context.Context) (int, error) {
	snap := t.tbl.CurrentSnapshot()
	if snap == nil {
		return 0, nil
	}
	fio, err := t.tbl.FS(ctx)
	if err != nil {
		return 0, fmt.Errorf("lakehouse: %s: open the warehouse: %w", t.name, err)
	}
	ms, err := snap.Manifests(fio)
	if err != nil {
		return 0, fmt.Errorf("lakehouse: %s: read the manifest list: %w", t.name, err)
	}
	return len(ms), nil
}
