// Package platform opens podium's engines from the configuration — the bus and
// the store chosen by URL — and runs processors on them. It owns the rule
// "one data dir, several commands": a long-running process holds the data
// dir; other commands reach its embedded bus through the loopback NATS URL
// it records there and read the store directly.
package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/bus/jetstream"
	"github.com/podiumhq/podium/internal/bus/kafka"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/datadir"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// Mode says how a command uses the data dir.
type Mode int

const (
	// Server is a long-running process (serve, demo, worker): it holds the
	// data dir and runs the embedded engines for the other commands.
	Server Mode = iota
	// Client is a short command: it uses the running process's embedded bus
	// if there is one, or opens the engines itself for its duration.
	Client
)

// App is an open bus and store with the process's metrics.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	Bus      bus.Bus
	Store    *store.Store
	Registry *prometheus.Registry
	Metrics  *stream.Metrics
	// Hub carries live updates to the browsers of this process's pages; the
	// web server feeds it with the notices of every process's stages.
	Hub *web.Hub
	// Notices carries this process's stages' notices (live updates) to the
	// pages of every process, through the bus: the stages send on it after
	// their commits; serve, worker and demo run it.
	Notices *stream.Notices
	// Remote is true when the bus is the embedded engine of another podium
	// process, reached over loopback.
	Remote bool

	lock *datadir.Lock
}

// Open opens the bus and the store for command ("serve", "topics list", …).
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, mode Mode, command string) (*App, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{Config: cfg, Log: log, Registry: prometheus.NewRegistry(), Hub: web.NewHub()}
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.Metrics = stream.NewMetrics(a.Registry)
	ok := false
	defer func() {
		if !ok {
			_ = a.Close()
		}
	}()
	if err := a.openBus(ctx, mode, command); err != nil {
		return nil, err
	}
	a.Notices = stream.NewNotices(a.Bus, log)
	s, err := store.Open(ctx, cfg.ResolvedStore())
	if err != nil {
		return nil, err
	}
	a.Store = s
	ok = true
	return a, nil
}

// connectTimeout bounds the wait for an external bus's first answer, so
// that a command started against a bus that is down or hangs says so
// within seconds (the store has its own, store.Open's).
const connectTimeout = 8 * time.Second

func (a *App) openBus(ctx context.Context, mode Mode, command string) error {
	cfg := a.Config
	u := cfg.Bus
	external := strings.HasPrefix(u, "nats://") || strings.HasPrefix(u, "tls://") ||
		strings.HasPrefix(u, "kafka://") || strings.HasPrefix(u, "redpanda://")
	switch {
	case u == "":
		if err := a.openEmbedded(ctx, mode, command); err != nil {
			return err
		}
	case !external:
		return fmt.Errorf("unknown bus %q: use nats://host:4222, kafka://host:9092 or leave it empty for the embedded JetStream", config.MaskURL(u))
	default:
		if mode == Server {
			if err := a.takeLock(command); err != nil {
				return err
			}
		}
		b, err := a.openExternal(ctx, u)
		if err != nil {
			return err
		}
		a.Bus = b
	}
	a.Bus = stream.CountPublished(a.Bus, a.Registry)
	return nil
}

// openExternal connects to the NATS or Kafka cluster of URL u. Its error
// is one line naming the URL, its password masked, and the cause.
func (a *App) openExternal(ctx context.Context, u string) (bus.Bus, error) {
	cfg := a.Config
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	var (
		b   bus.Bus
		err error
	)
	// Assign b only on success: a nil *jetstream.Bus or *kafka.Bus in
	// the interface is not a nil bus.Bus.
	if strings.HasPrefix(u, "kafka://") || strings.HasPrefix(u, "redpanda://") {
		var brokers []string
		if brokers, err = kafka.ParseURL(u); err != nil {
			return nil, err
		}
		var kb *kafka.Bus
		if kb, err = kafka.Open(cctx, kafka.Config{Brokers: brokers, Auth: cfg.BusAuthConfig(),
			DefaultMaxAge: cfg.Retention.MaxAge, DefaultMaxBytes: cfg.Retention.MaxBytes, Logger: a.Log,
			SessionTimeout:   cfg.Get(config.KeyKafkaSessionTimeout).Duration(),
			RebalanceTimeout: cfg.Get(config.KeyKafkaRebalanceTimeout).Duration()}); err == nil {
			b = kb
		}
	} else {
		var jb *jetstream.Bus
		if jb, err = jetstream.Open(cctx, jetstream.Config{URL: u, Auth: cfg.BusAuthConfig(),
			DefaultMaxAge: cfg.Retention.MaxAge, DefaultMaxBytes: cfg.Retention.MaxBytes, Logger: a.Log}); err == nil {
			b = jb
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v: %w", connectTimeout, err)
		}
		return nil, &EngineError{Engine: "bus", URL: u, Err: err,
			Hint: "is the server up and the URL right? check --bus or PODIUM_BUS, and the bus credentials"}
	}
	return b, nil
}

// EngineError says which engine (bus or store) is not reachable, at which
// URL, and why, in one line with its secrets masked.
type EngineError struct {
	Engine string // "bus" or "store"
	URL    string
	Err    error
	// Hint says what to check; empty for none.
	Hint string
}

