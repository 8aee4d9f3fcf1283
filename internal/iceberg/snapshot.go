package iceberg

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/google/uuid"
	"github.com/klauspost/compress/zstd"
)

// The snapshot summary's keys (Iceberg's SnapshotSummary).
const (
	SummaryOperation            = "operation"
	SummaryAddedDataFiles       = "added-data-files"
	SummaryAddedRecords         = "added-records"
	SummaryAddedFilesSize       = "added-files-size"
	SummaryChangedPartitions    = "changed-partition-count"
	SummaryTotalRecords         = "total-records"
	SummaryTotalFilesSize       = "total-files-size"
	SummaryTotalDataFiles       = "total-data-files"
	SummaryTotalDeleteFiles     = "total-delete-files"
	SummaryTotalPositionDeletes = "total-position-deletes"
	SummaryTotalEqualityDeletes = "total-equality-deletes"
)

// totalKeys are the summary's running totals.
var totalKeys = []string{SummaryTotalRecords, SummaryTotalFilesSize, SummaryTotalDataFiles,
	SummaryTotalDeleteFiles, SummaryTotalPositionDeletes, SummaryTotalEqualityDeletes}

// metadataPreviousVersionsMax is the table property capping the metadata
// log, and its default.
const (
	metadataPreviousVersionsMax        = "write.metadata.previous-versions-max"
	metadataPreviousVersionsMaxDefault = 100
)

// ReadMetadataFile reads the table metadata file at loc, plain JSON or
// gzip- or zstd-compressed.
func ReadMetadataFile(fsys iceio.IO, loc string) (*Metadata, error) {
	f, err := fsys.Open(loc)
	if err != nil {
		return nil, fmt.Errorf("iceberg: open %s: %w", loc, err)
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("iceberg: read %s: %w", loc, err)
	}
	switch {
	case bytes.HasPrefix(raw, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			raw, err = io.ReadAll(zr)
		}
		if err != nil {
			return nil, fmt.Errorf("iceberg: read %s: gzip: %w", loc, err)
		}
	case bytes.HasPrefix(raw, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("iceberg: read %s: zstd: %w", loc, err)
		}
		raw, err = dec.DecodeAll(raw, nil)
		dec.Close()
		if err != nil {
			return nil, fmt.Errorf("iceberg: read %s: zstd: %w", loc, err)
		}
	}
	m, err := ParseMetadata(raw)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, loc)
	}
	return m, nil
}

// WriteMetadataFile writes m as plain JSON to loc.
func WriteMetadataFile(fsys iceio.WriteFileIO, loc string, m *Metadata) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("iceberg: encode metadata: %w", err)
	}
	if err := fsys.WriteFile(loc, b); err != nil {
		return fmt.Errorf("iceberg: write %s: %w", loc, err)
	}
	return nil
}

// DataFileLocation returns a new location for a data file of the table.
func (m *Metadata) DataFileLocation() string {
	return fmt.Sprintf("%s/data/00000-0-%s.parquet", m.Location, uuid.New())
}

// DefaultSpec returns the table's default partition spec; it must be
// unpartitioned.
func (m *Metadata) DefaultSpec() (iceberg.PartitionSpec, error) {
	for _, s := range m.PartitionSpecs {
		if s.ID() == m.DefaultSpecID {
			if s.NumFields() != 0 {
				return s, fmt.Errorf("iceberg: table %s is partitioned: %w", m.Location, ErrUnsupported)
			}
			return s, nil
		}
	}
	return iceberg.PartitionSpec{}, fmt.Errorf("iceberg: table %s has no partition spec %d", m.Location, m.DefaultSpecID)
}

// mainSnapshot returns the head of the main branch: the "main" ref's
// snapshot, or the current snapshot of metadata without refs.
func (m *Metadata) mainSnapshot() *Snapshot {
	if r, ok := m.Refs[MainBranch]; ok {
		return m.SnapshotByID(r.SnapshotID)
	}
	return m.CurrentSnapshot()
}

