package datadir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNATSCredentials(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := NATSCredentials(dir, false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no file, no create: %v, want fs.ErrNotExist", err)
	}
	c, err := NATSCredentials(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.User == "" || len(c.Password) < 32 {
		t.Fatalf("generated %q / %d-character password", c.User, len(c.Password))
	}
	if strings.Contains(c.String(), c.Password) {
		t.Error("String shows the password")
	}
	path := filepath.Join(dir, CredentialsFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	// Generated once: every later call reads the same.
	for _, create := range []bool{true, false} {
		again, err := NATSCredentials(dir, create)
		if err != nil || again != c {
			t.Fatalf("second read (create %t): %v, %v", create, again, err)
		}
	}
	// A file others may read is refused, with the fix.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NATSCredentials(dir, true); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a 0644 file: %v, want an error saying chmod 600", err)
	}
	// A damaged file says how to recover.
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NATSCredentials(dir, false); err == nil || !strings.Contains(err.Error(), "remove the file") {
		t.Fatalf("a damaged file: %v", err)
	}
}
