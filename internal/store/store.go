// Package store opens podium's SQL store — embedded SQLite (the default) or
// PostgreSQL — by URL and applies versioned migrations. Both databases are
// used through database/sql with one SQL dialect: `$1` placeholders,
// `INSERT … ON CONFLICT … DO UPDATE`, and dialect-specific migration files
// only where the types differ.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/retry"
)

// Dialect names the database behind a Store.
type Dialect string

// The supported databases.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is an open SQL store.
type Store struct {
	db      *sql.DB
	dialect Dialect
	url     string
	stop    chan struct{} // stops the SQLite checkpointer
	done    chan struct{}
	// writes queues the writers of this process on SQLite, which has one
	// writer at a time (nil on PostgreSQL). Without it, a writer waiting
	// in SQLite's busy handler sleeps while a busy one takes the lock again
	// and again: a bulk load would starve the processors.
	writes chan struct{}

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // InsertRows's prepared statements (SQLite)
}

// connectTimeout bounds the wait for the database's first answer: a
// command started against a database that is down or hangs says so within
// seconds.
const connectTimeout = 10 * time.Second

// OpenError is the error of a store that could not be opened: one line
// with the URL (password masked), the cause and what to check.
type OpenError struct {
	URL  string // masked
	Err  error
	hint string
}

func (e *OpenError) Error() string {
	return "store " + e.URL + ": cannot open: " + oneLine(e.Err.Error()) + " (" + e.hint + ")"
}

func (e *OpenError) Unwrap() error { return e.Err }

func openError(rawURL string, d Dialect, err error) error {
	hint := "is the database up and the URL right? check --store or PODIUM_STORE"
	if d == SQLite {
		hint = "check that its directory is writable, or choose another --store or --data-dir"
	}
	return &OpenError{URL: Redact(rawURL), Err: err, hint: hint}
}

// oneLine joins the lines of a message (pgx lists each address it tried
// on a line of its own), dropping repeated ones.
func oneLine(msg string) string {
	var out []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || slices.Contains(out, l) {
			continue
		}
		out = append(out, l)
	}
	var b strings.Builder
	for i, l := range out {
		if i > 0 {
			if strings.HasSuffix(out[i-1], ":") {
				b.WriteString(" ")
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(l)
	}
	return b.String()
}

// Open opens the store at url: "postgres://…" (or "postgresql://…") for
// PostgreSQL; "sqlite:///abs/path.db", "sqlite://rel/path.db", "file:path" or
// a bare file path for SQLite, whose directory is created if missing.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	dialect, dsn, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	var db *sql.DB
	switch dialect {
	case Postgres:
		db, err = sql.Open("pgx", dsn)
		if err == nil {
			db.SetMaxOpenConns(16)
			db.SetMaxIdleConns(16)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	case SQLite:
		db, err = sql.Open("sqlite", dsn)
		if err == nil {
			// One writer at a time (immediate transactions); readers run
			// concurrently in WAL mode.
			db.SetMaxOpenConns(8)
			db.SetMaxIdleConns(8)
		}
	}
	if err != nil {
		return nil, openError(rawURL, dialect, err)
	}
	s := &Store{db: db, dialect: dialect, url: rawURL}
	if dialect == SQLite {
		s.writes = make(chan struct{}, 1)
	}
	pingCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v: %w", connectTimeout, err)
		}
		return nil, openError(rawURL, dialect, err)
	}
	if dialect == SQLite {
		s.stop, s.done = make(chan struct{}), make(chan struct{})
		go s.checkpoint()
	}
	return s, nil
}

func parse(raw string) (Dialect, string, error) {
	switch {
	case raw == "":
		return "", "", errors.New("store URL is empty: use a postgres:// URL or a SQLite file path")
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return Postgres, withPrivateSchema(raw), nil
	}
	path := raw
	query := ""
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		path = strings.TrimPrefix(raw, "sqlite://")
	case strings.HasPrefix(raw, "file:"):
		path = strings.TrimPrefix(raw, "file:")
	case strings.Contains(raw, "://"):
		scheme, _, _ := strings.Cut(raw, "://")
		return "", "", fmt.Errorf("store URL %s: unknown scheme %q: use postgres://user:pass@host:5432/db or a SQLite file path such as ./podium-data/podium.db", Redact(raw), scheme)
	}
	path, query, _ = strings.Cut(path, "?")
	if path == "" {
		return "", "", fmt.Errorf("store URL %q has no SQLite file path", raw)
	}
	if path != ":memory:" {
		if err := writable(path); err != nil {
			return "", "", openError(raw, SQLite, err)
		}
	}
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode(WAL)")
	// In WAL mode, NORMAL survives a crash of podium (not of the machine's
	// power) and makes each commit much cheaper.
	v.Add("_pragma", "synchronous(NORMAL)")
	v.Add("_pragma", "foreign_keys(ON)")
	v.Add("_pragma", "wal_autocheckpoint(0)")
	// A page cache of up to 32 MiB per connection (SQLite's default is 2
	// MiB): a bulk transaction's dirty pages fit, instead of spilling to
	// the log mid-transaction and being read back, and the indexes of a
	// table of a few hundred thousand rows stay in memory. The cache grows
	// with the pages read, so a small database costs nothing more.
	v.Add("_pragma", "cache_size(-32768)")
	v.Set("_txlock", "immediate")
	v.Set("_time_format", "sqlite")
	dsn := "file:" + path + "?" + v.Encode()
	if query != "" {
		dsn += "&" + query
	}
	return SQLite, dsn, nil
}

