package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
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
type Row []any

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
	lake  *Lake
	name  string
	tbl   *table.Table
	cols  []Column
	arrow *arrow.Schema
}

func newTable(l *Lake, name string, tbl *table.Table) (*Table, error) {
	t := &Table{lake: l, name: name}
	if err := t.set(tbl); err != nil {
		return nil, err
	}
	return t, nil
}

// set makes tbl the table's state and derives its columns.
func (t *Table) set(tbl *table.Table) error {
	sc := tbl.Schema()
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
	as, err := table.SchemaToArrowSchema(sc, nil, true, false)
	if err != nil {
		return fmt.Errorf("lakehouse: table %s: arrow schema: %w", t.name, err)
	}
	t.tbl, t.cols, t.arrow = tbl, cols, as
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
func (t *Table) Location() string { return t.tbl.Location() }

// MetadataLocation returns the current metadata file, which engines without
// access to the catalog read (DuckDB's iceberg_scan).
func (t *Table) MetadataLocation() string { return t.tbl.MetadataLocation() }

// Refresh reloads the table from the catalog.
func (t *Table) Refresh(ctx context.Context) error {
	fresh, err := t.lake.Table(ctx, t.name)
	if err != nil {
		return err
	}
	*t = *fresh
	return nil
}

// Append adds rows in one commit (an "append" snapshot) whose summary holds
// props. Without rows it still commits an empty snapshot carrying props.
func (t *Table) Append(ctx context.Context, rows []Row, props map[string]string) error {
	return t.commit(ctx, "append", func(ctx context.Context, tx *table.Transaction) error {
		if len(rows) == 0 {
			return tx.AddFiles(ctx, nil, iceberg.Properties(props), false)
		}
		rdr, err := t.reader(rows)
		if err != nil {
			return err
		}
		defer rdr.Release()
		return tx.Append(ctx, rdr, iceberg.Properties(props))
	})
}

// Overwrite deletes the rows matching filter and adds rows, in one commit
// (an "overwrite" snapshot, copy-on-write: data files holding matching rows
// are rewritten without them). Its summary holds props.
func (t *Table) Overwrite(ctx context.Context, filter Filter, rows []Row, props map[string]string) error {
	return t.commit(ctx, "overwrite", func(ctx context.Context, tx *table.Transaction) error {
		rdr, err := t.reader(rows)
		if err != nil {
			return err
		}
		defer rdr.Release()
		return tx.Overwrite(ctx, rdr, iceberg.Properties(props), table.WithOverwriteFilter(filter.expr()))
	})
}

// Delete deletes the rows matching filter in one commit (a "delete"
// snapshot) whose summary holds props.
func (t *Table) Delete(ctx context.Context, filter Filter, props map[string]string) error {
	return t.commit(ctx, "delete", func(ctx context.Context, tx *table.Transaction) error {
		return tx.Delete(ctx, filter.expr(), iceberg.Properties(props))
	})
}

// ExpireSnapshots drops from the table's history the snapshots older than
// olderThan, keeping at least the last retainLast (and always the current
// one), and deletes the files no snapshot left needs. It makes no snapshot
// of its own. Time travel reaches back only as far as the history kept.
func (t *Table) ExpireSnapshots(ctx context.Context, olderThan time.Duration, retainLast int) error {
	return t.commit(ctx, "expire snapshots of", func(_ context.Context, tx *table.Transaction) error {
		return tx.ExpireSnapshots(table.WithOlderThan(olderThan), table.WithRetainLast(max(1, retainLast)))
	})
}

// commit runs op in a transaction that fails, with ErrConflict, if another
// writer committed since the table was loaded, and commits it.
func (t *Table) commit(ctx context.Context, what string, op func(ctx context.Context, tx *table.Transaction) error) error {
	tx := t.tbl.NewTransaction()
	if err := tx.AssertRefSnapshotID(table.MainBranch); err != nil {
		return fmt.Errorf("lakehouse: %s %s: %w", what, t.name, err)
	}
	if err := op(ctx, tx); err != nil {
		// An operation planned on files another writer has since removed
		// (an erasure's rewrite and expiry) fails reading them: that is a
		// conflict, which a reload resolves.
		if id, ierr := ident(t.name); ierr == nil {
			if cur, lerr := t.lake.cat.LoadTable(ctx, id); lerr == nil && cur.MetadataLocation() != t.tbl.MetadataLocation() {
				return fmt.Errorf("lakehouse: %s %s: %w: %w", what, t.name, ErrConflict, err)
			}
		}
		return fmt.Errorf("lakehouse: %s %s: %w", what, t.name, err)
	}
	tbl, err := tx.Commit(ctx)
	if err != nil {
		// The catalog reports a failed requirement and a lost race alike.
		if errors.Is(err, table.ErrCommitFailed) {
			return fmt.Errorf("lakehouse: commit %s to %s: %w: %w", what, t.name, ErrConflict, err)
		}
		return fmt.Errorf("lakehouse: commit %s to %s: %w", what, t.name, err)
	}
	// tbl holds the metadata the catalog parsed from the file it wrote,
	// not the transaction's: iceberg-go v0.7.0 gives the new snapshot a
	// SchemaID pointing into the transaction's metadata builder, whose
	// base is the table's previous metadata, whose last snapshot points
	// into the builder before... so that every metadata version a
	// long-running writer committed stayed reachable from the current one
	// (memory growing with the square of the commits, 240 MB after 400).
	return t.set(tbl)
}

// reader turns rows into an Arrow record reader of the table's schema.
func (t *Table) reader(rows []Row) (array.RecordReader, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, t.arrow)
	defer b.Release()
	for r, row := range rows {
		if len(row) != len(t.cols) {
			return nil, fmt.Errorf("row %d has %d values, the table %d columns", r, len(row), len(t.cols))
		}
		for i, c := range t.cols {
			if err := appendValue(b.Field(i), c, row[i]); err != nil {
				return nil, fmt.Errorf("row %d, column %s: %w", r, c.Name, err)
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return array.NewRecordReader(t.arrow, []arrow.RecordBatch{rec})
}

func appendValue(fb array.Builder, c Column, v any) error {
	if v == nil {
		if c.Required {
			return errors.New("null in a required column")
		}
		fb.AppendNull()
		return nil
	}
	bad := func() error { return fmt.Errorf("want a %s value, got %T", c.Type, v) }
	switch b := fb.(type) {
	case *array.Int64Builder:
		switch x := v.(type) {
		case int64:
			b.Append(x)
		case int:
			b.Append(int64(x))
		default:
			return bad()
		}
	case *array.Int32Builder:
		switch x := v.(type) {
		case int32:
			b.Append(x)
		case int:
			b.Append(int32(x))
		default:
			return bad()
		}
	case *array.Float64Builder:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.StringBuilder:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.TimestampBuilder:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		b.Append(arrow.Timestamp(x.UnixMicro()))
	case *array.BinaryBuilder:
		x, ok := v.([]byte)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Decimal128Builder:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		b.Append(decimal128.FromI64(x))
	default:
		return fmt.Errorf("arrow builder %T not handled", fb)
	}
	return nil
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
// no rows.
func (t *Table) Scan(ctx context.Context, opts ScanOptions) ([]Row, error) {
	if opts.SnapshotID == 0 && t.tbl.CurrentSnapshot() == nil {
		return nil, nil
	}
	if opts.SnapshotID != 0 && t.tbl.SnapshotByID(opts.SnapshotID) == nil {
		return nil, fmt.Errorf("lakehouse: table %s has no snapshot %d", t.name, opts.SnapshotID)
	}
	so := []table.ScanOption{table.WithSnapshotID(opts.SnapshotID), table.WithRowFilter(opts.Filter.expr())}
	if opts.Limit > 0 {
		so = append(so, table.WithLimit(opts.Limit))
	}
	sc, recs, err := t.tbl.Scan(so...).ToArrowRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("lakehouse: scan %s: %w", t.name, err)
	}
	idx := make([]int, len(t.cols))
	for i, c := range t.cols {
		idx[i] = -1
		if fs := sc.FieldIndices(c.Name); len(fs) > 0 {
			idx[i] = fs[0]
		}
	}
	var out []Row
	for rec, err := range recs {
		if err != nil {
			return nil, fmt.Errorf("lakehouse: scan %s: %w", t.name, err)
		}
		n := int(rec.NumRows())
		base := len(out)
		for range n {
			out = append(out, make(Row, len(t.cols)))
		}
		for i, c := range t.cols {
			if idx[i] < 0 {
				continue
			}
			if err := readColumn(rec.Column(idx[i]), out[base:], i); err != nil {
				rec.Release()
				return nil, fmt.Errorf("lakehouse: scan %s: column %s: %w", t.name, c.Name, err)
			}
		}
		rec.Release()
		if opts.Limit > 0 && int64(len(out)) >= opts.Limit {
			out = out[:opts.Limit]
			break
		}
	}
	return out, nil
}

// readColumn copies the values of col into rows[r][i].
func readColumn(col arrow.Array, rows []Row, i int) error {
	for r := range rows {
		if col.IsNull(r) {
			continue
		}
		switch a := col.(type) {
		case *array.Int64:
			rows[r][i] = a.Value(r)
		case *array.Int32:
			rows[r][i] = a.Value(r)
		case *array.Float64:
			rows[r][i] = a.Value(r)
		case *array.String:
			rows[r][i] = a.Value(r)
		case *array.LargeString:
			rows[r][i] = a.Value(r)
		case *array.StringView:
			rows[r][i] = a.Value(r)
		case *array.Boolean:
			rows[r][i] = a.Value(r)
		case *array.Timestamp:
			unit := a.DataType().(*arrow.TimestampType).Unit
			rows[r][i] = a.Value(r).ToTime(unit).UTC()
		case *array.Binary:
			rows[r][i] = slices.Clone(a.Value(r))
		case *array.LargeBinary:
			rows[r][i] = slices.Clone(a.Value(r))
		case *array.Decimal128:
			// decimal(12,2) fits an int64: 12 digits.
			rows[r][i] = int64(a.Value(r).LowBits())
		default:
			return fmt.Errorf("arrow type %s not handled", col.DataType())
		}
	}
	return nil
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

func snapshotOf(s *table.Snapshot) Snapshot {
	out := Snapshot{ID: s.SnapshotID, Time: time.UnixMilli(s.TimestampMs).UTC(), Summary: map[string]string{}}
	if s.ParentSnapshotID != nil {
		out.ParentID = *s.ParentSnapshotID
	}
	if s.Summary != nil {
		out.Operation = string(s.Summary.Operation)
		for k, v := range s.Summary.Properties {
			out.Summary[k] = v
		}
	}
	return out
}

// Current returns the current snapshot; ok is false for a table without
// any.
func (t *Table) Current() (s Snapshot, ok bool) {
	cur := t.tbl.CurrentSnapshot()
	if cur == nil {
		return Snapshot{}, false
	}
	return snapshotOf(cur), true
}

// History returns the snapshots of the current branch, oldest first: the
// table's history, each readable with ScanOptions.SnapshotID.
func (t *Table) History() []Snapshot {
	var out []Snapshot
	meta := t.tbl.Metadata()
	for s := t.tbl.CurrentSnapshot(); s != nil; {
		out = append(out, snapshotOf(s))
		if s.ParentSnapshotID == nil {
			break
		}
		s = meta.SnapshotByID(*s.ParentSnapshotID)
	}
	slices.Reverse(out)
	return out
}

// LastProperty returns the value of key in the summary of the most recent
// snapshot of the current branch that has it: snapshots written by other
// engines (a compaction, a schema change) are skipped. ok is false when no
// snapshot has it.
func (t *Table) LastProperty(key string) (value string, ok bool) {
	meta := t.tbl.Metadata()
	for s := t.tbl.CurrentSnapshot(); s != nil; {
		if s.Summary != nil {
			if v, found := s.Summary.Properties[key]; found {
				return v, true
			}
		}
		if s.ParentSnapshotID == nil {
			break
		}
		s = meta.SnapshotByID(*s.ParentSnapshotID)
	}
	return "", false
}
