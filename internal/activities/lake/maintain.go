package lake

import (
	"context"
	"errors"
	"time"

	"github.com/podiumhq/podium/internal/lakehouse"
)

// maintain keeps the tables small, at most every MaintainEvery, with the
// Iceberg library's operations (lakehouse.Table.Maintain): manifests
// merged and small data files compacted once a table has more than
// CompactFiles, snapshots older than Retention expired beyond the last
// RetainSnapshots, and the files only they needed deleted. The compaction
// snapshot carries the table's positions, so the current snapshot always
// holds them. A failure is logged and tried again at the next round: the
// tables stay correct, only bigger; a table another writer moved is
// reloaded by the next batch's commit.
func (r *run) maintain(ctx context.Context) {
	if time.Since(r.maintained) < r.cfg.MaintainEvery {
		return
	}
	r.maintained = time.Now()
	m := lakehouse.Maintenance{RetainLast: RetainSnapshots, CompactFiles: max(r.cfg.CompactFiles, 0),
		CompactManifests: max(r.cfg.CompactFiles, 0)}
	if r.cfg.Retention > 0 {
		m.ExpireOlderThan = r.cfg.Retention
	}
	for _, name := range Tables {
		t := r.tables[name]
		// Reload the table first: expiry must see the tags other
		// processes (payroll exports) put on its snapshots, or it would
		// expire them.
		if err := r.reload(ctx, name); err != nil {
			r.log.Warn("maintain the table: reload; trying again later", "table", name, "err", err)
			continue
		}
		start := time.Now()
		done, err := t.Maintain(ctx, m, r.carried(t))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			msg := "maintain the table; trying again later"
			if errors.Is(err, lakehouse.ErrConflict) {
				msg = "maintain the table: another writer committed; trying again later"
			}
			r.log.Warn(msg, "table", name, "err", err)
			continue
		}
		if done.Expired+done.CompactedFiles+done.MergedManifests > 0 {
			r.log.Info("lakehouse table maintained", "table", name, "expired_snapshots", done.Expired,
				"compacted_files", done.CompactedFiles, "written_files", done.WrittenFiles,
				"merged_manifests", done.MergedManifests, "snapshots", done.Snapshots, "files", done.Files,
				"duration", time.Since(start))
		}
	}
}

// carried returns the summary properties a maintenance snapshot of t
// carries: the positions of its last commit, and for gold the silver
// snapshot it was computed from.
func (r *run) carried(t *table) map[string]string {
	props := map[string]string{PropPositions: t.pos.String(), PropTopic: r.cfg.Topic, PropEvents: "0"}
	for _, k := range []string{PropSilverSnapshot, PropRulesVersion} {
		if v, ok := t.LastProperty(k); ok {
			props[k] = v
		}
	}
	return props
}
