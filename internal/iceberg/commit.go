package iceberg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"strconv"
	"time"

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/google/uuid"
)

// The summary's keys of what a snapshot removed (Iceberg's
// SnapshotSummary).
const (
	SummaryDeletedDataFiles = "deleted-data-files"
	SummaryDeletedRecords   = "deleted-records"
	SummaryRemovedFilesSize = "removed-files-size"
)

// figures count data files: how many, their records and bytes.
type figures struct{ files, records, size int64 }

func (f *figures) add(df iceberg.DataFile) {
	f.files++
	f.records += df.Count()
	f.size += df.FileSizeBytes()
}

// update is a new snapshot on the main branch of a copy of a table's
// metadata, in the making: the operations (Append, Overwrite, Delete,
// Compact, RewriteManifests) write its data files and manifests, then
// commit adds it to the copy.
type update struct {
	fsys        iceio.WriteFileIO
	m           *Metadata // the copy of the base, which commit changes
	baseLoc     string
	baseUpdated int64
	spec        iceberg.PartitionSpec
	sc          *iceberg.Schema
	parent      *Snapshot // the main branch's head; nil for none
	id, seq     int64
	added       figures // data files added
	removed     figures // data files removed
	// written are the data files the update wrote, deleted by abort.
	written []string
}

// newUpdate starts a snapshot on a copy of base, read from baseLocation
// ("" for a table never written).
func newUpdate(ctx context.Context, fsys iceio.WriteFileIO, base *Metadata, baseLocation string) (*update, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, err := base.Clone()
	if err != nil {
		return nil, err
	}
	spec, err := m.DefaultSpec()
	if err != nil {
		return nil, err
	}
	sc := m.CurrentSchema()
	if sc == nil {
		return nil, fmt.Errorf("iceberg: table %s has no schema %d", m.Location, m.CurrentSchemaID)
	}
	return &update{fsys: fsys, m: m, baseLoc: baseLocation, baseUpdated: base.LastUpdatedMS, spec: spec, sc: sc,
		parent: m.mainSnapshot(), id: m.newSnapshotID(), seq: m.LastSequenceNumber + 1}, nil
}

// writeRows writes rows to a new data file of the table.
func (u *update) writeRows(ctx context.Context, rows []Row) (iceberg.DataFile, error) {
	df, err := WriteDataFile(ctx, u.fsys, u.m.DataFileLocation(), u.sc, u.spec, rows)
	if err != nil {
		return nil, err
	}
	u.written = append(u.written, df.FilePath())
	return df, nil
}

// abort deletes the data files the update wrote: it is not committed.
func (u *update) abort() {
	for _, p := range u.written {
		_ = u.fsys.Remove(p)
	}
	u.written = nil
}

// addedManifest writes a manifest adding files, counted as added.
func (u *update) addedManifest(files []iceberg.DataFile) (iceberg.ManifestFile, error) {
	entries := make([]iceberg.ManifestEntry, len(files))
	for i, df := range files {
		if df.ContentType() != iceberg.EntryContentData {
			return nil, fmt.Errorf("iceberg: add %s: a delete file: %w", df.FilePath(), ErrUnsupported)
		}
		entries[i] = iceberg.NewManifestEntry(iceberg.EntryStatusADDED, &u.id, nil, nil, df)
		u.added.add(df)
	}
	return writeManifest(u.fsys, u.manifestLocation(), u.spec, u.sc, u.id, entries)
}

// manifestLocation returns a new location for a manifest of the update.
func (u *update) manifestLocation() string {
	return fmt.Sprintf("%s/metadata/%s-m0.avro", u.m.Location, uuid.New())
}

// manifestEntries are a manifest and its live entries.
type manifestEntries struct {
	mf      iceberg.ManifestFile
	entries []iceberg.ManifestEntry
}

// liveEntries returns the manifests of snapshot s with their live entries
// (added and existing). A snapshot with delete files is ErrUnsupported.
func liveEntries(ctx context.Context, fsys iceio.IO, s *Snapshot) ([]manifestEntries, error) {
	mfs, err := Manifests(fsys, s)
	if err != nil {
		return nil, err
	}
	out := make([]manifestEntries, 0, len(mfs))
	for _, mf := range mfs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("iceberg: snapshot %d: %w", s.SnapshotID, err)
		}
		if mf.ManifestContent() != iceberg.ManifestContentData {
			if mf.AddedDataFiles()+mf.ExistingDataFiles() > 0 {
				return nil, fmt.Errorf("iceberg: snapshot %d has delete files (%s): %w", s.SnapshotID, mf.FilePath(), ErrUnsupported)
			}
			continue
		}
		me := manifestEntries{mf: mf}
		for e, err := range mf.Entries(fsys, true) {
			if err != nil {
				return nil, fmt.Errorf("iceberg: read manifest %s: %w", mf.FilePath(), err)
			}
			if e.DataFile().ContentType() == iceberg.EntryContentData {
				me.entries = append(me.entries, e)
			}
		}
		out = append(out, me)
	}
	return out, nil
}

