package lakehouse

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"

	icebergio "github.com/apache/iceberg-go/io"
	"github.com/google/uuid"
	"github.com/klauspost/compress/zstd"
	"github.com/podiumhq/podium/internal/store"

	podice "github.com/podiumhq/podium/internal/iceberg"
)

// sqlCatalog is podium's Iceberg catalog: the tables of Iceberg's
// JdbcCatalog (iceberg_tables and iceberg_namespace_properties), which
// iceberg-go's SQL catalog, PyIceberg's SqlCatalog and DuckDB use too, in
// the store's database, with the same statements on SQLite and PostgreSQL
// ($N parameters, which both take). It does what podium needs of a
// catalog and no more: namespaces made on demand, tables created, loaded,
// listed and purged, and commits as an atomic compare-and-swap of the
// metadata location. Table metadata is internal/iceberg's.
//
// Its rows and files are those of iceberg-go v0.7.0's catalog/sql (the
// reference): a table's location is <warehouse>/<namespace>.db/<table>
// (or <namespace location>/<table>), its metadata files
// <location>/metadata/<5-digit version>-<uuid>.metadata.json, and a
// namespace exists when a table or a property row names it (one made
// without properties gets the property exists=true).
type sqlCatalog struct {
	db    *sql.DB
	name  string             // the catalog_name column
	props iceberg.Properties // the warehouse and S3 settings, for file IO
	// v0 is set for a legacy catalog whose iceberg_tables has no
	// iceberg_type column (JdbcCatalog's schema V0): it is not migrated
	// (no engine is asked to), and no query names the column.
	v0  bool
	log *slog.Logger
}

// The catalog tables, as iceberg-go creates them (bun's DDL, the same on
// SQLite and PostgreSQL).
var catalogDDL = []string{
	`CREATE TABLE IF NOT EXISTS iceberg_tables (catalog_name VARCHAR NOT NULL, table_namespace VARCHAR NOT NULL,
		table_name VARCHAR NOT NULL, iceberg_type VARCHAR, metadata_location VARCHAR, previous_metadata_location VARCHAR,
		PRIMARY KEY (catalog_name, table_namespace, table_name))`,
	`CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (catalog_name VARCHAR NOT NULL, namespace VARCHAR NOT NULL,
		property_key VARCHAR NOT NULL, property_value VARCHAR,
		PRIMARY KEY (catalog_name, namespace, property_key))`,
}

// openCatalog creates the catalog tables if they are missing and finds
// out whether iceberg_tables has the iceberg_type column.
func openCatalog(ctx context.Context, db *sql.DB, dialect Dialect, name string, props iceberg.Properties, log *slog.Logger) (*sqlCatalog, error) {
	var probe string
	switch dialect {
	case SQLite:
		probe = `SELECT 1 FROM pragma_table_info('iceberg_tables') WHERE name = 'iceberg_type'`
	case Postgres:
		probe = `SELECT 1 FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'iceberg_tables' AND column_name = 'iceberg_type'`
	default:
		return nil, fmt.Errorf("catalog database %q: want sqlite or postgres", dialect)
	}
	if err := createCatalogTables(ctx, db, dialect); err != nil {
		return nil, fmt.Errorf("create the catalog tables: %w", err)
	}
	var one int
	err := db.QueryRowContext(ctx, probe).Scan(&one)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read the columns of iceberg_tables: %w", err)
	}
	c := &sqlCatalog{db: db, name: name, props: props, v0: err != nil, log: log}
	if c.v0 {
		log.Warn("lakehouse: iceberg_tables is of the legacy JdbcCatalog schema V0 (no iceberg_type column); podium uses it as it is")
	}
	return c, nil
}

