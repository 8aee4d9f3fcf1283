package iceberg

import (
	"context"
	"fmt"
	"strconv"

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
)

// RowFilter selects rows for Overwrite, Delete and ScanRows, and tells
// from a data file's column statistics whether it might hold a selected
// row and whether every row it holds is selected: a *BoundFilter (a
// Filter bound to the table's schema).
type RowFilter interface {
	// Match reports whether the filter selects row (values in the
	// schema's field order).
	Match(row Row) (bool, error)
	// MightMatch is false when no row of df can be selected.
	MightMatch(df iceberg.DataFile) bool
	// AllMatch is true when every row of df is selected.
	AllMatch(df iceberg.DataFile) bool
}

// Overwrite returns the metadata of base (read from baseLocation) with a
// new "overwrite" snapshot on the main branch that deletes the rows filter
// selects, copy-on-write, and adds rows (in a new data file): the files
// filter cannot match are kept, those whose every row it selects are
// dropped unread, the others are read and, if any row goes, written anew
// without the rows selected. Manifests mark the files dropped deleted; the
// summary carries the figures added and deleted and props. Without
// anything to delete or add it still commits a snapshot carrying props.
// base is left as it was.
func Overwrite(ctx context.Context, fsys iceio.WriteFileIO, base *Metadata, baseLocation string, filter RowFilter, rows []Row, props map[string]string) (*Metadata, error) {
	m, err := rewriteRows(ctx, fsys, base, baseLocation, "overwrite", filter, rows, props)
	if err != nil {
		return nil, fmt.Errorf("iceberg: overwrite %s: %w", base.Location, err)
	}
	return m, nil
}

// Delete is Overwrite without rows to add: a "delete" snapshot.
func Delete(ctx context.Context, fsys iceio.WriteFileIO, base *Metadata, baseLocation string, filter RowFilter, props map[string]string) (*Metadata, error) {
	m, err := rewriteRows(ctx, fsys, base, baseLocation, "delete", filter, nil, props)
	if err != nil {
		return nil, fmt.Errorf("iceberg: delete from %s: %w", base.Location, err)
	}
	return m, nil
}

func rewriteRows(ctx context.Context, fsys iceio.WriteFileIO, base *Metadata, baseLocation, op string, filter RowFilter, rows []Row, props map[string]string) (_ *Metadata, err error) {
	u, err := newUpdate(ctx, fsys, base, baseLocation)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			u.abort()
		}
	}()
	var added []iceberg.DataFile
	if len(rows) > 0 {
		df, err := u.writeRows(ctx, rows)
		if err != nil {
			return nil, err
		}
		added = append(added, df)
	}
	var kept []iceberg.ManifestFile
	if u.parent != nil {
		mes, err := liveEntries(ctx, fsys, u.parent)
		if err != nil {
			return nil, err
		}
		gone := map[string]bool{}
		for _, me := range mes {
			for _, e := range me.entries {
				df := e.DataFile()
				if !filter.MightMatch(df) {
					continue
				}
				if filter.AllMatch(df) {
					gone[df.FilePath()] = true
					continue
				}
				nf, changed, err := u.filterFile(ctx, df, filter)
				if err != nil {
					return nil, err
				}
				if !changed {
					continue
				}
				gone[df.FilePath()] = true
				if nf != nil {
					added = append(added, nf)
				}
			}
		}
		if kept, err = u.removeFiles(mes, gone); err != nil {
			return nil, err
		}
	}
	var manifests []iceberg.ManifestFile
	if len(added) > 0 {
		mf, err := u.addedManifest(added)
		if err != nil {
			return nil, err
		}
		manifests = append(manifests, mf)
	}
	return u.commit(ctx, op, append(manifests, kept...), props, nil)
}