// removeFiles returns the manifests of mes with the entries of the files
// gone (by path) marked deleted by this snapshot and counted as removed: a
// manifest without any is kept as it is, one with some is written anew,
// its other live entries existing (their snapshot ids and sequence
// numbers kept).
func (u *update) removeFiles(mes []manifestEntries, gone map[string]bool) ([]iceberg.ManifestFile, error) {
	out := make([]iceberg.ManifestFile, 0, len(mes))
	for _, me := range mes {
		hit := false
		for _, e := range me.entries {
			if gone[e.DataFile().FilePath()] {
				hit = true
				break
			}
		}
		if !hit {
			out = append(out, me.mf)
			continue
		}
		entries := make([]iceberg.ManifestEntry, 0, len(me.entries))
		for _, e := range me.entries {
			df := e.DataFile()
			seq := e.SequenceNum()
			if gone[df.FilePath()] {
				entries = append(entries, iceberg.NewManifestEntry(iceberg.EntryStatusDELETED, &u.id, &seq, e.FileSequenceNum(), df))
				u.removed.add(df)
				continue
			}
			snap := e.SnapshotID()
			entries = append(entries, iceberg.NewManifestEntry(iceberg.EntryStatusEXISTING, &snap, &seq, e.FileSequenceNum(), df))
		}
		mf, err := writeManifest(u.fsys, u.manifestLocation(), u.spec, u.sc, u.id, entries)
		if err != nil {
			return nil, err
		}
		out = append(out, mf)
	}
	return out, nil
}

// commit writes the manifest list of manifests and adds the snapshot,
// operation op, to the copy of the metadata, made the main branch's head
// and the current snapshot. Its summary holds props, the figures added
// and removed, the running totals and extra.
func (u *update) commit(ctx context.Context, op string, manifests []iceberg.ManifestFile, props, extra map[string]string) (*Metadata, error) {
	m := u.m
	now := max(time.Now().UnixMilli(), m.LastUpdatedMS)
	listLoc := fmt.Sprintf("%s/metadata/snap-%d-0-%s.avro", m.Location, u.id, uuid.New())
	var parentID *int64
	if u.parent != nil {
		parentID = &u.parent.SnapshotID
	}
	if err := writeManifestList(u.fsys, listLoc, u.id, parentID, u.seq, manifests); err != nil {
		return nil, err
	}
	totals, err := parentTotals(ctx, u.fsys, u.parent)
	if err != nil {
		return nil, err
	}
	summary := maps.Clone(props)
	if summary == nil {
		summary = map[string]string{}
	}
	maps.Copy(summary, extra)
	summary[SummaryOperation] = op
	if u.added.files > 0 {
		summary[SummaryAddedDataFiles] = strconv.FormatInt(u.added.files, 10)
		summary[SummaryAddedRecords] = strconv.FormatInt(u.added.records, 10)
		summary[SummaryAddedFilesSize] = strconv.FormatInt(u.added.size, 10)
	}
	if u.removed.files > 0 {
		summary[SummaryDeletedDataFiles] = strconv.FormatInt(u.removed.files, 10)
		summary[SummaryDeletedRecords] = strconv.FormatInt(u.removed.records, 10)
		summary[SummaryRemovedFilesSize] = strconv.FormatInt(u.removed.size, 10)
	}
	if u.added.files+u.removed.files > 0 {
		summary[SummaryChangedPartitions] = "1"
	}
	totals[SummaryTotalDataFiles] += u.added.files - u.removed.files
	totals[SummaryTotalRecords] += u.added.records - u.removed.records
	totals[SummaryTotalFilesSize] += u.added.size - u.removed.size
	for _, k := range totalKeys {
		summary[k] = strconv.FormatInt(max(0, totals[k]), 10)
	}

	schemaID := u.sc.ID
	id := u.id
	m.Snapshots = append(m.Snapshots, Snapshot{
		SnapshotID:       id,
		ParentSnapshotID: parentID,
		SequenceNumber:   u.seq,
		TimestampMS:      now,
		ManifestList:     listLoc,
		Summary:          summary,
		SchemaID:         &schemaID,
	})
	m.LastSequenceNumber = u.seq
	m.LastUpdatedMS = now
	m.CurrentSnapshotID = &id
	ref := Ref{SnapshotID: id, Type: "branch"}
	if old, ok := m.Refs[MainBranch]; ok { // keep its retention settings
		old.SnapshotID = id
		ref = old
	}
	if m.Refs == nil {
		m.Refs = map[string]Ref{}
	}
	m.Refs[MainBranch] = ref
	m.SnapshotLog = append(m.SnapshotLog, SnapshotLogEntry{TimestampMS: now, SnapshotID: id})
	m.logMetadata(u.baseLoc, u.baseUpdated)
	return m, nil
}

// logMetadata adds the base metadata file, at baseLocation and last
// updated at baseUpdated, to m's metadata log (nothing for "": a table
// never written), which keeps the last write.metadata.previous-versions-max
// entries.
func (m *Metadata) logMetadata(baseLocation string, baseUpdated int64) {
	if baseLocation == "" {
		return
	}
	m.MetadataLog = append(m.MetadataLog, MetadataLogEntry{TimestampMS: baseUpdated, MetadataFile: baseLocation})
	keep := metadataPreviousVersionsMaxDefault
	if v, err := strconv.Atoi(m.Properties[metadataPreviousVersionsMax]); err == nil && v >= 1 {
		keep = v
	}
	if len(m.MetadataLog) > keep {
		m.MetadataLog = m.MetadataLog[len(m.MetadataLog)-keep:]
	}
}

// RemoveFiles deletes files (the Files of Expired, OrphanFiles); a file
// already gone is no error. It tries every file and reports every
// failure.
func RemoveFiles(ctx context.Context, fsys iceio.IO, files []string) error {
	var errs []error
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fsys.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("iceberg: delete %s: %w", f, err))
		}
	}
	return errors.Join(errs...)
}
