package lakehouse

import (
	"context"
	"fmt"

	"github.com/apache/iceberg-go"

	podice "github.com/podiumhq/podium/internal/iceberg"
)

// FileContent is what a file of a snapshot holds.
type FileContent string

// The contents of files (the Iceberg spec's data file content).
const (
	DataContent            FileContent = "data"
	PositionDeletesContent FileContent = "position-deletes"
	EqualityDeletesContent FileContent = "equality-deletes"
)

// File is a live file of a snapshot: a data file or a delete file.
type File struct {
	// Path is the file's location, a URL (file://, s3://).
	Path    string
	Content FileContent
	// Records is the number of rows (of deletes, for a delete file).
	Records int64
	// Size is the file's size in bytes.
	Size int64
}

// Files lists the live files of the snapshot snapshotID (0: the current
// one), as its manifest list and manifests tell them, without reading the
// data: for readers that read the Parquet files themselves, and for the
// maintenance's count of small files. A table without snapshot has none.
func (t *Table) Files(ctx context.Context, snapshotID int64) ([]File, error) {
	snap := t.meta.CurrentSnapshot()
	if snapshotID != 0 {
		snap = t.meta.SnapshotByID(snapshotID)
		if snap == nil {
			return nil, fmt.Errorf("lakehouse: table %s has no snapshot %d", t.name, snapshotID)
		}
	}
	if snap == nil {
		return nil, nil
	}
	fio := t.fsys
	manifests, err := podice.Manifests(fio, snap)
	if err != nil {
		return nil, fmt.Errorf("lakehouse: %s: %w", t.name, err)
	}
	var out []File
	for _, m := range manifests {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for e, err := range m.Entries(fio, true) { // live entries: added and existing
			if err != nil {
				return nil, fmt.Errorf("lakehouse: %s: read manifest %s: %w", t.name, m.FilePath(), err)
			}
			df := e.DataFile()
			f := File{Path: df.FilePath(), Records: df.Count(), Size: df.FileSizeBytes(), Content: DataContent}
			switch df.ContentType() {
			case iceberg.EntryContentPosDeletes:
				f.Content = PositionDeletesContent
			case iceberg.EntryContentEqDeletes:
				f.Content = EqualityDeletesContent
			}
			out = append(out, f)
		}
	}
	return out, nil
}
