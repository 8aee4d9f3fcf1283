package store_test

import (
	"context"
	"strings"
	"testing"

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
		})
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
