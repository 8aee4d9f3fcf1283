// Package iceberg is podium's own layer of Apache Iceberg tables (format
// version 2, unpartitioned, no delete files): table metadata, Parquet data
// files with their column metrics, scans, and the table operations:
// append, copy-on-write overwrite and delete, snapshot expiry, tags,
// manifest rewrite, compaction, orphan files. It is built
// only on iceberg-go's root package (schemas, partition specs, manifests
// and manifest lists in Avro), iceberg-go's io and podium's Parquet codec
// (internal/parquet), not on iceberg-go's table package, whose imports
// (Arrow compute, Arrow Flight, gRPC, substrait, OpenTelemetry) make up a
// fifth of podium's binary, nor on arrow-go's Parquet packages, which
// import Arrow's compute kernels (a fifth of the cold build).
//
// Tables it writes are read by iceberg-go, PyIceberg, Spark and DuckDB, and
// it reads tables of the same shape that they write (see the tests).
package iceberg

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/google/uuid"
)

// FormatVersion is the Iceberg table format version this package writes
// and reads.
const FormatVersion = 2

// MainBranch is the name of the table's main branch ref.
const MainBranch = "main"

// Metadata is an Iceberg v2 table metadata file
// (https://iceberg.apache.org/spec/#table-metadata-fields). Fields this
// package does not know (and the v2 fields it carries without using, such
// as statistics) are kept as they were read, so that reading and writing a
// file loses nothing.
type Metadata struct {
	FormatVersion      int
	TableUUID          uuid.UUID
	Location           string
	LastSequenceNumber int64
	LastUpdatedMS      int64
	LastColumnID       int
	Schemas            []*iceberg.Schema
	CurrentSchemaID    int
	PartitionSpecs     []iceberg.PartitionSpec
	DefaultSpecID      int
	LastPartitionID    int
	Properties         map[string]string // nil: absent
	// CurrentSnapshotID is nil (absent) or -1 (as Java writes it) for a
	// table without snapshots.
	CurrentSnapshotID   *int64
	Snapshots           []Snapshot         // nil: absent
	SnapshotLog         []SnapshotLogEntry // nil: absent
	MetadataLog         []MetadataLogEntry // nil: absent
	SortOrders          []json.RawMessage
	DefaultSortOrderID  int
	Refs                map[string]Ref    // nil: absent
	Statistics          []json.RawMessage // nil: absent
	PartitionStatistics []json.RawMessage // nil: absent
	// Extra holds the fields this package does not know, as read.
	Extra map[string]json.RawMessage

	// schemasRead keeps each schema as read, written again as it was
	// while the schema is unchanged: iceberg-go's Schema JSON adds an
	// empty identifier-field-ids and drops what it does not know.
	schemasRead map[*iceberg.Schema]schemaRead
}

// schemaRead is a schema as read: its JSON and a copy to tell changes by.
type schemaRead struct {
	raw  json.RawMessage
	copy *iceberg.Schema
}

// Snapshot is one snapshot of the table.
type Snapshot struct {
	SnapshotID       int64
	ParentSnapshotID *int64
	SequenceNumber   int64
	TimestampMS      int64
	ManifestList     string
	// Summary holds "operation" (append, replace, overwrite, delete) and
	// the snapshot's figures and properties.
	Summary  map[string]string
	SchemaID *int
	Extra    map[string]json.RawMessage
}

// Operation returns the snapshot's operation (the summary's "operation").
func (s *Snapshot) Operation() string { return s.Summary["operation"] }

// SnapshotLogEntry is an entry of the snapshot log: when the current
// snapshot changed, and to which.
type SnapshotLogEntry struct {
	TimestampMS int64
	SnapshotID  int64
	Extra       map[string]json.RawMessage
}

// MetadataLogEntry is an entry of the metadata log: a previous metadata
// file and when it was written.
type MetadataLogEntry struct {
	TimestampMS  int64
	MetadataFile string
	Extra        map[string]json.RawMessage
}

// Ref is a named reference to a snapshot: a branch or a tag.
type Ref struct {
	SnapshotID         int64
	Type               string // "branch" or "tag"
	MinSnapshotsToKeep *int
	MaxSnapshotAgeMS   *int64
	MaxRefAgeMS        *int64
	Extra              map[string]json.RawMessage
}

// field is one JSON field of an object: its key, a pointer to the Go value
// and whether it may be absent (then a nil value is not written).
type field struct {
	key      string
	ptr      any
	optional bool
}

