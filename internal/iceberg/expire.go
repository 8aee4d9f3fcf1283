package iceberg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
)

// Expired says what ExpireSnapshots removed.
type Expired struct {
	// Snapshots are the ids of the snapshots expired.
	Snapshots []int64
	// Files are the files only they needed: manifest lists, manifests,
	// data files, statistics. Delete them (RemoveFiles) once the new
	// metadata is committed, not before: until then the table is the old
	// one.
	Files []string
}

// ExpireSnapshots returns the metadata of base (read from baseLocation)
// without the snapshots older than olderThan, except the last retainLast
// (at least 1) of the main branch and those a ref (branch or tag) points
// at. The snapshot log is trimmed from its oldest end up to the last entry
// of a snapshot expired, so that what it keeps has no gap; statistics of
// expired snapshots go too. Without a snapshot to expire it returns base
// as it was (a copy) and no Expired.Snapshots: there is nothing to
// commit.
func ExpireSnapshots(ctx context.Context, fsys iceio.IO, base *Metadata, baseLocation string, olderThan time.Time, retainLast int) (*Metadata, Expired, error) {
	var out Expired
	m, err := base.Clone()
	if err != nil {
		return nil, out, err
	}
	keep := map[int64]bool{}
	for _, r := range m.Refs {
		keep[r.SnapshotID] = true
	}
	if cur := m.CurrentSnapshot(); cur != nil {
		keep[cur.SnapshotID] = true
	}
	s := m.mainSnapshot()
	for n := 0; s != nil && n < max(1, retainLast); n++ {
		keep[s.SnapshotID] = true
		if s.ParentSnapshotID == nil {
			break
		}
		s = m.SnapshotByID(*s.ParentSnapshotID)
	}
	cutoff := olderThan.UnixMilli()
	var kept, expired []Snapshot
	for _, s := range m.Snapshots {
		if keep[s.SnapshotID] || s.TimestampMS >= cutoff {
			kept = append(kept, s)
		} else {
			expired = append(expired, s)
			out.Snapshots = append(out.Snapshots, s.SnapshotID)
		}
	}
	if len(expired) == 0 {
		return m, out, nil
	}
	files, err := unreferenced(ctx, fsys, kept, expired)
	if err != nil {
		return nil, out, fmt.Errorf("iceberg: expire snapshots of %s: %w", m.Location, err)
	}
	gone := map[int64]bool{}
	for _, id := range out.Snapshots {
		gone[id] = true
	}
	m.Snapshots = kept
	last := -1
	for i, e := range m.SnapshotLog {
		if gone[e.SnapshotID] {
			last = i
		}
	}
	if last >= 0 {
		m.SnapshotLog = slices.Clone(m.SnapshotLog[last+1:])
	}
	var statFiles []string
	m.Statistics, statFiles = dropStatistics(m.Statistics, gone)
	files = append(files, statFiles...)
	m.PartitionStatistics, statFiles = dropStatistics(m.PartitionStatistics, gone)
	out.Files = append(files, statFiles...)
	m.LastUpdatedMS = max(time.Now().UnixMilli(), m.LastUpdatedMS)
	m.logMetadata(baseLocation, base.LastUpdatedMS)
	return m, out, nil
}

