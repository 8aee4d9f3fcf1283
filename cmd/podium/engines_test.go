package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/tcpproxy"
)

// runMainEnv makes the test binary run podium's main instead of the tests:
// the start-up tests run podium as a separate process, so that a panic or
// a hang is the child's, seen from outside.
const runMainEnv = "PODIUM_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// podiumProcess runs podium args in a child process with a clean
// environment (no PODIUM_* setting of the test's) and returns its exit
// status and output. ctx bounds it: a child that hangs is killed.
func podiumProcess(ctx context.Context, t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PODIUM_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, runMainEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("podium %s was still running when the test gave up on it (it must give up within 20 s):\n%s",
			strings.Join(args, " "), stderr.String())
	}
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run podium: %v", err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// refusedAddr returns a loopback address nothing listens on.
func refusedAddr(t *testing.T) string {
	p := tcpproxy.New(t, "127.0.0.1:1")
	if err := p.Set(tcpproxy.Refuse); err != nil {
		t.Fatal(err)
	}
	return p.Addr()
}

// silentAddr returns a loopback address that accepts connections and never
// answers, as a hung server or a black-holed network does.
func silentAddr(t *testing.T) string {
	p := tcpproxy.New(t, "127.0.0.1:1")
	if err := p.Set(tcpproxy.Silence); err != nil {
		t.Fatal(err)
	}
	return p.Addr()
}

// wrongPasswordPostgres returns the address of a server that answers every
// login as PostgreSQL with password authentication answers a wrong
// password: an ErrorResponse FATAL 28P01 `password authentication failed
// for user "…"` (src/backend/libpq/auth.c). The shared test server trusts
// every local login, so it cannot give that answer itself.
func wrongPasswordPostgres(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				be := pgproto3.NewBackend(c, c)
				msg, err := be.ReceiveStartupMessage()
				if _, ok := msg.(*pgproto3.SSLRequest); ok && err == nil {
					if _, err := c.Write([]byte("N")); err != nil {
						return
					}
					msg, err = be.ReceiveStartupMessage()
				}
				sm, ok := msg.(*pgproto3.StartupMessage)
				if err != nil || !ok {
					return
				}
				be.Send(&pgproto3.AuthenticationCleartextPassword{})
				if err := be.Flush(); err != nil {
					return
				}
				if err := be.SetAuthType(pgproto3.AuthTypeCleartextPassword); err != nil {
					return
				}
				if _, err := be.Receive(); err != nil {
					return
				}
				be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "28P01",
					Message: fmt.Sprintf("password authentication failed for user %q", sm.Parameters["user"]),
					File:    "auth.c", Line: 323, Routine: "auth_failed"})
				_ = be.Flush()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestStartWithUnreachableEngines: a long-running command started with a
// bus or a store it cannot use exits with status 1 and one line naming the
// engine's URL (password masked) and the cause — never a panic, never a
// hang (the test kills a child still running after 90 s; podium's own
// limits are 8 s for the bus and 10 s for the store).
func TestStartWithUnreachableEngines(t *testing.T) {
	ro := storetest.UnwritableDir(t)
	pgURL := os.Getenv(storetest.PostgresEnv)
	type tc struct {
		name string
		args []string
		// want are the substrings of the one line, URL and cause; "a|b"
		// accepts either (root gets EPERM where others get EACCES).
		want   []string
		secret string
		pg     bool // needs the shared PostgreSQL
	}
	refused, silent := refusedAddr(t), silentAddr(t)
	cases := []tc{
		{name: "nats refused", args: []string{"--bus", "nats://" + refused, "serve"},
			want: []string{"podium: bus nats://" + refused + ": ", "no servers available for connection"}},
		{name: "nats refused with credentials", args: []string{"--bus", "nats://podium:n4ts-s3cret@" + refused, "worker"},
			want: []string{"podium: bus nats://podium:****@" + refused + ": ", "no servers available"}, secret: "n4ts-s3cret"},
		{name: "nats silent", args: []string{"--bus", "nats://" + silent, "serve"},
			want: []string{"podium: bus nats://" + silent + ": ", "timeout"}},
		{name: "kafka refused", args: []string{"--bus", "kafka://" + refused, "serve"},
			want: []string{"podium: bus kafka://" + refused + ": ", "connection refused"}},
		{name: "kafka silent", args: []string{"--bus", "kafka://" + silent, "worker"},
			want: []string{"podium: bus kafka://" + silent + ": ", "no answer within 8s"}},
		{name: "postgres refused", args: []string{"--store", "postgres://podium:pg-s3cret@" + refused + "/podium", "serve"},
			want: []string{"podium: store postgres://podium:****@" + refused + "/podium: ", "connection refused"}, secret: "pg-s3cret"},
		{name: "postgres silent", args: []string{"--store", "postgres://podium@" + silent + "/podium", "activities", "capture"},
			want: []string{"podium: store postgres://podium@" + silent + "/podium: ", "no answer within 10s"}},
		{name: "postgres wrong password", args: []string{"--store", "postgres://podium:wr0ng-pw@" + wrongPasswordPostgres(t) + "/podium", "serve"},
			want: []string{"podium: store postgres://podium:****@", `password authentication failed for user "podium"`, "28P01"}, secret: "wr0ng-pw"},
		{name: "sqlite directory not writable", args: []string{"--store", filepath.Join(ro, "podium.db"), "serve"},
			want: []string{"podium: store sqlite://" + filepath.Join(ro, "podium.db") + ": ", "permission denied|operation not permitted"}},
		{name: "data dir not writable", args: []string{"--data-dir", filepath.Join(ro, "data"), "serve"},
			want: []string{"podium: ", filepath.Join(ro, "data"), "permission denied|operation not permitted"}},
	}
	if pgURL != "" {
		// The real server's answer to a role it does not know.
		u := strings.Replace(pgURL, "postgres://postgres@", "postgres://podium_nobody:n0body-pw@", 1)
		cases = append(cases, tc{name: "postgres unknown role", args: []string{"--store", u, "serve"},
			want: []string{"podium: store postgres://podium_nobody:****@", `role "podium_nobody" does not exist`}, secret: "n0body-pw", pg: true})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			args := append([]string{"--http", "127.0.0.1:0"}, c.args...)
			if !strings.Contains(strings.Join(args, " "), "--data-dir") {
				args = append([]string{"--data-dir", t.TempDir()}, args...)
			}
			r := podiumProcess(ctx, t, args...)
			line := strings.TrimSuffix(r.stderr, "\n")
			if r.code != 1 || strings.Contains(line, "\n") || line == "" {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and one line", r.code, r.stderr)
			}
			for _, w := range c.want {
				if !slices.ContainsFunc(strings.Split(w, "|"), func(w string) bool { return strings.Contains(line, w) }) {
					t.Errorf("the line does not say %q:\n%s", w, line)
				}
			}
			if strings.Contains(line, "panic") || strings.Contains(line, "goroutine") {
				t.Errorf("podium panicked:\n%s", line)
			}
			if c.secret != "" && strings.Contains(r.stderr+r.stdout, c.secret) {
				t.Errorf("the output shows the password:\n%s", line)
			}
			t.Log(line)
		})
	}
}