func (m *Metadata) fields() []field {
	return []field{
		{"format-version", &m.FormatVersion, false},
		{"table-uuid", &m.TableUUID, false},
		{"location", &m.Location, false},
		{"last-sequence-number", &m.LastSequenceNumber, false},
		{"last-updated-ms", &m.LastUpdatedMS, false},
		{"last-column-id", &m.LastColumnID, false},
		{"schemas", &m.Schemas, false},
		{"current-schema-id", &m.CurrentSchemaID, false},
		{"partition-specs", &m.PartitionSpecs, false},
		{"default-spec-id", &m.DefaultSpecID, false},
		{"last-partition-id", &m.LastPartitionID, false},
		{"properties", &m.Properties, true},
		{"current-snapshot-id", &m.CurrentSnapshotID, true},
		{"snapshots", &m.Snapshots, true},
		{"snapshot-log", &m.SnapshotLog, true},
		{"metadata-log", &m.MetadataLog, true},
		{"sort-orders", &m.SortOrders, false},
		{"default-sort-order-id", &m.DefaultSortOrderID, false},
		{"refs", &m.Refs, true},
		{"statistics", &m.Statistics, true},
		{"partition-statistics", &m.PartitionStatistics, true},
	}
}

func (s *Snapshot) fields() []field {
	return []field{
		{"snapshot-id", &s.SnapshotID, false},
		{"parent-snapshot-id", &s.ParentSnapshotID, true},
		{"sequence-number", &s.SequenceNumber, false},
		{"timestamp-ms", &s.TimestampMS, false},
		{"manifest-list", &s.ManifestList, false},
		{"summary", &s.Summary, false},
		{"schema-id", &s.SchemaID, true},
	}
}

func (e *SnapshotLogEntry) fields() []field {
	return []field{{"timestamp-ms", &e.TimestampMS, false}, {"snapshot-id", &e.SnapshotID, false}}
}

func (e *MetadataLogEntry) fields() []field {
	return []field{{"timestamp-ms", &e.TimestampMS, false}, {"metadata-file", &e.MetadataFile, false}}
}

func (r *Ref) fields() []field {
	return []field{
		{"snapshot-id", &r.SnapshotID, false},
		{"type", &r.Type, false},
		{"min-snapshots-to-keep", &r.MinSnapshotsToKeep, true},
		{"max-snapshot-age-ms", &r.MaxSnapshotAgeMS, true},
		{"max-ref-age-ms", &r.MaxRefAgeMS, true},
	}
}

// decodeObject reads the JSON object b into fields and returns the members
// it does not know.
func decodeObject(b []byte, what string, fields []field) (map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("%s: not an object", what)
	}
	for _, f := range fields {
		v, ok := raw[f.key]
		if !ok {
			if f.optional {
				continue
			}
			return nil, fmt.Errorf("%s: missing %q", what, f.key)
		}
		if err := json.Unmarshal(v, f.ptr); err != nil {
			return nil, fmt.Errorf("%s: %q: %w", what, f.key, err)
		}
		delete(raw, f.key)
	}
	if len(raw) == 0 {
		return nil, nil
	}
	return raw, nil
}

// encodeObject writes fields and extra as one JSON object; an optional
// field whose value is nil is left out.
func encodeObject(fields []field, extra map[string]json.RawMessage) ([]byte, error) {
	out := make(map[string]json.RawMessage, len(fields)+len(extra))
	maps.Copy(out, extra)
	for _, f := range fields {
		if f.optional {
			if v := reflect.ValueOf(f.ptr).Elem(); v.IsNil() {
				continue
			}
		}
		b, err := json.Marshal(f.ptr)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", f.key, err)
		}
		out[f.key] = b
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a v2 table metadata file.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	*m = Metadata{}
	extra, err := decodeObject(b, "table metadata", m.fields())
	if err != nil {
		return err
	}
	m.Extra = extra
	var raws struct {
		Schemas []json.RawMessage `json:"schemas"`
	}
	if err := json.Unmarshal(b, &raws); err != nil {
		return fmt.Errorf("table metadata: schemas: %w", err)
	}
	m.schemasRead = make(map[*iceberg.Schema]schemaRead, len(m.Schemas))
	for i, sc := range m.Schemas {
		cp := new(iceberg.Schema)
		if err := json.Unmarshal(raws.Schemas[i], cp); err != nil {
			return fmt.Errorf("table metadata: schemas: %w", err)
		}
		m.schemasRead[sc] = schemaRead{raw: raws.Schemas[i], copy: cp}
	}
	if m.FormatVersion != FormatVersion {
		return fmt.Errorf("table metadata: format version %d: %w", m.FormatVersion, ErrUnsupported)
	}
	return nil
}

// MarshalJSON writes the metadata file.
func (m Metadata) MarshalJSON() ([]byte, error) {
	schemas := make([]json.RawMessage, len(m.Schemas))
	for i, sc := range m.Schemas {
		if r, ok := m.schemasRead[sc]; ok && sc.ID == r.copy.ID && sc.Equals(r.copy) {
			schemas[i] = r.raw
			continue
		}
		b, err := json.Marshal(sc)
		if err != nil {
			return nil, fmt.Errorf("schema %d: %w", sc.ID, err)
		}
		schemas[i] = b
	}
	fs := m.fields()
	for i := range fs {
		if fs[i].key == "schemas" {
			fs[i].ptr = &schemas
		}
	}
	return encodeObject(fs, m.Extra)
}

