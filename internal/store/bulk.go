package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// InsertRows writes rows at the speed of the engine, in the transaction
// tx. head is "INSERT INTO t (a, b, c)"; tail, which may be empty, follows
// the values (e.g. "ON CONFLICT (a) DO UPDATE SET b = excluded.b"). Every
// row has the same number of values as head has columns. With ON CONFLICT
// DO UPDATE, rows must not repeat a key: a statement cannot update one row
// twice on PostgreSQL.
//
// How, by engine (BENCHMARKS.md, issue 13, has the measurements):
//
//   - PostgreSQL, copyMinRows rows or more, in a transaction of Begin or
//     InTx: COPY (pgx CopyFrom) — straight into t without a tail, else into
//     a temporary table and then one INSERT INTO t … SELECT … tail.
//   - PostgreSQL, fewer rows: multi-row INSERT statements with $N
//     parameters (pgx keeps them prepared per connection).
//   - SQLite: multi-row INSERT statements with positional ? parameters,
//     prepared once per store and reused by every transaction. ? costs
//     nothing to bind; $N made the modernc driver search a list of names
//     per parameter (quadratic in a statement's parameters).
//
// Statements have at most bulkRows rows; a remainder is written in chunks
// of powers of two, so a store prepares few distinct statements.
func InsertRows(ctx context.Context, tx *sql.Tx, head string, rows [][]any, tail string) error {
	if len(rows) == 0 {
		return nil
	}
	cols := len(rows[0])
	if cols == 0 {
		return fmt.Errorf("insert rows: a row has no values")
	}
	for _, r := range rows {
		if len(r) != cols {
			return fmt.Errorf("insert rows: row has %d values, want %d", len(r), cols)
		}
	}
	info := txOf(tx)
	if info != nil && info.s.dialect == Postgres && len(rows) >= copyMinRows {
		return info.copyRows(ctx, head, rows, tail)
	}
	style := dollar
	if info != nil && info.s.dialect == SQLite {
		style = question
	}
	per := max(1, min(bulkRows, maxBulkParams/cols))
	args := make([]any, 0, per*cols)
	for len(rows) > 0 {
		n := per
		if len(rows) < per {
			n = 1 << (bitLen(len(rows)) - 1) // the largest power of two ≤ len(rows)
		}
		chunk := rows[:n]
		rows = rows[n:]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r...)
		}
		query := bulkQuery(style, head, tail, n, cols)
		var err error
		if info != nil && style == question {
			err = info.execCached(ctx, query, args)
		} else {
			_, err = tx.ExecContext(ctx, query, args...)
		}
		if err != nil {
			return fmt.Errorf("%s (%d rows): %w", head, n, err)
		}
	}
	return nil
}

const (
	// bulkRows caps the rows of one multi-row statement, and maxBulkParams
	// its parameters (SQLite's limit is 32,766).
	bulkRows      = 256
	maxBulkParams = 4096
	// copyMinRows is the number of rows from which COPY beats a multi-row
	// INSERT on PostgreSQL (a COPY costs three round trips more).
	copyMinRows = 64
)

func bitLen(n int) int {
	l := 0
	for ; n > 0; n >>= 1 {
		l++
	}
	return l
}

type placeholder int

const (
	dollar   placeholder = iota // $1, $2, … (PostgreSQL; any engine)
	question                    // ?, ?, … (SQLite)
)

func bulkQuery(style placeholder, head, tail string, rows, cols int) string {
	var b strings.Builder
	b.Grow(len(head) + len(tail) + rows*cols*6)
	b.WriteString(head)
	b.WriteString(" VALUES ")
	n := 1
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			if style == question {
				b.WriteByte('?')
			} else {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
			}
			n++
		}
		b.WriteByte(')')
	}
	if tail != "" {
		b.WriteByte(' ')
		b.WriteString(tail)
	}
	return b.String()
}

// txs maps each transaction begun by Begin (and InTx) to its store and
// connection, which InsertRows needs for COPY and for the store's prepared
// statements. A transaction begun elsewhere gets portable multi-row
// statements.
var txs sync.Map // *sql.Tx → *txInfo

type txInfo struct {
	s    *Store
	tx   *sql.Tx
	conn *sql.Conn
	// temps are the COPY staging tables this transaction created.
	temps map[string]bool
}

func txOf(tx *sql.Tx) *txInfo {
	v, ok := txs.Load(tx)
	if !ok {
		return nil
	}
	return v.(*txInfo)
}

