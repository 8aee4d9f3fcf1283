// Package lakehouse keeps tables in Apache Iceberg format, through podium's
// own Iceberg layer (internal/iceberg, on iceberg-go's root package and io,
// not its table package), behind a small API of Go values.
//
// The catalog is podium's own (catalog.go) on the tables of Iceberg's
// JdbcCatalog, iceberg_tables and iceberg_namespace_properties, which
// iceberg-go's SQL catalog, PyIceberg's SqlCatalog and DuckDB read too, in
// podium's own store, SQLite or PostgreSQL; on PostgreSQL it lives in the
// schema of the connection's search_path, like podium's other tables. Data
// and metadata files go to a warehouse: a local directory (by default
// warehouse/ in the data dir) or an S3-compatible bucket (s3://bucket/prefix).
//
// A Table has columns of a few types (Column), takes rows as []any in
// column order, and every write is one Iceberg commit: one snapshot whose
// summary carries the caller's properties. Scans read the current snapshot
// or any earlier one (time travel). Any Iceberg engine (DuckDB, Spark,
// Trino, PyIceberg) reads the same tables through the catalog or the
// metadata files.
package lakehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
)

// CatalogName is the default name of podium's catalog: the catalog_name
// column of the catalog tables, which other engines must use too.
const CatalogName = "podium"

