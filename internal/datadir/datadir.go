// Package datadir coordinates the podium processes that share a data dir.
//
// A long-running process (serve, demo, worker) owns the data dir: it holds an
// exclusive flock on <dir>/podium.lock for as long as it runs, and records
// who it is and where its embedded NATS server listens in
// <dir>/podium.owner.json. Other podium commands on the same dir must not
// open the embedded JetStream files; they call Running and, when a process
// holds the dir, reach the bus through its NATS URL.
//
// The kernel drops a flock when its process dies, however it dies, so a
// crashed process never leaves a stale lock behind. The lock file itself is
// never removed: removing it while another process has it open would let two
// processes lock two different files of the same name.
package datadir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// File names in the data dir.
const (
	LockFile  = "podium.lock"
	OwnerFile = "podium.owner.json"
)

// ErrLocked is wrapped by the errors of Acquire when another process holds
// the data dir. The error is a *LockedError naming the holder.
var ErrLocked = errors.New("data dir is in use")

// Owner describes the process holding a data dir.
type Owner struct {
	// PID is the holder's process id.
	PID int `json:"pid"`
	// Command is the podium command it runs ("serve", "demo", "worker").
	Command string `json:"command"`
	// NATSURL is where its embedded NATS server listens (a loopback
	// nats://127.0.0.1:port), empty until the server is up.
	NATSURL string `json:"nats_url,omitempty"`
	// HTTPAddr is the address of its HTTP server, empty if it has none.
	HTTPAddr string `json:"http_addr,omitempty"`
	// Started is when it took the lock.
	Started time.Time `json:"started"`
}

// LockedError is the error of Acquire on a data dir another process holds.
type LockedError struct {
	// Dir is the data dir.
	Dir string
	// Owner is the holder, as far as it recorded itself: zero if it has not
	// yet (it writes its record right after taking the lock).
	Owner Owner
}

func (e *LockedError) Error() string {
	o := e.Owner
	if o.PID == 0 {
		return fmt.Sprintf("data dir %s is in use by another podium process; stop it or use --data-dir", e.Dir)
	}
	cmd := "podium"
	if o.Command != "" {
		cmd += " " + o.Command
	}
	return fmt.Sprintf("data dir %s is in use by `%s` (pid %d) since %s; stop it or use --data-dir",
		e.Dir, cmd, o.PID, o.Started.Local().Format(time.DateTime))
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is a held data dir. Release it when done; the kernel releases it if
// the process dies first.
type Lock struct {
	dir string

	mu    sync.Mutex
	f     *os.File // the locked file, nil once released
	owner Owner
}

// Acquire takes the data dir dir for the podium command command ("serve",
// ...): it creates dir (mode 0750) if missing, takes an exclusive,
// non-blocking flock on dir/podium.lock and records an Owner with this
// process's id, command and start time. If another process holds the dir,
// the error is a *LockedError, wrapping ErrLocked, that names it.
//
// Two Acquire calls conflict even within one process: a flock belongs to an
// open file, and each call opens the file anew.
func Acquire(dir, command string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	locked, err := tryLock(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	if !locked {
		if o, held := holder(dir, f); held {
			_ = f.Close()
			return nil, &LockedError{Dir: dir, Owner: o}
		}
		// The holder released the lock meanwhile, and holder took it on f.
	}
	l := &Lock{dir: dir, f: f, owner: Owner{PID: os.Getpid(), Command: command, Started: time.Now().Round(0)}}
	if err := writeOwner(dir, l.owner); err != nil {
		_ = l.Release()
		return nil, err
	}
	return l, nil
}

// Dir returns the data dir.
func (l *Lock) Dir() string { return l.dir }

// Owner returns the record of l.
func (l *Lock) Owner() Owner {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.owner
}

// Publish records o as the owner of the data dir, typically once the
// embedded NATS server is up (NATSURL) and the HTTP server listens
// (HTTPAddr). Zero PID, Command and Started keep their current values.
func (l *Lock) Publish(o Owner) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errors.New("publish data dir owner: lock released")
	}
	if o.PID == 0 {
		o.PID = l.owner.PID
	}
	if o.Command == "" {
		o.Command = l.owner.Command
	}
	if o.Started.IsZero() {
		o.Started = l.owner.Started
	}
	if err := writeOwner(l.dir, o); err != nil {
		return err
	}
	l.owner = o
	return nil
}

// Release removes the owner record and releases the lock. Releasing twice
// is a no-op.
func (l *Lock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	var errs []error
	if err := os.Remove(filepath.Join(l.dir, OwnerFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove owner file: %w", err))
	}
	// Closing the file drops the flock.
	if err := l.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("release data dir lock: %w", err))
	}
	l.f = nil
	return errors.Join(errs...)
}

// Running reports whether a live process holds the data dir dir and, if so,
// its owner record. It creates nothing: a missing dir or lock file means
// nobody runs.
//
// The holder writes its record right after taking the lock and adds its NATS
// URL once its server is up: callers that need the URL and find it empty
// should retry shortly.
func Running(dir string) (Owner, bool, error) {
	f, err := os.Open(filepath.Join(dir, LockFile))
	if errors.Is(err, os.ErrNotExist) {
		return Owner{}, false, nil
	}
	if err != nil {
		return Owner{}, false, fmt.Errorf("open lock file: %w", err)
	}
	defer f.Close()
	locked, err := tryLock(f)
	if err != nil {
		return Owner{}, false, fmt.Errorf("probe %s: %w", f.Name(), err)
	}
	if locked {
		// Nobody holds it; closing the file (deferred) releases it at once.
		return Owner{}, false, nil
	}
	o, held := holder(dir, f)
	return o, held, nil
}

// holder reads the owner record of dir, whose lock file f another process
// holds. The record may be a moment behind the lock (the holder writes it
// right after locking) or left by a holder that died: holder retries
// briefly, re-probing the lock, until it finds the record of a live process.
// It returns false if the lock was released meanwhile, and then f holds
// it. After the retries it settles for the last record read, if any (the
// holder may live in another PID namespace, where its pid looks dead).
func holder(dir string, f *os.File) (Owner, bool) {
	var last Owner
	for range 20 {
		o, err := readOwner(dir)
		if err == nil && alive(o.PID) {
			return o, true
		}
		if err == nil {
			last = o
		}
		time.Sleep(10 * time.Millisecond)
		if locked, err := tryLock(f); err == nil && locked {
			return Owner{}, false
		}
	}
	return last, true
}

// readOwner reads the owner record of dir.
func readOwner(dir string) (Owner, error) {
	data, err := os.ReadFile(filepath.Join(dir, OwnerFile))
	if err != nil {
		return Owner{}, err
	}
	var o Owner
	if err := json.Unmarshal(data, &o); err != nil {
		return Owner{}, fmt.Errorf("parse %s: %w", OwnerFile, err)
	}
	return o, nil
}

// writeOwner writes the owner record of dir atomically (temporary file and
// rename), so that readers never see half of it.
func writeOwner(dir string, o Owner) error {
	data, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return fmt.Errorf("encode owner: %w", err)
	}
	tmp, err := os.CreateTemp(dir, OwnerFile+".*")
	if err != nil {
		return fmt.Errorf("write owner file: %w", err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write owner file: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write owner file: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, OwnerFile)); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write owner file: %w", err)
	}
	return nil
}
