package datadir

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// holdEnv makes the test binary, run as a child, take the lock of the data
// dir it names, print "locked" and sleep until killed.
const holdEnv = "PODIUM_DATADIR_TEST_HOLD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdEnv); dir != "" {
		l, err := Acquire(dir, "serve")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		if err := l.Publish(Owner{NATSURL: "nats://127.0.0.1:4999", HTTPAddr: "localhost:8080"}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Println("locked")
		time.Sleep(time.Hour)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestAcquireCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	l, err := Acquire(dir, "serve")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&^0o750 != 0 {
		t.Errorf("data dir mode = %v, want at most 0750", perm)
	}
	if o := l.Owner(); o.PID != os.Getpid() || o.Command != "serve" || o.Started.IsZero() {
		t.Errorf("Owner() = %+v", o)
	}
}

func TestLockConflictsInOneProcess(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, "serve")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir, "demo")
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire error = %v, want ErrLocked", err)
	}
	var le *LockedError
	if !errors.As(err, &le) || le.Owner.PID != os.Getpid() || le.Owner.Command != "serve" {
		t.Errorf("error %v does not name the holder", err)
	}
	for _, want := range []string{"data dir " + dir + " is in use by `podium serve` (pid " + strconv.Itoa(os.Getpid()) + ") since ", "stop it or use --data-dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	o, ok, err := Running(dir)
	if err != nil || !ok || o.PID != os.Getpid() || o.Command != "serve" {
		t.Errorf("Running = %+v, %v, %v; want this process running serve", o, ok, err)
	}

	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if _, ok, err := Running(dir); ok || err != nil {
		t.Errorf("Running after Release = %v, %v; want false", ok, err)
	}
	l2, err := Acquire(dir, "demo")
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	defer l2.Release()
	if err := l.Publish(Owner{NATSURL: "x"}); err == nil {
		t.Error("Publish on a released lock succeeded")
	}
}

func TestPublish(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, "worker")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	started := l.Owner().Started
	if err := l.Publish(Owner{NATSURL: "nats://127.0.0.1:41234", HTTPAddr: "localhost:8080"}); err != nil {
		t.Fatal(err)
	}
	o, ok, err := Running(dir)
	if err != nil || !ok {
		t.Fatalf("Running = %v, %v", ok, err)
	}
	want := Owner{PID: os.Getpid(), Command: "worker", NATSURL: "nats://127.0.0.1:41234", HTTPAddr: "localhost:8080", Started: started}
	if !o.Started.Equal(want.Started) {
		t.Errorf("Started = %v, want %v", o.Started, want.Started)
	}
	o.Started = want.Started
	if o != want {
		t.Errorf("Running owner = %+v\nwant %+v", o, want)
	}
}

func TestRunningNothing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	if _, ok, err := Running(missing); ok || err != nil {
		t.Errorf("Running(missing dir) = %v, %v", ok, err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Running created %s", missing)
	}
	// A lock file left behind, not held, is not a running process; nor is a
	// stale owner record.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, LockFile), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := writeOwner(dir, Owner{PID: 1 << 22, Command: "serve"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := Running(dir); ok || err != nil {
		t.Errorf("Running(stale files) = %v, %v", ok, err)
	}
	l, err := Acquire(dir, "serve")
	if err != nil {
		t.Fatalf("Acquire over stale files: %v", err)
	}
	l.Release()
}

// TestKilledHolderIsNotStale runs a child that takes the lock, checks that
// it is seen, kills it with SIGKILL (no cleanup runs) and takes the lock.
func TestKilledHolderIsNotStale(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child said %q, %v; want locked", line, err)
	}

	o, ok, err := Running(dir)
	if err != nil || !ok {
		t.Fatalf("Running = %v, %v; want the child", ok, err)
	}
	if o.PID != cmd.Process.Pid || o.Command != "serve" || o.NATSURL != "nats://127.0.0.1:4999" {
		t.Errorf("Running owner = %+v, want the child (pid %d) with its NATS URL", o, cmd.Process.Pid)
	}
	_, err = Acquire(dir, "demo")
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("(pid %d)", cmd.Process.Pid)) {
		t.Fatalf("Acquire while the child holds the dir: %v", err)
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()

	if _, ok, err := Running(dir); ok || err != nil {
		t.Errorf("Running after the kill = %v, %v; want false", ok, err)
	}
	l, err := Acquire(dir, "serve")
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
}