// Config says where the lake is.
type Config struct {
	// Warehouse is where data and metadata files go: a directory path, a
	// file:// URL, or s3://bucket/prefix for S3-compatible object storage.
	Warehouse string
	// S3Endpoint is the endpoint of an S3-compatible service (MinIO,
	// Ceph, …), e.g. http://minio:9000; empty for AWS S3. A custom
	// endpoint is addressed path-style (http://host/bucket/key).
	S3Endpoint string
	// S3Region is the region; empty takes AWS_REGION, else us-east-1.
	S3Region string
	// S3AccessKeyID and S3SecretAccessKey are static credentials; empty
	// takes AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN
	// from the environment (podium's S3 client, s3.go, reads no profiles
	// or instance roles).
	S3AccessKeyID     string
	S3SecretAccessKey string
	// CatalogName defaults to CatalogName.
	CatalogName string
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Dialect names the SQL database holding the catalog.
type Dialect string

// The catalog databases podium's store may be.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Lake is an open catalog and warehouse.
type Lake struct {
	cat       *sqlCatalog
	warehouse string
	log       *slog.Logger
}

// Open opens the lake whose catalog is in db (the store's handle, not
// closed by Close), creating the catalog tables if they are missing.
func Open(ctx context.Context, db *sql.DB, dialect Dialect, cfg Config) (*Lake, error) {
	wh, err := WarehouseURL(cfg.Warehouse)
	if err != nil {
		return nil, err
	}
	name := cfg.CatalogName
	if name == "" {
		name = CatalogName
	}
	props := iceberg.Properties{"warehouse": wh}
	if strings.HasPrefix(wh, "s3") {
		if cfg.S3Endpoint != "" {
			props[icebergio.S3EndpointURL] = cfg.S3Endpoint
			props[icebergio.S3ForceVirtualAddressing] = "false"
		}
		if cfg.S3Region != "" {
			props[icebergio.S3Region] = cfg.S3Region
		}
		if cfg.S3AccessKeyID != "" {
			props[icebergio.S3AccessKeyID] = cfg.S3AccessKeyID
			props[icebergio.S3SecretAccessKey] = cfg.S3SecretAccessKey
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cat, err := openCatalog(ctx, db, dialect, name, props, log)
	if err != nil {
		return nil, fmt.Errorf("lakehouse: open the catalog: %w", err)
	}
	return &Lake{cat: cat, warehouse: wh, log: log}, nil
}

// WarehouseURL turns a warehouse setting into the URL Iceberg stores: an
// s3:// or file:// URL as given (trailing slashes dropped), a path as an
// absolute file:// URL.
func WarehouseURL(w string) (string, error) {
	w = strings.TrimSpace(w)
	if w == "" {
		return "", errors.New("lakehouse: no warehouse: set lakehouse.warehouse to a directory or s3://bucket/prefix")
	}
	if scheme, rest, ok := strings.Cut(w, "://"); ok {
		switch scheme {
		case "s3", "s3a", "file":
		default:
			return "", fmt.Errorf("lakehouse: warehouse %q: unknown scheme %q: use a directory, file:///dir or s3://bucket/prefix", w, scheme)
		}
		if scheme != "file" && strings.Trim(rest, "/") == "" {
			return "", fmt.Errorf("lakehouse: warehouse %q has no bucket", w)
		}
		return strings.TrimRight(w, "/"), nil
	}
	abs, err := filepath.Abs(w)
	if err != nil {
		return "", fmt.Errorf("lakehouse: warehouse %q: %w", w, err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// Warehouse returns the warehouse URL.
func (l *Lake) Warehouse() string { return l.warehouse }

// Close releases the lake; the store's handle stays open. The catalog
// holds nothing else.
func (l *Lake) Close() error { return nil }

// ErrNoSuchTable is returned for a table that is not in the catalog.
var ErrNoSuchTable = errors.New("no such table")

// ErrSchema is returned for a table whose columns are not those wanted
// (EnsureTable): a column missing or of another type.
var ErrSchema = errors.New("table schema differs")

// ErrConflict is returned when another writer committed to a table since it
// was loaded: reload it (Table.Refresh) and try again.
var ErrConflict = errors.New("table changed by another writer")

// ident parses "namespace.table".
func ident(name string) ([]string, error) {
	parts := strings.Split(name, ".")
	if len(parts) < 2 || slices.Contains(parts, "") {
		return nil, fmt.Errorf("lakehouse: table name %q: want namespace.table", name)
	}
	return parts, nil
}

// EnsureTable returns the table name ("namespace.table"), creating it (and
// its namespace) with cols if it does not exist. An existing table keeps its
// schema; a column of cols it lacks is an error (podium does not evolve
// schemas behind the user's back).
func (l *Lake) EnsureTable(ctx context.Context, name string, cols []Column, props map[string]string) (*Table, error) {
	id, err := ident(name)
	if err != nil {
		return nil, err
	}
	t, err := l.Table(ctx, name)
	if err == nil {
		if err := t.checkColumns(cols); err != nil {
			return nil, err
		}
		return t, nil
	}
	if !errors.Is(err, ErrNoSuchTable) {
		return nil, err
	}
	ns, _ := split(id)
	if err := l.cat.ensureNamespace(ctx, ns); err != nil {
		return nil, fmt.Errorf("lakehouse: table %s: %w", name, err)
	}
	sc, err := icebergSchema(cols)
	if err != nil {
		return nil, fmt.Errorf("lakehouse: table %s: %w", name, err)
	}
	meta, metaLoc, err := l.cat.createTable(ctx, id, sc, props)
	if errors.Is(err, errTableExists) {
		return l.Table(ctx, name) // created meanwhile by another process
	}
	if err != nil {
		return nil, fmt.Errorf("lakehouse: create table %s: %w", name, err)
	}
	l.log.Info("lakehouse table created", "table", name, "location", meta.Location)
	return newTable(ctx, l, name, id, meta, metaLoc)
}

// Table loads an existing table.
func (l *Lake) Table(ctx context.Context, name string) (*Table, error) {
	id, err := ident(name)
	if err != nil {
		return nil, err
	}
	meta, metaLoc, err := l.cat.load(ctx, id)
	if errors.Is(err, ErrNoSuchTable) {
		return nil, fmt.Errorf("lakehouse: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("lakehouse: load table %s: %w", name, err)
	}
	return newTable(ctx, l, name, id, meta, metaLoc)
}

// Tables lists the tables of the catalog, "namespace.table", sorted.
func (l *Lake) Tables(ctx context.Context) ([]string, error) {
	out, err := l.cat.tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("lakehouse: list tables: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// DropTable removes a table from the catalog and deletes its files.
func (l *Lake) DropTable(ctx context.Context, name string) error {
	id, err := ident(name)
	if err != nil {
		return err
	}
	if err := l.cat.purgeTable(ctx, id); err != nil {
		if errors.Is(err, ErrNoSuchTable) {
			return fmt.Errorf("lakehouse: %w", err)
		}
		return fmt.Errorf("lakehouse: drop table %s: %w", name, err)
	}
	return nil
}