// createCatalogTables runs catalogDDL in one transaction, on PostgreSQL
// under an advisory lock: workers opening the lake at once would
// otherwise race on CREATE TABLE IF NOT EXISTS.
func createCatalogTables(ctx context.Context, db *sql.DB, dialect Dialect) error {
	create := func(tx *sql.Tx) error {
		for _, q := range catalogDDL {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}
	if dialect == Postgres {
		return store.Alone(ctx, db, "podium-lakehouse:catalog", create)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := create(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// tableRows restricts a query of iceberg_tables to tables (not views).
func (c *sqlCatalog) tableRows() string {
	if c.v0 {
		return ""
	}
	return ` AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)`
}

// split returns the namespace key (the namespace's parts joined with
// dots, as every JdbcCatalog stores it: podium's names have no dots in a
// part) and the table's name.
func split(id []string) (ns, name string) {
	return strings.Join(id[:len(id)-1], "."), id[len(id)-1]
}

// ensureNamespace creates the namespace unless it exists.
func (c *sqlCatalog) ensureNamespace(ctx context.Context, ns string) error {
	var one int
	err := c.db.QueryRowContext(ctx, `SELECT 1 FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2
		UNION ALL SELECT 1 FROM iceberg_namespace_properties WHERE catalog_name = $1 AND namespace = $2 LIMIT 1`,
		c.name, ns).Scan(&one)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("look up namespace %s: %w", ns, err)
	}
	if _, err := c.db.ExecContext(ctx, `INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value)
		VALUES ($1, $2, 'exists', 'true') ON CONFLICT DO NOTHING`, c.name, ns); err != nil {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return nil
}

// errTableExists is returned by createTable for a name taken.
var errTableExists = errors.New("table already exists")

// createTable creates a table of schema sc, unpartitioned and unsorted, in
// an existing namespace: its first metadata file, then its row.
func (c *sqlCatalog) createTable(ctx context.Context, id []string, sc *iceberg.Schema, props map[string]string) (*podice.Metadata, string, error) {
	ns, name := split(id)
	base, err := c.tableBase(ctx, ns)
	if err != nil {
		return nil, "", err
	}
	loc, err := url.JoinPath(base, name)
	if err != nil {
		return nil, "", fmt.Errorf("table location: %w", err)
	}
	meta, err := podice.NewMetadata(loc, sc, props)
	if err != nil {
		return nil, "", fmt.Errorf("table metadata: %w", err)
	}
	metaLoc, err := metadataLocation(meta, 0)
	if err != nil {
		return nil, "", err
	}
	if err := c.writeMetadata(ctx, meta, metaLoc); err != nil {
		return nil, "", err
	}
	cols, vals := "catalog_name, table_namespace, table_name, metadata_location", "$1, $2, $3, $4"
	if !c.v0 {
		cols, vals = cols+", iceberg_type", vals+", 'TABLE'"
	}
	res, err := c.db.ExecContext(ctx, `INSERT INTO iceberg_tables (`+cols+`) VALUES (`+vals+`) ON CONFLICT DO NOTHING`,
		c.name, ns, name, metaLoc)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = errTableExists
		}
	}
	if err != nil {
		c.removeFile(ctx, metaLoc)
		if errors.Is(err, errTableExists) {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("add the table to the catalog: %w", err)
	}
	return meta, metaLoc, nil
}

// tableBase returns where the namespace's tables go: the namespace's
// location property, else <warehouse>/<namespace>.db.
func (c *sqlCatalog) tableBase(ctx context.Context, ns string) (string, error) {
	var loc sql.NullString
	err := c.db.QueryRowContext(ctx, `SELECT property_value FROM iceberg_namespace_properties
		WHERE catalog_name = $1 AND namespace = $2 AND property_key = 'location'`, c.name, ns).Scan(&loc)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read the location of namespace %s: %w", ns, err)
	}
	if loc.String != "" {
		return loc.String, nil
	}
	base, err := url.JoinPath(c.props["warehouse"], ns+".db")
	if err != nil {
		return "", fmt.Errorf("location of namespace %s: %w", ns, err)
	}
	return base, nil
}

// fs returns the file IO of the warehouse holding loc.
func (c *sqlCatalog) fs(ctx context.Context, loc string) (icebergio.WriteFileIO, error) {
	fsys, err := icebergio.LoadFSFunc(c.props, loc)(ctx)
	if err != nil {
		return nil, fmt.Errorf("open the warehouse: %w", err)
	}
	wfs, ok := fsys.(icebergio.WriteFileIO)
	if !ok {
		return nil, fmt.Errorf("the warehouse's file IO (%T) cannot write", fsys)
	}
	return wfs, nil
}

// location returns the current metadata location of a table; it fails
// with ErrNoSuchTable for a table the catalog does not have.
func (c *sqlCatalog) location(ctx context.Context, id []string) (string, error) {
	ns, name := split(id)
	var loc sql.NullString
	err := c.db.QueryRowContext(ctx, `SELECT metadata_location FROM iceberg_tables
		WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3`+c.tableRows(), c.name, ns, name).Scan(&loc)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !loc.Valid {
		return "", fmt.Errorf("%s: %w", strings.Join(id, "."), ErrNoSuchTable)
	}
	if err != nil {
		return "", fmt.Errorf("look up table %s: %w", strings.Join(id, "."), err)
	}
	return loc.String, nil
}

// load reads the current metadata of a table, and returns it with its
// location.
func (c *sqlCatalog) load(ctx context.Context, id []string) (*podice.Metadata, string, error) {
	loc, err := c.location(ctx, id)
	if err != nil {
		return nil, "", err
	}
	meta, err := c.read(ctx, loc)
	if err != nil {
		return nil, "", err
	}
	return meta, loc, nil
}

// read reads the metadata file at loc.
func (c *sqlCatalog) read(ctx context.Context, loc string) (*podice.Metadata, error) {
	fsys, err := c.fs(ctx, loc)
	if err != nil {
		return nil, err
	}
	meta, err := podice.ReadMetadataFile(fsys, loc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", loc, err)
	}
	return meta, nil
}

// errCommitFailed is returned by commit when the table's metadata is no
// longer the one the commit was made from.
var errCommitFailed = errors.New("commit failed")

// commit writes meta, made from the table's metadata at baseLoc, to a new
// metadata file (the next version) and makes it current if the table's
// metadata is still baseLoc: a compare-and-swap of metadata_location. A
// lost race is an error wrapping errCommitFailed, and leaves no file
// behind. It returns the new metadata location.
func (c *sqlCatalog) commit(ctx context.Context, id []string, baseLoc string, meta *podice.Metadata) (string, error) {
	version := metadataVersion(baseLoc)
	if version < 0 {
		return "", fmt.Errorf("metadata location %s: not <version>-<uuid>.metadata.json or v<version>.metadata.json", baseLoc)
	}
	newLoc, err := metadataLocation(meta, version+1)
	if err != nil {
		return "", err
	}
	if err := c.writeMetadata(ctx, meta, newLoc); err != nil {
		return "", err
	}
	ns, name := split(id)
	set := "metadata_location = $1, previous_metadata_location = $2"
	if !c.v0 {
		set += ", iceberg_type = 'TABLE'" // as iceberg-go: heals a NULL type
	}
	res, err := c.db.ExecContext(ctx, `UPDATE iceberg_tables SET `+set+`
		WHERE catalog_name = $3 AND table_namespace = $4 AND table_name = $5 AND metadata_location = $2`+c.tableRows(),
		newLoc, baseLoc, c.name, ns, name)
	if err != nil {
		// Whether the update happened is unknown: the file stays.
		return "", fmt.Errorf("commit %s to the catalog: %w", newLoc, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", fmt.Errorf("commit %s to the catalog: %w", newLoc, err)
	} else if n == 0 {
		c.removeFile(ctx, newLoc)
		return "", fmt.Errorf("%w: table %s: its metadata is no longer %s", errCommitFailed, strings.Join(id, "."), baseLoc)
	}
	return newLoc, nil
}

// tables lists the catalog's tables, "namespace.table".
func (c *sqlCatalog) tables(ctx context.Context) ([]string, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = $1`+c.tableRows(), c.name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ns, name string
		if err := rows.Scan(&ns, &name); err != nil {
			return nil, err
		}
		out = append(out, ns+"."+name)
	}
	return out, rows.Err()
}

// purgeTable removes a table from the catalog, then deletes its files
// (iceberg.PurgeFiles: those its metadata refers to and, unless gc.enabled
// is false, every file under its location). A failure to delete files is
// logged: the table is gone from the catalog.
func (c *sqlCatalog) purgeTable(ctx context.Context, id []string) error {
	meta, loc, err := c.load(ctx, id)
	if err != nil {
		return err
	}
	ns, name := split(id)
	res, err := c.db.ExecContext(ctx, `DELETE FROM iceberg_tables
		WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3`+c.tableRows(), c.name, ns, name)
	if err != nil {
		return fmt.Errorf("remove the table from the catalog: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("remove the table from the catalog: %w", err)
	} else if n == 0 {
		return fmt.Errorf("%s: %w", strings.Join(id, "."), ErrNoSuchTable)
	}
	fsys, err := c.fs(ctx, loc)
	if err == nil {
		err = podice.PurgeFiles(ctx, fsys, meta, loc)
	}
	if err != nil {
		c.log.Warn("lakehouse: table dropped, but not all its files were deleted", "table", strings.Join(id, "."), "error", err)
	}
	return nil
}

// The table properties of metadata files: where they go and how they are
// compressed (iceberg-go's and Java's names).
const (
	metadataPathKey        = "write.metadata.path"
	metadataCompressionKey = "write.metadata.compression-codec"
)

// metadataLocation names the metadata file of version v of a table:
// <location>/metadata/<5-digit v>-<uuid>[.gz|.zstd].metadata.json (or
// where write.metadata.path says), as iceberg-go names it.
func metadataLocation(meta *podice.Metadata, v int) (string, error) {
	var ext string
	switch codec := meta.Properties[metadataCompressionKey]; codec {
	case "", "none":
	case "gzip":
		ext = ".gz"
	case "zstd":
		ext = ".zstd"
	default:
		return "", fmt.Errorf("table property %s: unknown codec %q", metadataCompressionKey, codec)
	}
	dir := meta.Location + "/metadata"
	if p := meta.Properties[metadataPathKey]; p != "" {
		dir = strings.TrimRight(p, "/")
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("metadata location: %w", err)
	}
	return fmt.Sprintf("%s/%05d-%s%s.metadata.json", dir, v, id, ext), nil
}

// The names of metadata files: <version>-<uuid>[.codec].metadata.json,
// or the older v<version>[.gz].metadata.json.
var (
	metadataFileName       = regexp.MustCompile(`^(\d+)-[\w-]{36}(?:\.\w+)?\.metadata\.json$`)
	legacyMetadataFileName = regexp.MustCompile(`^v(\d+)(?:\.gz)?\.metadata\.json$`)
)

// metadataVersion returns the version in the name of a metadata file, -1
// for a name of neither form.
func metadataVersion(loc string) int {
	name := path.Base(loc)
	m := metadataFileName.FindStringSubmatch(name)
	if m == nil {
		m = legacyMetadataFileName.FindStringSubmatch(name)
	}
	if m == nil {
		return -1
	}
	v, err := strconv.Atoi(m[1])
	if err != nil {
		return -1
	}
	return v
}

// writeMetadata writes meta to loc, compressed as the table's
// write.metadata.compression-codec says.
func (c *sqlCatalog) writeMetadata(ctx context.Context, meta *podice.Metadata, loc string) error {
	raw, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("encode the table metadata: %w", err)
	}
	data := raw
	switch codec := meta.Properties[metadataCompressionKey]; codec {
	case "", "none":
	case "gzip":
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write(raw) // a bytes.Buffer does not fail
		if err := w.Close(); err != nil {
			return fmt.Errorf("compress the table metadata: %w", err)
		}
		data = b.Bytes()
	case "zstd":
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			return fmt.Errorf("compress the table metadata: %w", err)
		}
		data = enc.EncodeAll(raw, nil)
		_ = enc.Close()
	default:
		return fmt.Errorf("table property %s: unknown codec %q", metadataCompressionKey, codec)
	}
	fsys, err := c.fs(ctx, loc)
	if err != nil {
		return err
	}
	if err := fsys.WriteFile(loc, data); err != nil {
		return fmt.Errorf("write %s: %w", loc, err)
	}
	return nil
}

// removeFile deletes a metadata file no row refers to, logging a failure.
func (c *sqlCatalog) removeFile(ctx context.Context, loc string) {
	fsys, err := c.fs(context.WithoutCancel(ctx), loc)
	if err == nil {
		err = fsys.Remove(loc)
	}
	if err != nil {
		c.log.Warn("lakehouse: could not delete an uncommitted metadata file", "file", loc, "error", err)
	}
}
