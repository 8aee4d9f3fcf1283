package cdc

import (
	"encoding/json"
)

// connectType returns the Kafka Connect schema type and logical name with
// which Debezium's PostgreSQL connector writes the values of a column of
// type oid (its defaults: adaptive time precision, precise decimals as
// strings here).
func pgConnectType(oid uint32) (typ, name string) {
	switch oid {
	case 21: // int2
		return "int16", ""
	case 23: // int4
		return "int32", ""
	case 20, 26: // int8, oid
		return "int64", ""
	case 700: // float4
		return "float", ""
	case 701: // float8
		return "double", ""
	case 16: // bool
		return "boolean", ""
	case 1184: // timestamptz
		return "string", "io.debezium.time.ZonedTimestamp"
	case 1114: // timestamp
		return "int64", "io.debezium.time.MicroTimestamp"
	case 1082: // date
		return "int32", "io.debezium.time.Date"
	}
	return "string", ""
}

// sqliteConnectType is connectType for a SQLite column of kind k.
func sqliteConnectType(k kind) (typ, name string) {
	switch k {
	case kindInt:
		return "int64", ""
	case kindFloat:
		return "double", ""
	case kindBool:
		return "boolean", ""
	case kindTimestampTZ:
		return "string", "io.debezium.time.ZonedTimestamp"
	case kindTimestamp:
		return "int64", "io.debezium.time.MicroTimestamp"
	case kindDate:
		return "int32", "io.debezium.time.Date"
	}
	return "string", ""
}

// schemaField is a Kafka Connect schema in the JSON converter's form.
type schemaField struct {
	Type       string            `json:"type"`
	Fields     []schemaField     `json:"fields,omitempty"`
	Optional   bool              `json:"optional"`
	Name       string            `json:"name,omitempty"`
	Version    int               `json:"version,omitempty"`
	Parameters map[string]string `json:"parameters,omitempty"`
	Field      string            `json:"field,omitempty"`
}

// schemas holds the schema parts of a table's events and keys, as the
// JSON converter writes them with schemas.enable=true.
type schemas struct {
	value, key []byte
}

// newSchemas returns the schema parts of the events of a table, or nil
// when cfg does not ask for them.
func (c Config) newSchemas(schema, table string, cols []column) *schemas {
	if !c.Schema {
		return nil
	}
	prefix := c.ServerName + "." + schema + "." + table
	var row, key []schemaField
	for _, col := range cols {
		f := schemaField{Type: col.ctype, Optional: !col.notNull, Name: col.cname, Field: col.name}
		if f.Name != "" {
			f.Version = 1
		}
		row = append(row, f)
		if col.key {
			key = append(key, f)
		}
	}
	str := func(name string, optional bool) schemaField {
		return schemaField{Type: "string", Optional: optional, Field: name}
	}
	i64 := func(name string, optional bool) schemaField {
		return schemaField{Type: "int64", Optional: optional, Field: name}
	}
	source := schemaField{Type: "struct", Fields: []schemaField{
		str("version", false), str("connector", false), str("name", false), i64("ts_ms", false),
		{Type: "string", Optional: true, Name: "io.debezium.data.Enum", Version: 1,
			Parameters: map[string]string{"allowed": "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},
			Field:      "snapshot"},
		str("db", false), str("sequence", true), i64("ts_us", true), i64("ts_ns", true),
		str("schema", false), str("table", false), i64("txId", true), i64("lsn", true), i64("xmin", true),
	}, Name: "io.debezium.connector.postgresql.Source", Field: "source"}
	envelope := schemaField{Type: "struct", Fields: []schemaField{
		{Type: "struct", Fields: row, Optional: true, Name: prefix + ".Value", Field: "before"},
		{Type: "struct", Fields: row, Optional: true, Name: prefix + ".Value", Field: "after"},
		source,
		{Type: "struct", Fields: []schemaField{str("id", false), i64("total_order", false), i64("data_collection_order", false)},
			Optional: true, Name: "event.block", Version: 1, Field: "transaction"},
		str("op", false), i64("ts_ms", true), i64("ts_us", true), i64("ts_ns", true),
	}, Name: prefix + ".Envelope", Version: 2}
	// Marshalling these plain structs cannot fail.
	v, _ := json.Marshal(envelope)
	k, _ := json.Marshal(schemaField{Type: "struct", Fields: key, Name: prefix + ".Key"})
	return &schemas{value: v, key: k}
}

// wrap returns payload in the JSON converter's {"schema":…,"payload":…}.
func wrap(schema, payload []byte) []byte {
	b := make([]byte, 0, len(schema)+len(payload)+24)
	b = append(b, `{"schema":`...)
	b = append(b, schema...)
	b = append(b, `,"payload":`...)
	b = append(b, payload...)
	return append(b, '}')
}
