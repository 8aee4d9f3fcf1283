package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Migrate applies the migrations of component found at the top of fsys that
// have not been applied yet, each in its own transaction, in version order.
//
// A migration is a file NNNN_name.sql, written in PostgreSQL's types; on
// SQLite, TIMESTAMPTZ columns become TIMESTAMP (the declared type under
// which the driver reads times back), so one file serves both databases.
// NNNN_name.sqlite.sql and NNNN_name.postgres.sql hold a dialect's own
// version of a step, where the two really differ, and take precedence over
// the plain file on that dialect. Applied versions are
// recorded per component in podium_migrations, so each component (the
// processor runtime, each pipeline) owns its schema and can be rebuilt alone.
// Concurrent Migrate calls (several workers starting at once) are safe.
func (s *Store) Migrate(ctx context.Context, component string, fsys fs.FS) error {
	steps, err := s.steps(fsys)
	if err != nil {
		return fmt.Errorf("migrations of %s: %w", component, err)
	}
	if err := s.createMigrationsTable(ctx); err != nil {
		return err
	}
	for _, st := range steps {
		// Workers migrating one component take turns.
		err := s.InTxAlone(ctx, "podium-migrate:"+component, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM podium_migrations WHERE component = $1 AND version = $2`,
				component, st.version).Scan(&n); err != nil {
				return fmt.Errorf("read applied migrations: %w", err)
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, st.sql); err != nil {
				return fmt.Errorf("apply %s: %w", st.file, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO podium_migrations (component, version, name, applied_at) VALUES ($1, $2, $3, CURRENT_TIMESTAMP)`,
				component, st.version, st.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s (%s store): %w", component, s.dialect, err)
		}
	}
	return nil
}

// Forget removes the migration records of component, so that its next
// Migrate applies every step again (after its tables were dropped).
func (s *Store) Forget(ctx context.Context, component string) error {
	if err := s.createMigrationsTable(ctx); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM podium_migrations WHERE component = $1`, component); err != nil {
		return fmt.Errorf("forget migrations of %s: %w", component, err)
	}
	return nil
}

// DropTables drops the given tables if they exist, in one transaction.
func (s *Store) DropTables(ctx context.Context, tables ...string) error {
	return s.InTx(ctx, func(tx *sql.Tx) error {
		for _, t := range tables {
			if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+quoteIdent(t)); err != nil {
				return fmt.Errorf("drop table %s: %w", t, err)
			}
		}
		return nil
	})
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (s *Store) createMigrationsTable(ctx context.Context) error {
	ts := "TIMESTAMP"
	if s.dialect == Postgres {
		ts = "TIMESTAMPTZ"
	}
	create := `CREATE TABLE IF NOT EXISTS podium_migrations (
		component  TEXT    NOT NULL,
		version    INTEGER NOT NULL,
		name       TEXT    NOT NULL,
		applied_at ` + ts + ` NOT NULL,
		PRIMARY KEY (component, version))`
	// Workers starting at once take turns: CREATE TABLE IF NOT EXISTS is
	// not safe against itself on PostgreSQL (one fails on the system
	// catalogs' unique indexes, 23505 or 42710 "type already exists").
	err := s.InTxAlone(ctx, "podium-migrate:podium_migrations", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, create)
		return err
	})
	if err != nil {
		return fmt.Errorf("create podium_migrations: %w", err)
	}
	return nil
}

// timestamptz matches PostgreSQL's TIMESTAMPTZ type in a migration.
var timestamptz = regexp.MustCompile(`(?i)\bTIMESTAMPTZ\b`)

type step struct {
	version int
	name    string
	file    string
	sql     string
}

func (s *Store) steps(fsys fs.FS) ([]step, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]step{}
	for _, e := range entries {
		file := e.Name()
		if e.IsDir() || path.Ext(file) != ".sql" {
			continue
		}
		base := strings.TrimSuffix(file, ".sql")
		specific := false
		for _, d := range []Dialect{SQLite, Postgres} {
			if strings.HasSuffix(base, "."+string(d)) {
				if d != s.dialect {
					base = ""
				} else {
					base = strings.TrimSuffix(base, "."+string(d))
					specific = true
				}
			}
		}
		if base == "" {
			continue
		}
		num, name, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration file %s: name it NNNN_description.sql", file)
		}
		prev, seen := byVersion[version]
		if seen && prev.name != name {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev.file, file, version)
		}
		if seen && !specific {
			continue
		}
		body, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		sqlText := string(body)
		if s.dialect == SQLite {
			sqlText = timestamptz.ReplaceAllString(sqlText, "TIMESTAMP")
		}
		byVersion[version] = step{version: version, name: name, file: file, sql: sqlText}
	}
	steps := make([]step, 0, len(byVersion))
	for _, st := range byVersion {
		steps = append(steps, st)
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].version < steps[j].version })
	return steps, nil
}
