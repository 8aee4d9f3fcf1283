package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"

	podice "github.com/podiumhq/podium/internal/iceberg"
)

// Type is the type of a column.
type Type int

// The column types and the Go type of their values.
const (
	Int64     Type = iota // int64 (int accepted)
	Int32                 // int32 (int accepted)
	Float64               // float64
	String                // string
	Bool                  // bool
	Timestamp             // time.Time: Iceberg timestamptz, microseconds, UTC
	Binary                // []byte
	// Decimal12x2 is an Iceberg decimal(12,2), money: int64 hundredths
	// (cents) in Go, so that nothing is rounded on the way.
	Decimal12x2
)

func (t Type) String() string {
	switch t {
	case Int64:
		return "long"
	case Int32:
		return "int"
	case Float64:
		return "double"
	case String:
		return "string"
	case Bool:
		return "boolean"
	case Timestamp:
		return "timestamptz"
	case Binary:
		return "binary"
	case Decimal12x2:
		return "decimal(12,2)"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

func (t Type) iceberg() (iceberg.Type, error) {
	switch t {
	case Int64:
		return iceberg.PrimitiveTypes.Int64, nil
	case Int32:
		return iceberg.PrimitiveTypes.Int32, nil
	case Float64:
		return iceberg.PrimitiveTypes.Float64, nil
	case String:
		return iceberg.PrimitiveTypes.String, nil
	case Bool:
		return iceberg.PrimitiveTypes.Bool, nil
	case Timestamp:
		return iceberg.PrimitiveTypes.TimestampTz, nil
	case Binary:
		return iceberg.PrimitiveTypes.Binary, nil
	case Decimal12x2:
		return iceberg.DecimalTypeOf(12, 2), nil
	}
	return nil, fmt.Errorf("unknown column type %d", int(t))
}

// Column is a column of a table.
type Column struct {
	Name string
	Type Type
	// Required columns never hold null (nil).
	Required bool
	// Doc describes the column in the Iceberg schema.
	Doc string
}

// Row is one row: a value per column, in column order; nil is null.
type Row = podice.Row

func icebergSchema(cols []Column) (*iceberg.Schema, error) {
	fields := make([]iceberg.NestedField, len(cols))
	for i, c := range cols {
		t, err := c.Type.iceberg()
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		fields[i] = iceberg.NestedField{ID: i + 1, Name: c.Name, Type: t, Required: c.Required, Doc: c.Doc}
	}
	return iceberg.NewSchema(0, fields...), nil
}

// Table is a table of the lake, as of its last load or commit. A Table is
// not safe for concurrent use.
type Table struct {
	lake    *Lake
	name    string
	id      []string
	meta    *podice.Metadata
	metaLoc string
	fsys    icebergio.WriteFileIO
	cols    []Column
}

func newTable(ctx context.Context, l *Lake, name string, id []string, meta *podice.Metadata, metaLoc string) (*Table, error) {
	t := &Table{lake: l, name: name, id: id}
	fsys, err := l.cat.fs(ctx, metaLoc)
	if err != nil {
		return nil, fmt.Errorf("lakehouse: table %s: %w", name, err)
	}
	t.fsys = fsys
	if err := t.set(meta, metaLoc); err != nil {
		return nil, err
	}
	return t, nil
}

// set makes meta, at metaLoc, the table's state and derives its columns.
func (t *Table) set(meta *podice.Metadata, metaLoc string) error {
	sc := meta.CurrentSchema()
	if sc == nil {
		return fmt.Errorf("lakehouse: table %s has no schema %d", t.name, meta.CurrentSchemaID)
	}
	cols := make([]Column, 0, len(sc.Fields()))
	for _, f := range sc.Fields() {
		var ct Type
		switch f.Type.(type) {
		case iceberg.Int64Type:
			ct = Int64
		case iceberg.Int32Type:
			ct = Int32
		case iceberg.Float64Type:
			ct = Float64
		case iceberg.StringType:
			ct = String
		case iceberg.BooleanType:
			ct = Bool
		case iceberg.TimestampTzType:
			ct = Timestamp
		case iceberg.BinaryType:
			ct = Binary
		case iceberg.DecimalType:
			if ft := f.Type.(iceberg.DecimalType); ft.Precision() != 12 || ft.Scale() != 2 {
				return fmt.Errorf("lakehouse: table %s: column %s has type %s, which podium does not handle", t.name, f.Name, f.Type)
			}
			ct = Decimal12x2
		default:
			return fmt.Errorf("lakehouse: table %s: column %s has type %s, which podium does not handle", t.name, f.Name, f.Type)
		}
		cols = append(cols, Column{Name: f.Name, Type: ct, Required: f.Required, Doc: f.Doc})
	}
	t.meta, t.metaLoc, t.cols = meta, metaLoc, cols
	return nil
}

// checkColumns reports a column of want the table lacks or has with
// another type.
func (t *Table) checkColumns(want []Column) error {
	for _, w := range want {
		i := slices.IndexFunc(t.cols, func(c Column) bool { return c.Name == w.Name })
		if i < 0 {
			return fmt.Errorf("lakehouse: table %s has no column %s: %w (drop the table to re-create it)", t.name, w.Name, ErrSchema)
		}
		if t.cols[i].Type != w.Type {
			return fmt.Errorf("lakehouse: table %s: column %s is %s, want %s: %w", t.name, w.Name, t.cols[i].Type, w.Type, ErrSchema)
		}
	}
	return nil
}

// Name returns "namespace.table".
func (t *Table) Name() string { return t.name }

// Columns returns the table's columns.
func (t *Table) Columns() []Column { return slices.Clone(t.cols) }

// Location returns the table's base location in the warehouse.
func (t *Table) Location() string { return t.meta.Location }

// MetadataLocation returns the current metadata file, which engines without
// access to the catalog read (DuckDB's iceberg_scan).
func (t *Table) MetadataLocation() string { return t.metaLoc }

// Refresh reloads the table from the catalog.
func (t *Table) Refresh(ctx context.Context) error {
	fresh, err := t.lake.Table(ctx, t.name)
	if err != nil {
		return err
	}
	*t = *fresh
	return nil
}

// bind binds filter to the table's schema.
func (t *Table) bind(filter Filter) (*podice.BoundFilter, error) {
	b, err := filter.Bind(t.meta.CurrentSchema())
	if err != nil {
		return nil, fmt.Errorf("lakehouse: table %s: filter %s: %w", t.name, filter, err)
	}
	return b, nil
}

// Append adds rows in one commit (an "append" snapshot) whose summary holds
// props. Without rows it still commits an empty snapshot carrying props.
func (t *Table) Append(ctx context.Context, rows []Row, props map[string]string) error {
	var files []iceberg.DataFile
	var written string
	if len(rows) > 0 {
		spec, err := t.meta.DefaultSpec()
		if err != nil {
			return fmt.Errorf("lakehouse: append to %s: %w", t.name, err)
		}
		df, err := podice.WriteDataFile(ctx, t.fsys, t.meta.DataFileLocation(), t.meta.CurrentSchema(), spec, rows)
		if err != nil {
			return fmt.Errorf("lakehouse: append to %s: %w", t.name, err)
		}
		files, written = []iceberg.DataFile{df}, df.FilePath()
	}
	err := t.commit(ctx, "append", true, func(ctx context.Context, base *podice.Metadata, baseLoc string) (*podice.Metadata, error) {
		return podice.Append(ctx, t.fsys, base, baseLoc, files, props)
	})
	if errors.Is(err, ErrConflict) && written != "" {
		_ = t.fsys.Remove(written) // committed by no one
	}
	return err
}

// Overwrite deletes the rows matching filter and adds rows, in one commit
// (an "overwrite" snapshot, copy-on-write: data files holding matching rows
// are rewritten without them). Its summary holds props.
func (t *Table) Overwrite(ctx context.Context, filter Filter, rows []Row, props map[string]string) error {
	bound, err := t.bind(filter)
	if err != nil {
		return err
	}
	return t.commit(ctx, "overwrite", true, func(ctx context.Context, base *podice.Metadata, baseLoc string) (*podice.Metadata, error) {
		return podice.Overwrite(ctx, t.fsys, base, baseLoc, bound, rows, props)
	})
}

// Delete deletes the rows matching filter in one commit (a "delete"
// snapshot) whose summary holds props.
func (t *Table) Delete(ctx context.Context, filter Filter, props map[string]string) error {
	bound, err := t.bind(filter)
	if err != nil {
		return err
	}
	return t.commit(ctx, "delete", true, func(ctx context.Context, base *podice.Metadata, baseLoc string) (*podice.Metadata, error) {
		return podice.Delete(ctx, t.fsys, base, baseLoc, bound, props)
	})
}

// ExpireSnapshots drops from the table's history the snapshots older than
// olderThan, keeping at least the last retainLast (and always the current
// one, and those tags keep), and deletes the files no snapshot left needs.
// It makes no snapshot of its own. Time travel reaches back only as far as
// the history kept.
func (t *Table) ExpireSnapshots(ctx context.Context, olderThan time.Duration, retainLast int) error {
	_, err := t.expire(ctx, time.Now().Add(-olderThan), retainLast)
	return err
}

// expire expires the snapshots older than cutoff beyond the last
// retainLast, commits (unless none is), then deletes the files only they
// needed; it returns the ids of the snapshots expired.
func (t *Table) expire(ctx context.Context, cutoff time.Time, retainLast int) ([]int64, error) {
	var ex podice.Expired
	err := t.commit(ctx, "expire snapshots of", true, func(ctx context.Context, base *podice.Metadata, baseLoc string) (*podice.Metadata, error) {
		m, e, err := podice.ExpireSnapshots(ctx, t.fsys, base, baseLoc, cutoff, max(1, retainLast))
		if err != nil || len(e.Snapshots) == 0 {
			return nil, err // nothing to commit
		}
		ex = e
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	if err := podice.RemoveFiles(ctx, t.fsys, ex.Files); err != nil {
		t.lake.log.Warn("lakehouse: snapshots expired, but not all their files were deleted", "table", t.name, "error", err)
	}
	return ex.Snapshots, nil
}

// commit runs op on the table's metadata as of now in the catalog and
// commits the result (nil: nothing to commit), as a compare-and-swap of
// the metadata location. With mainFixed, it fails with ErrConflict if
// another writer moved the main branch since the table was loaded; a
// commit of another writer that left it (a tag, an expiry) is built on.
// Losing the race to another commit is ErrConflict too, and so is an op
// failing (reading files another writer has since removed) while the
// table's metadata moved.
func (t *Table) commit(ctx context.Context, what string, mainFixed bool, op func(ctx context.Context, base *podice.Metadata, baseLoc string) (*podice.Metadata, error)) error {
	base, baseLoc := t.meta, t.metaLoc
	cur, err := t.lake.cat.location(ctx, t.id)
	if err != nil {
		return fmt.Errorf("lakehouse: %s %s: %w", what, t.name, err)
	}
	if cur != baseLoc {
		if base, err = t.lake.cat.read(ctx, cur); err != nil {
			return fmt.Errorf("lakehouse: %s %s: %w", what, t.name, err)
		}
		baseLoc = cur
		if mainFixed && mainHead(base) != mainHead(t.meta) {
			return fmt.Errorf("lakehouse: %s %s: %w: the main branch is at snapshot %d, not %d", what, t.name, ErrConflict, mainHead(base), mainHead(t.meta))
		}
	}
	next, err := op(ctx, base, baseLoc)
	if err != nil {
		// An operation planned on files another writer has since removed
		// (an erasure's rewrite and expiry) fails reading them: that is a
		// conflict, which a reload resolves.
		if now, lerr := t.lake.cat.location(ctx, t.id); lerr == nil && now != t.metaLoc {
			return fmt.Errorf("lakehouse: %s %s: %w: %w", what, t.name, ErrConflict, err)
		}
		return fmt.Errorf("lakehouse: %s %s: %w", what, t.name, err)
	}
	if next == nil {
		if baseLoc != t.metaLoc {
			return t.set(base, baseLoc)
		}
		return nil
	}
	newLoc, err := t.lake.cat.commit(ctx, t.id, baseLoc, next)
	if err != nil {
		if errors.Is(err, errCommitFailed) {
			return fmt.Errorf("lakehouse: commit %s to %s: %w: %w", what, t.name, ErrConflict, err)
		}
		return fmt.Errorf("lakehouse: commit %s to %s: %w", what, t.name, err)
	}
	return t.set(next, newLoc)
}

// mainHead returns the snapshot id of the head of the main branch; 0 for
// none.
func mainHead(m *podice.Metadata) int64 {
	if r, ok := m.Refs[podice.MainBranch]; ok {
		return r.SnapshotID
	}
	if s := m.CurrentSnapshot(); s != nil {
		return s.SnapshotID
	}
	return 0
}

// ScanOptions select what Scan reads.
type ScanOptions struct {
	// SnapshotID reads the table as of that snapshot (time travel); 0 reads
	// the current one.
	SnapshotID int64
	// Filter keeps the matching rows; the zero Filter keeps all.
	Filter Filter
	// Limit caps the rows read; 0 reads all.
	Limit int64
}

// Scan reads rows, values in column order (of the snapshot's schema, which
// is the table's: podium does not evolve schemas). An empty table reads as
// no rows. Data files whose column bounds rule out the filter are not
// read.
func (t *Table) Scan(ctx context.Context, opts ScanOptions) ([]Row, error) {
	if opts.SnapshotID != 0 && t.meta.SnapshotByID(opts.SnapshotID) == nil {
		return nil, fmt.Errorf("lakehouse: table %s has no snapshot %d", t.name, opts.SnapshotID)
	}
	filter, err := t.bind(opts.Filter)
	if err != nil {
		return nil, err
	}
	rows, err := podice.ScanRows(ctx, t.fsys, t.meta, opts.SnapshotID, filter, int(opts.Limit))
	if err != nil {
		return nil, fmt.Errorf("lakehouse: scan %s: %w", t.name, err)
	}
	return rows, nil
}

// Snapshot is one version of a table.
type Snapshot struct {
	ID       int64
	ParentID int64 // 0 for the first
	Time     time.Time
	// Operation is append, overwrite, delete or replace.
	Operation string
	// Summary holds the snapshot's summary: Iceberg's figures
	// (added-records, total-records, …) and the writer's properties.
	Summary map[string]string
}

func snapshotOf(s *podice.Snapshot) Snapshot {
	out := Snapshot{ID: s.SnapshotID, Time: time.UnixMilli(s.TimestampMS).UTC(), Operation: s.Operation(), Summary: map[string]string{}}
	if s.ParentSnapshotID != nil {
		out.ParentID = *s.ParentSnapshotID
	}
	for k, v := range s.Summary {
		if k != podice.SummaryOperation {
			out.Summary[k] = v
		}
	}
	return out
}

// Current returns the current snapshot; ok is false for a table without
// any.
func (t *Table) Current() (s Snapshot, ok bool) {
	cur := t.meta.CurrentSnapshot()
	if cur == nil {
		return Snapshot{}, false
	}
	return snapshotOf(cur), true
}

// History returns the snapshots of the current branch, oldest first: the
// table's history, each readable with ScanOptions.SnapshotID.
func (t *Table) History() []Snapshot {
	var out []Snapshot
	for s := t.meta.CurrentSnapshot(); s != nil; {
		out = append(out, snapshotOf(s))
		if s.ParentSnapshotID == nil {
			break
		}
		s = t.meta.SnapshotByID(*s.ParentSnapshotID)
	}
	slices.Reverse(out)
	return out
}

// LastProperty returns the value of key in the summary of the most recent
// snapshot of the current branch that has it: snapshots written by other
// engines (a compaction, a schema change) are skipped. ok is false when no
// snapshot has it.
func (t *Table) LastProperty(key string) (value string, ok bool) {
	for s := t.meta.CurrentSnapshot(); s != nil; {
		if v, found := s.Summary[key]; found && key != podice.SummaryOperation {
			return v, true
		}
		if s.ParentSnapshotID == nil {
			break
		}
		s = t.meta.SnapshotByID(*s.ParentSnapshotID)
	}
	return "", false
}