// UnmarshalJSON reads a snapshot.
func (s *Snapshot) UnmarshalJSON(b []byte) (err error) {
	*s = Snapshot{}
	s.Extra, err = decodeObject(b, "snapshot", s.fields())
	return err
}

// MarshalJSON writes a snapshot.
func (s Snapshot) MarshalJSON() ([]byte, error) { return encodeObject(s.fields(), s.Extra) }

// UnmarshalJSON reads a snapshot log entry.
func (e *SnapshotLogEntry) UnmarshalJSON(b []byte) (err error) {
	*e = SnapshotLogEntry{}
	e.Extra, err = decodeObject(b, "snapshot log entry", e.fields())
	return err
}

// MarshalJSON writes a snapshot log entry.
func (e SnapshotLogEntry) MarshalJSON() ([]byte, error) { return encodeObject(e.fields(), e.Extra) }

// UnmarshalJSON reads a metadata log entry.
func (e *MetadataLogEntry) UnmarshalJSON(b []byte) (err error) {
	*e = MetadataLogEntry{}
	e.Extra, err = decodeObject(b, "metadata log entry", e.fields())
	return err
}

// MarshalJSON writes a metadata log entry.
func (e MetadataLogEntry) MarshalJSON() ([]byte, error) { return encodeObject(e.fields(), e.Extra) }

// UnmarshalJSON reads a snapshot ref.
func (r *Ref) UnmarshalJSON(b []byte) (err error) {
	*r = Ref{}
	r.Extra, err = decodeObject(b, "snapshot ref", r.fields())
	return err
}

// MarshalJSON writes a snapshot ref.
func (r Ref) MarshalJSON() ([]byte, error) { return encodeObject(r.fields(), r.Extra) }

// ErrUnsupported reports a table this package cannot handle: another
// format version, partitioning, delete files, a column type podium has no
// Go type for.
var ErrUnsupported = errors.New("iceberg: not supported")

// ParseMetadata reads a table metadata file.
func ParseMetadata(b []byte) (*Metadata, error) {
	m := new(Metadata)
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("iceberg: %w", err)
	}
	return m, nil
}

// unsortedOrder is the sort order of id 0, no fields.
var unsortedOrder = json.RawMessage(`{"order-id":0,"fields":[]}`)

// NewMetadata returns the metadata of a new, empty, unpartitioned table at
// location whose schema is sc (its field ids as given).
func NewMetadata(location string, sc *iceberg.Schema, props map[string]string) (*Metadata, error) {
	if _, err := columnsOf(sc); err != nil {
		return nil, err
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("iceberg: table uuid: %w", err)
	}
	if props == nil {
		props = map[string]string{}
	}
	return &Metadata{
		FormatVersion:      FormatVersion,
		TableUUID:          id,
		Location:           strings.TrimSuffix(location, "/"),
		LastUpdatedMS:      time.Now().UnixMilli(),
		LastColumnID:       sc.HighestFieldID(),
		Schemas:            []*iceberg.Schema{sc},
		CurrentSchemaID:    sc.ID,
		PartitionSpecs:     []iceberg.PartitionSpec{*iceberg.UnpartitionedSpec},
		DefaultSpecID:      iceberg.UnpartitionedSpec.ID(),
		LastPartitionID:    iceberg.PartitionDataIDStart - 1,
		Properties:         maps.Clone(props),
		SortOrders:         []json.RawMessage{unsortedOrder},
		DefaultSortOrderID: 0,
	}, nil
}

// Schema returns the schema of id; nil if there is none.
func (m *Metadata) Schema(id int) *iceberg.Schema {
	for _, s := range m.Schemas {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// CurrentSchema returns the table's current schema.
func (m *Metadata) CurrentSchema() *iceberg.Schema { return m.Schema(m.CurrentSchemaID) }

// SnapshotByID returns the snapshot of id; nil if there is none.
func (m *Metadata) SnapshotByID(id int64) *Snapshot {
	for i := range m.Snapshots {
		if m.Snapshots[i].SnapshotID == id {
			return &m.Snapshots[i]
		}
	}
	return nil
}

// CurrentSnapshot returns the current snapshot; nil for a table without
// any.
func (m *Metadata) CurrentSnapshot() *Snapshot {
	if m.CurrentSnapshotID == nil || *m.CurrentSnapshotID == -1 {
		return nil
	}
	return m.SnapshotByID(*m.CurrentSnapshotID)
}

// Clone returns a deep copy of m: changing the copy leaves m as it was.
func (m *Metadata) Clone() (*Metadata, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("iceberg: clone metadata: %w", err)
	}
	return ParseMetadata(b)
}
