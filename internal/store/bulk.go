package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// maxBulkParams caps the parameters of one statement. PostgreSQL gains
// from fewer round trips; SQLite (the modernc driver) resolves each $N by a
// linear search, so a statement's cost grows with the square of its
// parameters: at 500 a multi-row statement is about as fast there as one
// prepared statement per row, and 60 times fewer round trips on PostgreSQL
// than row by row.
const maxBulkParams = 500

// InsertRows writes rows with multi-row INSERT statements — one round trip
// per few hundred rows instead of one per row, which is what makes
// PostgreSQL fast. head is "INSERT INTO t (a, b, c)"; tail, which may be
// empty, follows the VALUES list (e.g. "ON CONFLICT (a) DO UPDATE SET b =
// excluded.b"). Every row has the same number of values as head has
// columns. With ON CONFLICT DO UPDATE, rows must not repeat a key: a
// statement cannot update one row twice on PostgreSQL.
func InsertRows(ctx context.Context, tx *sql.Tx, head string, rows [][]any, tail string) error {
	if len(rows) == 0 {
		return nil
	}
	cols := len(rows[0])
	if cols == 0 {
		return fmt.Errorf("insert rows: a row has no values")
	}
	per := max(1, min(500, maxBulkParams/cols))
	var full *sql.Stmt // prepared once for the full chunks
	defer func() {
		if full != nil {
			_ = full.Close()
		}
	}()
	args := make([]any, 0, per*cols)
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		args = args[:0]
		for _, r := range chunk {
			if len(r) != cols {
				return fmt.Errorf("insert rows: row has %d values, want %d", len(r), cols)
			}
			args = append(args, r...)
		}
		query := bulkQuery(head, tail, len(chunk), cols)
		var err error
		if len(chunk) == per {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, query); err != nil {
					return fmt.Errorf("prepare %s: %w", head, err)
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, query, args...)
		}
		if err != nil {
			return fmt.Errorf("%s (%d rows): %w", head, len(chunk), err)
		}
	}
	return nil
}

func bulkQuery(head, tail string, rows, cols int) string {
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
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
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
