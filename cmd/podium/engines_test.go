package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/bus/jetstream"
	"github.com/podiumhq/podium/internal/bus/kafka"
	"github.com/podiumhq/podium/internal/datadir"
	"github.com/podiumhq/podium/internal/store"
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

// readyz returns the status and body of GET /readyz.
func readyz(t *testing.T, base string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// waitReady waits until /readyz answers code with a body containing every
// one of want, and returns the body.
func waitReady(t *testing.T, base string, code int, want ...string) string {
	t.Helper()
	var (
		got  int
		body string
	)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		got, body = readyz(t, base)
		ok := got == code
		for _, w := range want {
			ok = ok && strings.Contains(body, w)
		}
		if ok {
			return body
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/readyz answers %d %q; want %d with %q", got, body, code, want)
	return ""
}

// sinkCounts returns how many times the testsink processor counted each
// key, read from the store directly (not through the proxy).
func sinkCounts(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	rows, err := db.Query(`SELECT k, n FROM test_counts`)
	if err != nil {
		return nil // not created yet
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	return out
}

// outageBus is a bus engine behind a proxy, for podium, and a publisher
// for the test.
type outageBus struct {
	url   string // podium's bus URL, through the proxy
	proxy *tcpproxy.Proxy
	pub   bus.Bus // the test's publisher
	// down is what /readyz says of the bus while the proxy refuses.
	down string
}

// natsBehindProxy runs a NATS server with JetStream (nats-server in
// process) behind a proxy. The test publishes to it directly.
func natsBehindProxy(t *testing.T) outageBus {
	server, err := jetstream.Open(context.Background(), jetstream.Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Close() })
	p := tcpproxy.New(t, strings.TrimPrefix(server.ClientURL(), "nats://"))
	return outageBus{url: "nats://" + p.Addr(), proxy: p, pub: server, down: "not connected to NATS"}
}

// proxiedListener is a broker's listener that gives the proxy's address as
// its own, so that kfake advertises the proxy to clients.
type proxiedListener struct {
	net.Listener
	addr net.Addr
}

func (l proxiedListener) Addr() net.Addr { return l.addr }

// kafkaBehindProxy runs a one-broker kfake cluster (the Kafka protocol in
// process) that advertises a proxy in front of it: every client, the
// test's publisher too, goes through the proxy.
func kafkaBehindProxy(t *testing.T) outageBus {
	var p *tcpproxy.Proxy
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(3), kfake.GroupMinSessionTimeout(time.Second),
		kfake.ListenFn(func(network, address string) (net.Listener, error) {
			ln, err := net.Listen(network, address)
			if err != nil {
				return nil, err
			}
			p = tcpproxy.New(t, ln.Addr().String())
			addr, err := net.ResolveTCPAddr("tcp", p.Addr())
			if err != nil {
				return nil, err
			}
			return proxiedListener{ln, addr}, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	pub, err := kafka.Open(context.Background(), kafka.Config{Brokers: []string{p.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	return outageBus{url: "kafka://" + p.Addr(), proxy: p, pub: pub, down: "no broker answers"}
}

// TestWorkerRidesOutOutages: a worker reads the bus (NATS, or Kafka) and
// writes the store (the shared PostgreSQL) through proxies the test
// controls. When PostgreSQL, then the bus, refuse connections, /readyz
// answers 503 naming the engine, its URL (password masked) and the cause,
// and 200 again once it is back; connections cut while events flow change
// nothing. Every event published — before, during and after the outages —
// is counted exactly once.
func TestWorkerRidesOutOutages(t *testing.T) {
	for _, tc := range []struct {
		engine string
		open   func(t *testing.T) outageBus
	}{{"jetstream", natsBehindProxy}, {"kafka", kafkaBehindProxy}} {
		t.Run(tc.engine, func(t *testing.T) { testWorkerOutages(t, tc.open(t)) })
	}
}

func testWorkerOutages(t *testing.T, eb outageBus) {
	pgURL := storetest.URL(t, store.Postgres) // skips without PostgreSQL
	direct, err := store.Open(context.Background(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	pgProxy := tcpproxy.New(t, u.Host)
	// Trust authentication ignores the password: it is there to be masked.
	const pgPassword = "pg-s3cret-pw"
	u.Host, u.User = pgProxy.Addr(), url.UserPassword(u.User.Username(), pgPassword)

	dir := t.TempDir()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stderr lockedBuffer
	worked := make(chan int, 1)
	go func() {
		a := testApp(io.Discard, &stderr)
		worked <- a.run(ctx, []string{"--data-dir", dir, "--http", "127.0.0.1:0", "--log-level", "warn",
			"--bus", eb.url, "--store", u.String(), "worker", "--processors", "testsink"})
	}()
	defer func() {
		stop()
		select {
		case code := <-worked:
			if code != 0 {
				t.Errorf("worker exited %d:\n%s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("the worker did not stop within 30 s")
		}
		if strings.Contains(stderr.String(), pgPassword) {
			t.Errorf("the worker's log shows the store password")
		}
	}()
	var owner datadir.Owner
	waitFor(t, "the worker to record its HTTP address", func() bool {
		o, running, err := datadir.Running(dir)
		owner = o
		return err == nil && running && o.HTTPAddr != ""
	})
	base := "http://" + owner.HTTPAddr

	var (
		mu        sync.Mutex
		published int
	)
	// publish publishes n new events; during a bus outage a Kafka
	// publish waits for the broker to come back.
	publish := func(n int) error {
		mu.Lock()
		from := published
		published += n
		mu.Unlock()
		msgs := make([]*bus.Message, n)
		for i := range msgs {
			k := fmt.Sprintf("k%05d", from+i)
			msgs[i] = &bus.Message{Topic: testTopic, Key: k, Value: fmt.Appendf(nil, `{"key":%q}`, k)}
		}
		pctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return eb.pub.Publish(pctx, msgs...)
	}
	counted := func(what string) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			mu.Lock()
			want := published
			mu.Unlock()
			c := sinkCounts(t, direct.DB())
			if len(c) == want {
				for k, n := range c {
					if n != 1 {
						t.Fatalf("%s: key %s counted %d times", what, k, n)
					}
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d of %d events counted after 2 minutes:\n%s", what, len(c), want, stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	must(publish(100))
	counted("before the outages")
	waitReady(t, base, http.StatusOK, "ready")

	// PostgreSQL goes away: the worker is not ready and says why.
	must(pgProxy.Set(tcpproxy.Refuse))
	must(publish(100))
	body := waitReady(t, base, http.StatusServiceUnavailable,
		"not ready: store postgres://postgres:****@"+pgProxy.Addr()+"/", "connection refused")
	if strings.Contains(body, pgPassword) {
		t.Fatalf("/readyz shows the password: %s", body)
	}
	t.Logf("PostgreSQL down: %s", body)
	time.Sleep(2 * time.Second) // a few failed batches
	must(pgProxy.Set(tcpproxy.Forward))
	waitReady(t, base, http.StatusOK, "ready")
	counted("after PostgreSQL came back")

	// The bus goes away; events published meanwhile (on Kafka, a publish
	// that waits for the broker).
	must(eb.proxy.Set(tcpproxy.Refuse))
	sent := make(chan error, 1)
	go func() { sent <- publish(100) }()
	body = waitReady(t, base, http.StatusServiceUnavailable, "not ready: bus "+eb.url+": ", eb.down)
	t.Logf("bus down: %s", body)
	time.Sleep(2 * time.Second)
	must(eb.proxy.Set(tcpproxy.Forward))
	must(<-sent)
	waitReady(t, base, http.StatusOK, "ready")
	counted("after the bus came back")

	// Connections cut while events flow.
	flowing := make(chan error, 1)
	go func() {
		for range 100 {
			if err := publish(10); err != nil {
				flowing <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		flowing <- nil
	}()
	for i := range 4 {
		time.Sleep(150 * time.Millisecond)
		if i%2 == 0 {
			eb.proxy.Cut()
		} else {
			pgProxy.Cut()
		}
	}
	must(<-flowing)
	counted("after connections were cut while events flowed")
	waitReady(t, base, http.StatusOK, "ready")
	t.Logf("%d events counted once each", published)
}

// TestCaptureRidesOutPostgresRestart: `podium activities capture` streams
// the changes of a PostgreSQL table whose connections — the replication
// connection included — go through a proxy. The proxy cuts them and
// refuses new ones for a few seconds, as a PostgreSQL restart does; the
// command keeps running, and every change written before, during and after
// reaches the topic, in order, once in effect (events read again after the
// restart carry their event id and are dropped as the sinks drop them,
// with cdc.Dedup).
func TestCaptureRidesOutPostgresRestart(t *testing.T) {
	pgURL := storetest.URL(t, store.Postgres) // skips without PostgreSQL
	ctx := context.Background()
	direct, err := store.Open(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	var level string
	if err := direct.DB().QueryRow(`SHOW wal_level`).Scan(&level); err != nil || level != "logical" {
		t.Skipf("the PostgreSQL of %s has wal_level %q (%v), not logical", storetest.PostgresEnv, level, err)
	}
	if err := activities.Migrate(ctx, direct); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	pgProxy := tcpproxy.New(t, u.Host)
	u.Host = pgProxy.Addr()
	// A capture name of its own: slots and publications are per database,
	// which other tests share.
	var r [4]byte
	_, _ = rand.Read(r[:])
	name := "t" + hex.EncodeToString(r[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		p, err := cdc.NewPostgres(cdc.Config{Name: name, URL: pgURL})
		if err == nil {
			err = p.Drop(ctx)
		}
		if err != nil {
			t.Errorf("drop the capture's slot and publication: %v", err)
		}
	})

	// Changes: op, id and distance, as the events must tell them.
	var want []string
	dist := 0.0
	write := func(op cdc.Op, id int64) {
		t.Helper()
		var err error
		dist++
		switch op {
		case cdc.OpDelete:
			err = activities.Delete(ctx, direct.DB(), id)
		default:
			err = activities.Upsert(ctx, direct.DB(), activities.Activity{ID: id, EmployeeID: "emp-001", SportType: "run",
				StartTime: time.Date(2025, 5, 1, 7, 0, 0, 0, time.UTC), DistanceM: dist, ElapsedS: 600, Source: activities.SourceAPI})
		}
		if err != nil {
			t.Fatalf("write %s %d: %v", op, id, err)
		}
		if op == cdc.OpDelete {
			want = append(want, fmt.Sprintf("%s %d", op, id))
		} else {
			want = append(want, fmt.Sprintf("%s %d %.0f", op, id, dist))
		}
	}
	nextID := int64(1)
	changes := func(n int) { // inserts, then an update and a delete of them
		for range n {
			write(cdc.OpCreate, nextID)
			if nextID%3 == 0 {
				write(cdc.OpUpdate, nextID-1)
				write(cdc.OpDelete, nextID-2)
			}
			nextID++
		}
	}
	for range 10 { // the snapshot
		write(cdc.OpRead, nextID)
		nextID++
	}

	dir := t.TempDir()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var stderr lockedBuffer
	captured := make(chan int, 1)
	env := map[string]string{"PODIUM_ACTIVITIES_CAPTURE_NAME": name}
	go func() {
		a := newApp(io.Discard, &stderr, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		captured <- a.run(runCtx, []string{"--data-dir", dir, "--log-level", "warn", "--store", u.String(), "activities", "capture"})
	}()
	waitFor(t, "the capture to start its bus", func() bool {
		o, running, err := datadir.Running(dir)
		return err == nil && running && o.NATSURL != ""
	})
	b := clientBus(t, dir)
	c, err := b.Consume(ctx, bus.ConsumerConfig{Topic: activities.TopicActivities, Start: bus.Earliest})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var (
		got   []string
		ids   = map[string]int{}
		dedup = cdc.NewDedup(0)
	)
	// read reads until the events of every change written so far arrived.
	read := func(what string) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for len(got) < len(want) {
			select {
			case code := <-captured:
				t.Fatalf("%s: the capture exited %d:\n%s", what, code, stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d of %d events after 2 minutes:\n%s", what, len(got), len(want), stderr.String())
			}
			fctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			msgs, _ := c.Fetch(fctx, 1000)
			cancel()
			for _, m := range msgs {
				ids[m.ID]++
				if dedup.Seen(m.ID) {
					continue
				}
				ch, err := cdc.DecodeMessage(m)
				if err != nil {
					t.Fatalf("decode %s: %v", m.Value, err)
				}
				if ch.Tombstone {
					continue // after each delete (tombstones.on.delete)
				}
				if ch.After != nil {
					got = append(got, fmt.Sprintf("%s %d %.0f", ch.Op, ch.ID, ch.After.DistanceM))
				} else {
					got = append(got, fmt.Sprintf("%s %d", ch.Op, ch.ID))
				}
			}
		}
	}

	read("the snapshot")
	changes(30)
	read("before the restart")

	// PostgreSQL "restarts": every connection cut, new ones refused.
	if err := pgProxy.Set(tcpproxy.Refuse); err != nil {
		t.Fatal(err)
	}
	changes(30) // written meanwhile (directly)
	time.Sleep(3 * time.Second)
	if err := pgProxy.Set(tcpproxy.Forward); err != nil {
		t.Fatal(err)
	}
	changes(30)
	read("after the restart")
	// Cut once more while changes are written.
	go pgProxy.Cut()
	changes(30)
	read("after a cut")

	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("event %d is %q, want %q (%d events, want %d)", i, got[i], want[i], len(got), len(want))
			}
		}
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	again := 0
	for _, n := range ids {
		again += n - 1
	}
	t.Logf("%d changes, each once after dropping %d events published again; the capture's log:\n%s", len(want), again, stderr.String())
	if !strings.Contains(stderr.String(), "change-data-capture failed; restarting") {
		t.Errorf("the capture never noticed the restart (did the replication go through the proxy?)")
	}
	stop()
	select {
	case code := <-captured:
		if code != 0 {
			t.Errorf("the capture exited %d:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Error("the capture did not stop within 30 s")
	}
}
