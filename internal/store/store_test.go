package store_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		storetest.Run(t, d, func(t *testing.T) *store.Store { return storetest.Open(t, d) })
	})
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"", "store URL is empty"},
		{"mysql://root@localhost/db", `unknown scheme "mysql"`},
		{"postgres://podium:s3cret@127.0.0.1:1/db?connect_timeout=1", "postgres://podium:****@127.0.0.1:1/db"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			_, err := store.Open(context.Background(), tc.url)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open(%q) = %v, want an error containing %q", tc.url, err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error leaks the password: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error on several lines: %q", err)
			}
		})
	}
}

// TestOpenErrorsSayWhy: a store that cannot be opened gives one line with
// its URL, password masked, and the cause: PostgreSQL refusing connections
// (pgx lists each address it tried on a line of its own), a URL whose
// password net/url cannot parse, a SQLite file in a directory that cannot
// be written.
func TestOpenErrorsSayWhy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	_ = ln.Close()
	ro := storetest.UnwritableDir(t)
	tests := []struct{ url, wantURL, cause string }{
		{"postgres://podium:s3cret@" + refused + "/db", "store postgres://podium:****@" + refused + "/db: ", "connection refused"},
		{"postgres://podium:s3/cret@" + refused + "/db", "store postgres://podium:****@" + refused + "/db: ", "cannot open: "},
		{filepath.Join(ro, "podium.db"), "store " + filepath.Join(ro, "podium.db") + ": ", "cannot create a file in " + ro + ": permission denied"},
	}
	for _, tc := range tests {
		_, err := store.Open(context.Background(), tc.url)
		if err == nil {
			t.Fatalf("Open(%q) succeeded", tc.url)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, tc.wantURL) || !strings.Contains(msg, tc.cause) || strings.Contains(msg, "\n") ||
			strings.Contains(msg, "s3cret") || strings.Contains(msg, "cret@") {
			t.Errorf("Open(%q):\n%s\nwant one line starting %q and containing %q, no password", tc.url, msg, tc.wantURL, tc.cause)
		}
		var oe *store.OpenError
		if !errors.As(err, &oe) {
			t.Errorf("Open(%q): %T is not a *store.OpenError", tc.url, err)
		}
	}
}

func TestOpenSQLiteForms(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{dir + "/a/podium.db", "sqlite://" + dir + "/b.db", "file:" + dir + "/c.db"} {
		s, err := store.Open(context.Background(), u)
		if err != nil {
			t.Fatalf("Open(%q): %v", u, err)
		}
		if s.Dialect() != store.SQLite {
			t.Fatalf("Open(%q) dialect %s", u, s.Dialect())
		}
		_ = s.Close()
	}
}

// TestSQLitePragmas checks the settings every SQLite connection gets, on
// several connections of the pool at once (each has its own).
func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, t.TempDir()+"/p.db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[string]string{
		"journal_mode":       "wal",
		"synchronous":        "1", // NORMAL
		"foreign_keys":       "1",
		"cache_size":         "-32768",
		"wal_autocheckpoint": "0",
		"busy_timeout":       "10000",
	}
	var conns []*sql.Conn
	for range 3 {
		c, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		for name, w := range want {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
				t.Fatalf("connection %d: PRAGMA %s: %v", i, name, err)
			}
			if got != w {
				t.Errorf("connection %d: PRAGMA %s = %s, want %s", i, name, got, w)
			}
		}
	}
	for _, c := range conns {
		_ = c.Close()
	}
}

// TestInTxAlone: on PostgreSQL an InTxAlone of the same name as one in
// progress waits for it (one whose context ends first fails), then sees
// what it created (CREATE SCHEMA IF NOT EXISTS of a schema on the
// search_path), and no connection put back in the pool keeps the lock.
func TestInTxAlone(t *testing.T) {
	s := storetest.Open(t, store.Postgres) // skips without PostgreSQL
	ctx := context.Background()
	var sch string
	if err := s.DB().QueryRowContext(ctx, `SELECT current_schema()`).Scan(&sch); err != nil {
		t.Fatal(err)
	}
	// The private schema is on the connections' search_path: sessions
	// look it up (and cache that it is missing) as each statement starts.
	extra := store.PrivateSchema(sch)
	t.Cleanup(func() { _, _ = s.DB().Exec(`DROP SCHEMA IF EXISTS "` + extra + `"`) })
	holding, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.InTxAlone(ctx, "alone-test", func(tx *sql.Tx) error {
			close(holding)
			<-release
			_, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS "`+extra+`"`)
			return err
		})
	}()
	<-holding
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := s.InTxAlone(short, "alone-test", func(*sql.Tx) error { return nil }); err == nil {
		t.Fatal("InTxAlone ran while another held the lock")
	}
	second := make(chan error, 1)
	go func() {
		second <- s.InTxAlone(ctx, "alone-test", func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS "`+extra+`"`)
			return err
		})
	}()
	time.Sleep(100 * time.Millisecond) // the second waits on the lock
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("second, after the first committed: %v", err)
	}
	// No connection of the pool still holds the lock.
	for i := range 10 {
		short, cancel := context.WithTimeout(ctx, time.Second)
		err := s.InTxAlone(short, "alone-test", func(*sql.Tx) error { return nil })
		cancel()
		if err != nil {
			t.Fatalf("InTxAlone %d after both committed: %v", i, err)
		}
	}
}