// filterFile reads df and, if filter selects any of its rows, writes the
// others to a new data file (nf; nil when none is left): changed is false
// when no row is selected and df stays as it is. It holds one row group of
// df and one batch of the rows written at a time. A first pass reads df up
// to its first selected row and stops there: a file without one (its
// bounds overlap the filter's, not its rows) is read once and nothing is
// written, where writing as it reads would compress and store a whole copy
// of it only to delete it. A file with one is read again from its start,
// the rows before that one copied without asking the filter again: each
// row is matched once.
func (u *update) filterFile(ctx context.Context, df iceberg.DataFile, filter RowFilter) (nf iceberg.DataFile, changed bool, err error) {
	match := func(r Row) (bool, error) {
		ok, err := filter.Match(r)
		if err != nil {
			return false, fmt.Errorf("filter a row of %s: %w", df.FilePath(), err)
		}
		return ok, nil
	}
	// first is the index in df of its first selected row; -1 for none.
	first, n := -1, 0
groups:
	for rows, err := range RowGroups(ctx, u.fsys, u.sc, df) {
		if err != nil {
			return nil, false, err
		}
		for _, r := range rows {
			ok, err := match(r)
			if err != nil {
				return nil, false, err
			}
			if ok {
				first = n
				break groups
			}
			n++
		}
	}
	if first < 0 {
		return nil, false, nil
	}
	w := u.newBatchWriter(ctx)
	n = 0
	for rows, err := range RowGroups(ctx, u.fsys, u.sc, df) {
		if err == nil {
			for _, r := range rows {
				drop := n == first
				if n > first {
					if drop, err = match(r); err != nil {
						break
					}
				}
				n++
				if !drop {
					if err = w.add(r); err != nil {
						break
					}
				}
			}
		}
		if err != nil {
			w.abort()
			return nil, false, err
		}
	}
	if nf, err = w.close(); err != nil {
		return nil, false, err
	}
	return nf, true, nil
}

// batchRows is how many rows a rewrite (a compaction, a copy-on-write
// overwrite or delete) gathers before it writes them as a row group (a
// variable for the tests): it holds one row group of the file it reads
// and at most this many rows to write at a time.
var batchRows = 1 << 16

// batchWriter writes rows to a new data file of the table in row groups
// of batchRows rows, creating the file with the first row.
type batchWriter struct {
	ctx   context.Context
	u     *update
	w     *dataFileWriter // nil before the first row
	batch []Row
}

func (u *update) newBatchWriter(ctx context.Context) *batchWriter {
	return &batchWriter{ctx: ctx, u: u}
}

// open creates the file, if not yet created.
func (b *batchWriter) open() error {
	if b.w != nil {
		return nil
	}
	w, err := newDataFileWriter(b.ctx, b.u.fsys, b.u.m.DataFileLocation(), b.u.sc, b.u.spec)
	if err != nil {
		return err
	}
	b.w = w
	return nil
}

// add adds r to the batch, writing the batch when it is full; after an
// error, abort.
func (b *batchWriter) add(r Row) error {
	if err := b.open(); err != nil {
		return err
	}
	b.batch = append(b.batch, r)
	if len(b.batch) < batchRows {
		return nil
	}
	err := b.w.write(b.batch)
	clear(b.batch) // let the rows written go
	b.batch = b.batch[:0]
	return err
}

// abort deletes the file, if created.
func (b *batchWriter) abort() {
	if b.w != nil {
		b.w.abort()
	}
}

// close writes the rows left and finishes the file, which the update
// then deletes if it aborts; nil without a row added.
func (b *batchWriter) close() (iceberg.DataFile, error) {
	if b.w == nil {
		return nil, nil
	}
	if len(b.batch) > 0 {
		if err := b.w.write(b.batch); err != nil {
			b.w.abort()
			return nil, err
		}
	}
	nf, err := b.w.close()
	if err != nil {
		return nil, err
	}
	b.u.written = append(b.u.written, nf.FilePath())
	return nf, nil
}

// Compacted says what Compact did.
type Compacted struct {
	Removed int // small data files rewritten
	Added   int // data files written in their place
}