// newSnapshotID returns a positive snapshot id the table does not use.
func (m *Metadata) newSnapshotID() int64 {
	for {
		id := rand.Int64()
		if id != 0 && m.SnapshotByID(id) == nil {
			return id
		}
	}
}

// Manifests returns the manifests of snapshot s, from its manifest list.
func Manifests(fsys iceio.IO, s *Snapshot) ([]iceberg.ManifestFile, error) {
	f, err := fsys.Open(s.ManifestList)
	if err != nil {
		return nil, fmt.Errorf("iceberg: open manifest list %s: %w", s.ManifestList, err)
	}
	defer f.Close()
	mfs, err := iceberg.ReadManifestList(f)
	if err != nil {
		return nil, fmt.Errorf("iceberg: read manifest list %s: %w", s.ManifestList, err)
	}
	return mfs, nil
}

// DataFiles returns the live data files of snapshot s: those of the
// entries of its manifests not marked deleted. A snapshot with delete files
// is ErrUnsupported.
func DataFiles(ctx context.Context, fsys iceio.IO, s *Snapshot) ([]iceberg.DataFile, error) {
	mes, err := liveEntries(ctx, fsys, s)
	if err != nil {
		return nil, err
	}
	var out []iceberg.DataFile
	for _, me := range mes {
		for _, e := range me.entries {
			out = append(out, e.DataFile())
		}
	}
	return out, nil
}

// Scan reads the rows of snapshot id of the table (0: the current one), as
// the snapshot's schema, data file after data file. A table without
// snapshots reads as no rows.
func Scan(ctx context.Context, fsys iceio.IO, m *Metadata, id int64) ([]Row, error) {
	return ScanRows(ctx, fsys, m, id, nil, 0)
}

// ScanRows is Scan of the rows filter selects (nil: all), at most limit
// of them (0: all): the data files whose column bounds rule out a
// selected row are not read, and reading stops at the limit. It holds
// the rows it returns and one row group of a data file at a time; with a
// limit, it stops in the row group where the limit is reached.
func ScanRows(ctx context.Context, fsys iceio.IO, m *Metadata, id int64, filter RowFilter, limit int) ([]Row, error) {
	s := m.CurrentSnapshot()
	if id != 0 {
		if s = m.SnapshotByID(id); s == nil {
			return nil, fmt.Errorf("iceberg: table %s has no snapshot %d", m.Location, id)
		}
	}
	if s == nil {
		return nil, nil
	}
	sc := m.CurrentSchema()
	if s.SchemaID != nil {
		if sc = m.Schema(*s.SchemaID); sc == nil {
			return nil, fmt.Errorf("iceberg: snapshot %d: no schema %d", s.SnapshotID, *s.SchemaID)
		}
	}
	files, err := DataFiles(ctx, fsys, s)
	if err != nil {
		return nil, err
	}
	var out []Row
	for _, df := range files {
		if filter != nil && !filter.MightMatch(df) {
			continue
		}
		all := filter == nil || filter.AllMatch(df)
		for rows, err := range RowGroups(ctx, fsys, sc, df) {
			if err != nil {
				return nil, err
			}
			if !all {
				keep := rows[:0]
				for _, r := range rows {
					ok, err := filter.Match(r)
					if err != nil {
						return nil, fmt.Errorf("iceberg: filter a row of %s: %w", df.FilePath(), err)
					}
					if ok {
						keep = append(keep, r)
					}
				}
				rows = keep
			}
			out = append(out, rows...)
			if limit > 0 && len(out) >= limit {
				clear(out[limit:]) // the rows past the limit go
				return out[:limit:limit], nil
			}
		}
	}
	return out, nil
}