func (e *EngineError) Error() string {
	msg := e.Engine + " " + e.URL + ": " + strings.Join(strings.Fields(e.Err.Error()), " ")
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return config.MaskURL(msg)
}

func (e *EngineError) Unwrap() error { return e.Err }

// openEmbedded runs the embedded JetStream in the data dir, or connects to
// the one a running podium process serves.
func (a *App) openEmbedded(ctx context.Context, mode Mode, command string) error {
	dir := a.Config.DataDir
	if mode == Client {
		owner, running, err := datadir.Running(dir)
		if err != nil {
			return err
		}
		if running {
			url, err := waitNATSURL(ctx, dir, owner)
			if err != nil {
				return err
			}
			a.Log.Debug("using the bus of the running podium process", "pid", owner.PID, "command", owner.Command, "url", url)
			auth, err := EmbeddedAuth(dir)
			if err != nil {
				return err
			}
			b, err := jetstream.Open(ctx, jetstream.Config{URL: url, Auth: auth, Logger: a.Log,
				DefaultMaxAge: a.Config.Retention.MaxAge, DefaultMaxBytes: a.Config.Retention.MaxBytes})
			if err != nil {
				return fmt.Errorf("connect to the bus of `podium %s` (pid %d) at %s: %w", owner.Command, owner.PID, url, err)
			}
			a.Bus, a.Remote = b, true
			return nil
		}
	}
	if err := a.takeLock(command); err != nil {
		return err
	}
	creds, err := datadir.NATSCredentials(dir, true)
	if err != nil {
		return err
	}
	b, err := jetstream.Open(ctx, jetstream.Config{StoreDir: filepath.Join(dir, "jetstream"), Logger: a.Log,
		Auth:          bus.Auth{Username: creds.User, Password: creds.Password},
		DefaultMaxAge: a.Config.Retention.MaxAge, DefaultMaxBytes: a.Config.Retention.MaxBytes})
	if err != nil {
		return fmt.Errorf("start the embedded bus in %s: %w", dir, err)
	}
	a.Bus = b
	o := a.lock.Owner()
	o.NATSURL = b.ClientURL()
	return a.lock.Publish(o)
}

// EmbeddedAuth returns the credentials of the embedded bus of data dir
// dir, which its NATS server requires of every client (generated by the
// process that runs it: see datadir.NATSCredentials).
func EmbeddedAuth(dir string) (bus.Auth, error) {
	c, err := datadir.NATSCredentials(dir, false)
	if err != nil {
		return bus.Auth{}, fmt.Errorf("the embedded bus of data dir %s: %w", dir, err)
	}
	return bus.Auth{Username: c.User, Password: c.Password}, nil
}

// waitNATSURL waits a little for a process that has just taken the data
// dir to record its NATS URL.
func waitNATSURL(ctx context.Context, dir string, o datadir.Owner) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for o.NATSURL == "" {
		if time.Now().After(deadline) {
			return "", fmt.Errorf("podium process %d holds data dir %s but has not started its bus; wait for it or stop it", o.PID, dir)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		var running bool
		var err error
		if o, running, err = datadir.Running(dir); err != nil {
			return "", err
		} else if !running {
			return "", fmt.Errorf("the podium process holding data dir %s stopped; run the command again", dir)
		}
	}
	return o.NATSURL, nil
}

func (a *App) takeLock(command string) error {
	l, err := datadir.Acquire(a.Config.DataDir, command)
	if err != nil {
		return err
	}
	a.lock = l
	return nil
}

// PublishHTTP records the HTTP address of a server process in the data dir.
func (a *App) PublishHTTP(addr string) error {
	if a.lock == nil {
		return nil
	}
	o := a.lock.Owner()
	o.HTTPAddr = addr
	return a.lock.Publish(o)
}

// Close closes the bus and the store and releases the data dir.
func (a *App) Close() error {
	var errs []error
	if a.Bus != nil {
		errs = append(errs, a.Bus.Close())
	}
	if a.Store != nil {
		errs = append(errs, a.Store.Close())
	}
	if a.lock != nil {
		errs = append(errs, a.lock.Release())
	}
	return errors.Join(errs...)
}

// readyTimeout bounds each engine's readiness check: probes want a
// quick answer, and an engine that takes longer is not ready.
const readyTimeout = 3 * time.Second

// Ready reports whether the bus and the store answer, checking both at
// once. Its error has a line per engine that is not ready, an EngineError
// naming the engine, its URL (password masked) and the cause.
func (a *App) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	busURL := a.Config.Bus
	if busURL == "" {
		busURL = "embedded JetStream in " + a.Config.DataDir
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Store.DB().PingContext(ctx); err != nil {
			errs[0] = &EngineError{Engine: "store", URL: a.Config.ResolvedStore(), Err: err}
		}
	})
	wg.Go(func() {
		if err := a.Bus.Ping(ctx); err != nil {
			errs[1] = &EngineError{Engine: "bus", URL: busURL, Err: err}
		}
	})
	wg.Wait()
	return errors.Join(errs...)
}

// Env returns the environment processors run in.
func (a *App) Env() stream.Env {
	return stream.Env{Bus: a.Bus, Store: a.Store, Logger: a.Log, Metrics: a.Metrics}
}