// Compact returns the metadata of base (read from baseLocation) with the
// small data files of the main branch's head, those smaller than 3/4 of
// target bytes, rewritten into files of about target bytes, in one
// "replace" snapshot whose summary carries props. Small files are grouped
// in manifest order until a group reaches target bytes; a group of one
// file is left as it is. With nothing to rewrite it returns base as it
// was (a copy) and a zero Compacted: there is nothing to commit. No row
// changes.
func Compact(ctx context.Context, fsys iceio.WriteFileIO, base *Metadata, baseLocation string, target int64, props map[string]string) (_ *Metadata, done Compacted, err error) {
	if target <= 0 {
		return nil, done, fmt.Errorf("iceberg: compact %s: target size %d", base.Location, target)
	}
	u, err := newUpdate(ctx, fsys, base, baseLocation)
	if err != nil {
		return nil, done, fmt.Errorf("iceberg: compact %s: %w", base.Location, err)
	}
	if u.parent == nil {
		return u.m, done, nil
	}
	defer func() {
		if err != nil {
			u.abort()
			err = fmt.Errorf("iceberg: compact %s: %w", base.Location, err)
		}
	}()
	mes, err := liveEntries(ctx, fsys, u.parent)
	if err != nil {
		return nil, done, err
	}
	var groups [][]iceberg.DataFile
	var group []iceberg.DataFile
	var size int64
	for _, me := range mes {
		for _, e := range me.entries {
			df := e.DataFile()
			if df.FileSizeBytes() >= target*3/4 {
				continue
			}
			group = append(group, df)
			if size += df.FileSizeBytes(); size >= target {
				groups, group, size = append(groups, group), nil, 0
			}
		}
	}
	groups = append(groups, group)
	gone := map[string]bool{}
	var added []iceberg.DataFile
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		nf, err := u.concat(ctx, g)
		if err != nil {
			return nil, done, err
		}
		for _, df := range g {
			gone[df.FilePath()] = true
		}
		added = append(added, nf)
		done.Removed += len(g)
	}
	if len(added) == 0 {
		return u.m, Compacted{}, nil
	}
	done.Added = len(added)
	kept, err := u.removeFiles(mes, gone)
	if err != nil {
		return nil, done, err
	}
	mf, err := u.addedManifest(added)
	if err != nil {
		return nil, done, err
	}
	m, err := u.commit(ctx, "replace", append([]iceberg.ManifestFile{mf}, kept...), props, nil)
	return m, done, err
}

// concat writes the rows of files, in order, to one new data file (empty
// if they are), holding one row group of them and one batch to write at a
// time.
func (u *update) concat(ctx context.Context, files []iceberg.DataFile) (iceberg.DataFile, error) {
	w := u.newBatchWriter(ctx)
	if err := w.open(); err != nil {
		return nil, err
	}
	for _, df := range files {
		for rows, err := range RowGroups(ctx, u.fsys, u.sc, df) {
			if err == nil {
				for _, r := range rows {
					if err = w.add(r); err != nil {
						break
					}
				}
			}
			if err != nil {
				w.abort()
				return nil, err
			}
		}
	}
	return w.close()
}

// RewriteManifests returns the metadata of base (read from baseLocation)
// with a "replace" snapshot on the main branch whose one manifest lists
// the live data files of the head (as existing: their snapshot ids and
// sequence numbers kept), leaving behind the entries of files removed
// earlier; replaced is the number of manifests it replaces. The summary
// carries props and Iceberg's manifests-created, -kept, -replaced and
// entries-processed. A table without snapshots is an error.
func RewriteManifests(ctx context.Context, fsys iceio.WriteFileIO, base *Metadata, baseLocation string, props map[string]string) (_ *Metadata, replaced int, err error) {
	u, err := newUpdate(ctx, fsys, base, baseLocation)
	if err == nil && u.parent == nil {
		err = fmt.Errorf("no snapshot")
	}
	if err != nil {
		return nil, 0, fmt.Errorf("iceberg: rewrite the manifests of %s: %w", base.Location, err)
	}
	mes, err := liveEntries(ctx, fsys, u.parent)
	if err != nil {
		return nil, 0, err
	}
	var entries []iceberg.ManifestEntry
	for _, me := range mes {
		for _, e := range me.entries {
			snap, seq := e.SnapshotID(), e.SequenceNum()
			entries = append(entries, iceberg.NewManifestEntry(iceberg.EntryStatusEXISTING, &snap, &seq, e.FileSequenceNum(), e.DataFile()))
		}
	}
	var manifests []iceberg.ManifestFile
	if len(entries) > 0 {
		mf, err := writeManifest(u.fsys, u.manifestLocation(), u.spec, u.sc, u.id, entries)
		if err != nil {
			return nil, 0, err
		}
		manifests = append(manifests, mf)
	}
	extra := map[string]string{
		"manifests-created":  strconv.Itoa(len(manifests)),
		"manifests-kept":     "0",
		"manifests-replaced": strconv.Itoa(len(mes)),
		"entries-processed":  strconv.Itoa(len(entries)),
	}
	m, err := u.commit(ctx, "replace", manifests, props, extra)
	if err != nil {
		return nil, 0, err
	}
	return m, len(mes), nil
}

var _ RowFilter = (*BoundFilter)(nil)