// writable creates the directory of the SQLite file at path if needed and
// checks that the file can be written, or created there: SQLite itself
// only says "unable to open database file".
func writable(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot write the file: %w", err)
	}
	f, err = os.CreateTemp(dir, ".podium-write-check-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the probe's random name says nothing
		}
		return fmt.Errorf("cannot create a file in %s: %w", dir, err)
	}
	_ = f.Close()
	return os.Remove(f.Name())
}

// DB returns the database handle.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect reports which database s is.
func (s *Store) Dialect() Dialect { return s.dialect }

// String returns the store URL with any password masked.
func (s *Store) String() string { return Redact(s.url) }

// Close closes the database handle.
func (s *Store) Close() error {
	if s.stop != nil {
		close(s.stop)
		<-s.done
	}
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		_ = st.Close()
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	return s.db.Close()
}

// checkpointEvery is how often the SQLite write-ahead log is copied into
// the database file. Each checkpoint syncs both files, and a commit that
// meets the sync waits for it: once a second, that was the p99 of a stage
// at 1,000 events/s (1.5–2.5 ms, max 21–45 ms; every 30 s: 1.35–1.45 ms,
// max 5–6 ms; BENCHMARKS.md). Rarer checkpoints also copy a page written
// many times (a gold row) once. A crash loses nothing either way: the log
// is replayed at the next open.
const checkpointEvery = 10 * time.Second

// checkpoint copies the SQLite write-ahead log into the database file in the
// background. Automatic checkpoints are off: they run inside the commit that
// crosses the threshold and add milliseconds to that commit's latency.
func (s *Store) checkpoint() {
	defer close(s.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			_, _ = s.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			return
		case <-t.C:
			_, _ = s.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// InTx runs fn in a transaction and commits it, rolling back when fn fails.
// A transaction that failed on a lock conflict (SQLite busy, PostgreSQL
// serialization failure or deadlock) is retried a few times with backoff, so
// fn must be safe to run again.
func (s *Store) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return RetryConflicts(ctx, func() error { return s.inTx(ctx, fn) })
}

// InTxAlone runs fn in a transaction, as InTx does, once no other worker
// (of any process) runs an InTxAlone named name. On PostgreSQL the
// transaction begins after its connection took the session advisory lock
// of name, and the lock is let go after the commit. Taken before the
// transaction begins, the lock lets fn see all the previous holder
// committed, the system catalogs included: a lock taken inside a
// transaction does not refresh a session's catalog caches, and CREATE
// SCHEMA IF NOT EXISTS then fails as if both ran at once. Use it for the
// set-up that workers starting at once all run.
func (s *Store) InTxAlone(ctx context.Context, name string, fn func(tx *sql.Tx) error) error {
	if s.dialect != Postgres {
		return s.InTx(ctx, fn)
	}
	return RetryConflicts(ctx, func() error { return Alone(ctx, s.db, name, fn) })
}

// Alone runs fn in a transaction of db, a PostgreSQL database, under the
// session advisory lock named name (see Store.InTxAlone).
func Alone(ctx context.Context, db *sql.DB, name string, fn func(tx *sql.Tx) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer func() { _ = conn.Close() }()
	h := fnv.New64a()
	h.Write([]byte(name))
	key := int64(h.Sum64())
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer func() {
		// Let go even when ctx is done; a connection that cannot is
		// closed (which ends its locks), never put back in the pool.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// conflictBackoff paces the retries of a transaction that lost a lock
// conflict.
var conflictBackoff = retry.Backoff{Initial: 10 * time.Millisecond, Max: time.Second}

// RetryConflicts runs tx, a whole transaction, again (up to 5 times, with
// backoff) while it fails on a lock conflict (see Retryable).
func RetryConflicts(ctx context.Context, tx func() error) error {
	for attempt := 1; ; attempt++ {
		err := tx()
		if err == nil || attempt == 5 || !Retryable(err) {
			return err
		}
		if retry.Sleep(ctx, conflictBackoff.Delay(attempt)) != nil {
			return err
		}
	}
}

// LockWrites waits for this process's turn to write (SQLite only: a no-op
// on PostgreSQL) and returns the function that ends it. Writers take turns
// in the order they asked. InTx takes it; code that begins its own write
// transactions takes it around them, never inside one.
func (s *Store) LockWrites(ctx context.Context) (unlock func(), err error) {
	if s.writes == nil {
		return func() {}, nil
	}
	select {
	case s.writes <- struct{}{}:
		return func() { <-s.writes }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	unlock, err := s.LockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	tx, end, err := s.Begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// Retryable reports whether err is a transient lock conflict that a retry of
// the whole transaction may get past.
func Retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}

// Redact masks the password in a URL-like string (config.MaskURL, which
// also masks the passwords of URLs that net/url cannot parse).
func Redact(raw string) string { return config.MaskURL(raw) }

// PrivateSchema is the schema of the personal data of a store whose
// tables are in schema: "<schema>_private", "podium_private" for public.
// Package bi moves the HR register and the Strava tokens there, out of
// the reach of roles that may read the store's schema.
func PrivateSchema(schema string) string {
	if schema == "" || schema == "public" {
		return "podium_private"
	}
	return schema + "_private"
}

// withPrivateSchema appends the private schema of the URL's first schema
// to its search_path, so that queries find the tables moved there by
// their plain names; a schema that does not exist is skipped by
// PostgreSQL.
func withPrivateSchema(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw // the driver reports the bad URL
	}
	q := u.Query()
	sp := q.Get("search_path")
	if sp == "" {
		q.Set("search_path", `"$user",public,`+PrivateSchema("public"))
	} else {
		first, _, _ := strings.Cut(sp, ",")
		first = strings.Trim(strings.TrimSpace(first), `"`)
		q.Set("search_path", sp+","+PrivateSchema(first))
	}
	u.RawQuery = q.Encode()
	return u.String()
}
