// Package storetest opens throw-away stores for tests and holds the
// conformance suite both databases pass.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/podiumhq/podium/internal/store"
)

// PostgresEnv names the variable holding the PostgreSQL URL tests use.
const PostgresEnv = "PODIUM_TEST_POSTGRES_URL"

// Dialects lists the databases to test on: SQLite always, PostgreSQL when
// PODIUM_TEST_POSTGRES_URL is set.
func Dialects() []store.Dialect { return []store.Dialect{store.SQLite, store.Postgres} }

// URL returns a store URL private to this test: a SQLite file in a temporary
// directory, or a fresh PostgreSQL schema (dropped when the test ends). It
// skips the test with a clear message when PostgreSQL is asked for and
// PODIUM_TEST_POSTGRES_URL is unset.
func URL(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return filepath.Join(t.TempDir(), "podium.db")
	}
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL tests (e.g. %s=postgres://postgres@127.0.0.1:5432/postgres; .ci/run sets it)", PostgresEnv, PostgresEnv)
	}
	var r [5]byte
	_, _ = rand.Read(r[:])
	schema := "podium_test_" + hex.EncodeToString(r[:])
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", PostgresEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop test schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop test schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens a store private to this test (see URL) and closes it when the
// test ends.
func Open(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), URL(t, d))
	if err != nil {
		t.Fatalf("open %s store: %v", d, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Each runs fn once per dialect as a subtest named after it; the PostgreSQL
// subtest skips, saying why, when PODIUM_TEST_POSTGRES_URL is unset.
func Each(t *testing.T, fn func(t *testing.T, d store.Dialect)) {
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			if d == store.Postgres && os.Getenv(PostgresEnv) == "" {
				t.Skipf("%s is not set: skipping the PostgreSQL tests (e.g. %s=postgres://postgres@127.0.0.1:5432/postgres; .ci/run sets it)", PostgresEnv, PostgresEnv)
			}
			fn(t, d)
		})
	}
}

// UnwritableDir returns a directory in which this process cannot create
// files: a temporary one without write permission, or, for root (whom
// permissions do not stop), /sys, where nobody creates files. It skips the
// test when there is neither.
func UnwritableDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "read-only")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	for _, d := range []string{dir, "/sys"} {
		f, err := os.CreateTemp(d, "probe-*")
		if err != nil {
			return d
		}
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	t.Skip("no directory here refuses to create files (root without /sys)")
	return ""
}