// Begin begins a transaction on a connection of its own. end rolls the
// transaction back unless it was committed, and releases the connection:
// call it when done, after Commit. Use it (or InTx) for transactions that
// write with InsertRows: they get its fast paths.
func (s *Store) Begin(ctx context.Context) (tx *sql.Tx, end func(), err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("begin transaction: %w", err)
	}
	tx, err = conn.BeginTx(ctx, nil)
	if err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("begin transaction: %w", err)
	}
	txs.Store(tx, &txInfo{s: s, tx: tx, conn: conn})
	return tx, func() {
		_ = tx.Rollback()
		txs.Delete(tx)
		_ = conn.Close()
	}, nil
}

// maxCachedStmts bounds the statements a store keeps prepared for
// InsertRows (a few per table it writes).
const maxCachedStmts = 256

// execCached runs query with the store's prepared statement for it.
func (t *txInfo) execCached(ctx context.Context, query string, args []any) error {
	st, err := t.s.stmt(ctx, query)
	if err != nil {
		return err
	}
	// The transaction's copy of st: prepared once per connection, kept
	// by st across transactions.
	_, err = t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	return err
}

// stmt returns s's prepared statement for query, preparing it on first use.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	if len(s.stmts) >= maxCachedStmts {
		for q, st := range s.stmts {
			_ = st.Close()
			delete(s.stmts, q)
		}
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[query] = st
	return st, nil
}

// insertHead parses InsertRows's head: "INSERT INTO table (a, b, c)".
var insertHead = regexp.MustCompile(`(?is)^\s*INSERT\s+INTO\s+("?[A-Za-z_][A-Za-z0-9_.]*"?)\s*\(([^)]*)\)\s*$`)

// copyRows writes rows with COPY, through a temporary table when tail
// asks for more than an insert.
func (t *txInfo) copyRows(ctx context.Context, head string, rows [][]any, tail string) error {
	m := insertHead.FindStringSubmatch(head)
	if m == nil {
		return fmt.Errorf("insert rows: cannot read the table and columns of %q", head)
	}
	table := strings.Trim(m[1], `"`)
	var cols []string
	for _, c := range strings.Split(m[2], ",") {
		cols = append(cols, strings.Trim(strings.TrimSpace(c), `"`))
	}
	if len(cols) != len(rows[0]) {
		return fmt.Errorf("insert rows: row has %d values, want %d", len(rows[0]), len(cols))
	}
	return t.conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		if strings.TrimSpace(tail) == "" {
			return copyInto(ctx, c, head, pgx.Identifier(strings.Split(table, ".")), cols, rows)
		}
		tmp := "podium_copy_" + strings.ReplaceAll(table, ".", "_")
		if t.temps[tmp] {
			if _, err := c.Exec(ctx, `TRUNCATE `+quoteIdent(tmp)); err != nil {
				return fmt.Errorf("%s: clear staging table: %w", head, err)
			}
		} else {
			// Only the columns written, without constraints: a staging
			// table, dropped at commit.
			if _, err := c.Exec(ctx, `CREATE TEMP TABLE `+quoteIdent(tmp)+` ON COMMIT DROP AS SELECT `+m[2]+` FROM `+m[1]+` WITH NO DATA`); err != nil {
				return fmt.Errorf("%s: create staging table: %w", head, err)
			}
			if t.temps == nil {
				t.temps = map[string]bool{}
			}
			t.temps[tmp] = true
		}
		if err := copyInto(ctx, c, head, pgx.Identifier{tmp}, cols, rows); err != nil {
			return err
		}
		if _, err := c.Exec(ctx, head+` SELECT `+m[2]+` FROM `+quoteIdent(tmp)+` `+tail); err != nil {
			return fmt.Errorf("%s (%d rows): %w", head, len(rows), err)
		}
		return nil
	})
}

func copyInto(ctx context.Context, c *pgx.Conn, head string, table pgx.Identifier, cols []string, rows [][]any) error {
	n, err := c.CopyFrom(ctx, table, cols, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("%s (%d rows, COPY): %w", head, len(rows), err)
	}
	if n != int64(len(rows)) {
		return fmt.Errorf("%s: COPY wrote %d rows of %d", head, n, len(rows))
	}
	return nil
}

// CopyFrom writes rows into table's columns with PostgreSQL's COPY (pgx
// CopyFrom), in a transaction of its own: the raw limit InsertRows is
// measured against. It is for PostgreSQL stores only.
func (s *Store) CopyFrom(ctx context.Context, table string, cols []string, rows [][]any) error {
	if s.dialect != Postgres {
		return fmt.Errorf("copy into %s: COPY is PostgreSQL's (this store is %s)", table, s.dialect)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		n, err := c.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		if err == nil && n != int64(len(rows)) {
			err = fmt.Errorf("wrote %d rows of %d", n, len(rows))
		}
		if err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		return nil
	})
}
