package storetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ClusterConfig is what a private PostgreSQL cluster needs besides the
// defaults (trust authentication, user postgres, no fsync).
type ClusterConfig struct {
	// InitDB holds extra initdb arguments, e.g. --wal-segsize=1.
	InitDB []string
	// Settings are server settings as "name = value" lines of
	// postgresql.conf, e.g. "wal_level = logical".
	Settings []string
}

// Cluster starts a throw-away PostgreSQL cluster private to the test, for
// the tests that need server settings the shared server must not get
// (max_slot_wal_keep_size, a WAL segment size): initdb and pg_ctl from the
// machine's PostgreSQL (/usr/lib/postgresql/*/bin, the newest, as .ci/run
// finds them, else the PATH), run as the postgres user when the test runs
// as root, on a free port of 127.0.0.1 with its unix socket in the
// cluster's temporary directory. It returns the URL of its postgres
// database and stops and removes the cluster when the test ends.
//
// It skips the test, saying why, when PODIUM_TEST_POSTGRES_URL is unset
// (the PostgreSQL tests are not asked for) or no PostgreSQL binaries are
// installed.
func Cluster(t testing.TB, cfg ClusterConfig) string {
	t.Helper()
	if os.Getenv(PostgresEnv) == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL tests that start a private cluster (.ci/run sets it)", PostgresEnv)
	}
	bin := postgresBin()
	if bin == "" {
		t.Skip("no PostgreSQL binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or the PATH: skipping a test that needs a private cluster (apt-get install postgresql)")
	}
	// Not t.TempDir: the postgres user must reach the directory, and a
	// unix socket path must stay short.
	dir, err := os.MkdirTemp("", "podium-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	var as []string
	if os.Getuid() == 0 {
		// initdb refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root without a postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		as = []string{"runuser", "-u", "postgres", "--"}
	}
	pg := func(name string, args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		argv := append(append(slices.Clone(as), filepath.Join(bin, name)), args...)
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, out)
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := pg("initdb", append([]string{"-D", data, "-U", "postgres", "-A", "trust", "--no-sync"}, cfg.InitDB...)...); err != nil {
		t.Fatalf("private PostgreSQL cluster: %v", err)
	}
	settings := append([]string{"listen_addresses = '127.0.0.1'", "fsync = off", "synchronous_commit = off",
		"full_page_writes = off", "unix_socket_directories = '" + dir + "'"}, cfg.Settings...)
	conf, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = conf.WriteString("\n" + strings.Join(settings, "\n") + "\n")
		err = errors.Join(err, conf.Close())
	}
	if err != nil {
		t.Fatalf("private PostgreSQL cluster: settings: %v", err)
	}
	log := filepath.Join(dir, "log")
	// A port just found free may be taken before the server binds it: try
	// another.
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		err = pg("pg_ctl", "-D", data, "-l", log, "-w", "-o", "-p "+strconv.Itoa(port), "start")
		if err == nil {
			t.Cleanup(func() {
				if err := pg("pg_ctl", "-D", data, "-m", "immediate", "stop"); err != nil {
					t.Logf("stop the private PostgreSQL cluster: %v", err)
				}
			})
			return "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/postgres?sslmode=disable"
		}
		if attempt == 5 {
			tail, _ := os.ReadFile(log)
			t.Fatalf("private PostgreSQL cluster: %v\nserver log:\n%s", err, tail)
		}
	}
}

// postgresBin returns the directory of the newest PostgreSQL's binaries
// in /usr/lib/postgresql, else the one of initdb in the PATH, else "".
func postgresBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	major := func(d string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		return n
	}
	slices.SortFunc(dirs, func(a, b string) int { return major(b) - major(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "pg_ctl")); err == nil {
			return filepath.Dir(p)
		}
	}
	return ""
}

// freePort returns a TCP port of 127.0.0.1 nothing listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