// Append returns the metadata of base (read from baseLocation; "" for a
// table never written) with a new "append" snapshot on the main branch
// adding files: a manifest of the files, a manifest list of it and the
// parent snapshot's manifests, the summary's figures (added and total
// records, files and sizes) and props. Without files the snapshot adds
// nothing and still carries props. base is left as it was; the caller
// writes the new metadata file and swaps it in its catalog.
func Append(ctx context.Context, fsys iceio.WriteFileIO, base *Metadata, baseLocation string, files []iceberg.DataFile, props map[string]string) (*Metadata, error) {
	u, err := newUpdate(ctx, fsys, base, baseLocation)
	if err != nil {
		return nil, fmt.Errorf("iceberg: append to %s: %w", base.Location, err)
	}
	var prev []iceberg.ManifestFile
	if u.parent != nil {
		if prev, err = Manifests(fsys, u.parent); err != nil {
			return nil, err
		}
	}
	manifests := make([]iceberg.ManifestFile, 0, len(prev)+1)
	if len(files) > 0 {
		mf, err := u.addedManifest(files)
		if err != nil {
			return nil, err
		}
		manifests = append(manifests, mf)
	}
	return u.commit(ctx, "append", append(manifests, prev...), props, nil)
}

// parentTotals returns the running totals of the summary of parent (all 0
// without a parent). A parent whose summary lacks them (written by an
// engine that keeps none) has them counted from its manifests.
func parentTotals(ctx context.Context, fsys iceio.IO, parent *Snapshot) (map[string]int64, error) {
	totals := make(map[string]int64, len(totalKeys))
	if parent == nil {
		return totals, nil
	}
	complete := true
	for _, k := range totalKeys {
		v, err := strconv.ParseInt(parent.Summary[k], 10, 64)
		if err != nil {
			complete = false
			break
		}
		totals[k] = v
	}
	if complete {
		return totals, nil
	}
	clear(totals)
	mfs, err := Manifests(fsys, parent)
	if err != nil {
		return nil, err
	}
	for _, mf := range mfs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for e, err := range mf.Entries(fsys, true) {
			if err != nil {
				return nil, fmt.Errorf("iceberg: read manifest %s: %w", mf.FilePath(), err)
			}
			df := e.DataFile()
			totals[SummaryTotalFilesSize] += df.FileSizeBytes()
			switch df.ContentType() {
			case iceberg.EntryContentData:
				totals[SummaryTotalDataFiles]++
				totals[SummaryTotalRecords] += df.Count()
			case iceberg.EntryContentPosDeletes:
				totals[SummaryTotalDeleteFiles]++
				totals[SummaryTotalPositionDeletes] += df.Count()
			case iceberg.EntryContentEqDeletes:
				totals[SummaryTotalDeleteFiles]++
				totals[SummaryTotalEqualityDeletes] += df.Count()
			}
		}
	}
	return totals, nil
}

// writeManifest writes a v2 data manifest of entries to loc.
func writeManifest(fsys iceio.WriteFileIO, loc string, spec iceberg.PartitionSpec, sc *iceberg.Schema, id int64, entries []iceberg.ManifestEntry) (iceberg.ManifestFile, error) {
	out, err := fsys.Create(loc)
	if err != nil {
		return nil, fmt.Errorf("iceberg: create manifest %s: %w", loc, err)
	}
	mf, err := iceberg.WriteManifest(loc, out, FormatVersion, spec, sc, id, entries)
	if cerr := out.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		_ = fsys.Remove(loc)
		return nil, fmt.Errorf("iceberg: write manifest %s: %w", loc, err)
	}
	return mf, nil
}

// writeManifestList writes the v2 manifest list of snapshot id to loc; the
// new manifests (sequence number unassigned) get seq.
func writeManifestList(fsys iceio.WriteFileIO, loc string, id int64, parent *int64, seq int64, manifests []iceberg.ManifestFile) error {
	out, err := fsys.Create(loc)
	if err != nil {
		return fmt.Errorf("iceberg: create manifest list %s: %w", loc, err)
	}
	err = iceberg.WriteManifestList(FormatVersion, out, id, parent, &seq, 0, manifests)
	if cerr := out.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		_ = fsys.Remove(loc)
		return fmt.Errorf("iceberg: write manifest list %s: %w", loc, err)
	}
	return nil
}