// unreferenced returns the manifest lists, manifests and data files of
// the snapshots expired that none of those kept refers to.
func unreferenced(ctx context.Context, fsys iceio.IO, kept, expired []Snapshot) ([]string, error) {
	keptManifests, keptData := map[string]bool{}, map[string]bool{}
	for i := range kept {
		mfs, err := Manifests(fsys, &kept[i])
		if err != nil {
			return nil, err
		}
		for _, mf := range mfs {
			if keptManifests[mf.FilePath()] {
				continue
			}
			keptManifests[mf.FilePath()] = true
			if err := eachEntry(ctx, fsys, mf, true, func(df iceberg.DataFile) { keptData[df.FilePath()] = true }); err != nil {
				return nil, err
			}
		}
	}
	var out []string
	seen := map[string]bool{}
	for i := range expired {
		out = append(out, expired[i].ManifestList)
		mfs, err := Manifests(fsys, &expired[i])
		if err != nil {
			return nil, err
		}
		for _, mf := range mfs {
			if keptManifests[mf.FilePath()] || seen[mf.FilePath()] {
				continue
			}
			seen[mf.FilePath()] = true
			out = append(out, mf.FilePath())
			err := eachEntry(ctx, fsys, mf, false, func(df iceberg.DataFile) {
				if p := df.FilePath(); !keptData[p] && !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// eachEntry calls fn with the file of each entry of mf: the live ones, or
// all.
func eachEntry(ctx context.Context, fsys iceio.IO, mf iceberg.ManifestFile, live bool, fn func(iceberg.DataFile)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for e, err := range mf.Entries(fsys, live) {
		if err != nil {
			return fmt.Errorf("read manifest %s: %w", mf.FilePath(), err)
		}
		fn(e.DataFile())
	}
	return nil
}

// statisticsFile is what this package reads of a statistics entry.
type statisticsFile struct {
	SnapshotID int64  `json:"snapshot-id"`
	Path       string `json:"statistics-path"`
}

// dropStatistics returns the statistics entries of snapshots not gone,
// and the files of those that are.
func dropStatistics(stats []json.RawMessage, gone map[int64]bool) (kept []json.RawMessage, files []string) {
	if stats == nil {
		return nil, nil
	}
	kept = []json.RawMessage{}
	for _, raw := range stats {
		var s statisticsFile
		if json.Unmarshal(raw, &s) == nil && gone[s.SnapshotID] {
			if s.Path != "" {
				files = append(files, s.Path)
			}
			continue
		}
		kept = append(kept, raw)
	}
	return kept, files
}

// SetTag returns the metadata of base (read from baseLocation) with the
// tag name pointing at snapshot id. A branch of that name is an error.
func SetTag(base *Metadata, baseLocation, name string, id int64) (*Metadata, error) {
	if r, ok := base.Refs[name]; ok && r.Type != "tag" {
		return nil, fmt.Errorf("iceberg: tag %s: a branch of that name exists", name)
	}
	if base.SnapshotByID(id) == nil {
		return nil, fmt.Errorf("iceberg: tag %s: table %s has no snapshot %d", name, base.Location, id)
	}
	m, err := base.Clone()
	if err != nil {
		return nil, err
	}
	if m.Refs == nil {
		m.Refs = map[string]Ref{}
	}
	r := m.Refs[name]
	r.SnapshotID, r.Type = id, "tag"
	m.Refs[name] = r
	m.LastUpdatedMS = max(time.Now().UnixMilli(), m.LastUpdatedMS)
	m.logMetadata(baseLocation, base.LastUpdatedMS)
	return m, nil
}

// RemoveTag returns the metadata of base (read from baseLocation) without
// the tag name. A branch of that name, or no ref, is an error.
func RemoveTag(base *Metadata, baseLocation, name string) (*Metadata, error) {
	if r, ok := base.Refs[name]; !ok || r.Type != "tag" {
		return nil, fmt.Errorf("iceberg: table %s has no tag %s", base.Location, name)
	}
	m, err := base.Clone()
	if err != nil {
		return nil, err
	}
	delete(m.Refs, name)
	m.LastUpdatedMS = max(time.Now().UnixMilli(), m.LastUpdatedMS)
	m.logMetadata(baseLocation, base.LastUpdatedMS)
	return m, nil
}

// OrphanFiles returns the files under the table's location last modified
// before olderThan that nothing m (whose file is metadataLocation) refers
// to: not the metadata file, those of its log, the manifest lists,
// manifests and data files of its snapshots, their statistics. Files a
// writer is writing now are younger than olderThan should be. The paths
// are the table location's followed by the file's path under it. The IO
// must list files (iceio.ListableIO, as the local file system does): else
// the error is ErrUnsupported.
func OrphanFiles(ctx context.Context, fsys iceio.IO, m *Metadata, metadataLocation string, olderThan time.Time) ([]string, error) {
	lister, ok := fsys.(iceio.ListableIO)
	if !ok {
		return nil, fmt.Errorf("iceberg: orphan files of %s: the file IO (%T) cannot list files: %w", m.Location, fsys, ErrUnsupported)
	}
	refs, err := references(ctx, fsys, m, metadataLocation)
	if err != nil {
		return nil, fmt.Errorf("iceberg: orphan files of %s: %w", m.Location, err)
	}
	root := localPath(m.Location)
	var out []string
	err = lister.WalkDir(m.Location, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if _, ok := refs[localPath(p)]; ok || !info.ModTime().Before(olderThan) {
			return nil
		}
		if rel, ok := strings.CutPrefix(localPath(p), root+"/"); ok {
			p = m.Location + "/" + rel
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("iceberg: orphan files of %s: %w", m.Location, err)
	}
	slices.Sort(out)
	return out, nil
}

// localPath returns the path of a file:// URL (as the local file system
// walks it), other locations as they are.
func localPath(loc string) string {
	if rest, ok := strings.CutPrefix(loc, "file://"); ok {
		return rest
	}
	return loc
}

// fileRef is a file a table's metadata refers to.
type fileRef struct {
	path string // as the metadata has it
	data bool   // a data file (else metadata: a manifest, a list, …)
}

// references returns the files m, whose file is metadataLocation, refers
// to, by localPath: the metadata file, those of its log, statistics, and
// the manifest lists, manifests and data files of its snapshots.
func references(ctx context.Context, fsys iceio.IO, m *Metadata, metadataLocation string) (map[string]fileRef, error) {
	refs := map[string]fileRef{}
	add := func(p string, data bool) { refs[localPath(p)] = fileRef{path: p, data: data} }
	if metadataLocation != "" {
		add(metadataLocation, false)
	}
	for _, e := range m.MetadataLog {
		add(e.MetadataFile, false)
	}
	for _, stats := range [][]json.RawMessage{m.Statistics, m.PartitionStatistics} {
		for _, raw := range stats {
			var s statisticsFile
			if json.Unmarshal(raw, &s) == nil && s.Path != "" {
				add(s.Path, false)
			}
		}
	}
	for i := range m.Snapshots {
		add(m.Snapshots[i].ManifestList, false)
		mfs, err := Manifests(fsys, &m.Snapshots[i])
		if err != nil {
			return nil, err
		}
		for _, mf := range mfs {
			if _, ok := refs[localPath(mf.FilePath())]; ok {
				continue
			}
			add(mf.FilePath(), false)
			if err := eachEntry(ctx, fsys, mf, false, func(df iceberg.DataFile) { add(df.FilePath(), true) }); err != nil {
				return nil, err
			}
		}
	}
	return refs, nil
}

// PurgeFiles deletes the files of a dropped table: those m (whose file is
// metadataLocation) refers to and, if the IO lists files, every other file
// under its location; with the table property gc.enabled=false, only its
// metadata files (its data files may be another table's too). It tries
// every file and reports every failure.
func PurgeFiles(ctx context.Context, fsys iceio.IO, m *Metadata, metadataLocation string) error {
	gc := m.Properties["gc.enabled"] != "false"
	refs, err := references(ctx, fsys, m, metadataLocation)
	if err != nil {
		return fmt.Errorf("iceberg: purge %s: %w", m.Location, err)
	}
	files := map[string]string{}
	if lister, ok := fsys.(iceio.ListableIO); ok && gc {
		err := lister.WalkDir(m.Location, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if !d.IsDir() {
				files[localPath(p)] = p
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("iceberg: purge %s: %w", m.Location, err)
		}
	}
	for k, r := range refs {
		if _, ok := files[k]; !ok && (gc || !r.data) {
			files[k] = r.path
		}
	}
	paths := slices.Sorted(maps.Values(files))
	return RemoveFiles(ctx, fsys, paths)
}
