// Package jetstream is the NATS JetStream engine of the podium bus.
//
// Each topic is one stream, named "PODIUM_" plus an encoding of the topic,
// whose only subject is the topic itself. Messages carry their key in the
// Podium-Key header and their ID in Nats-Msg-Id, so the stream's duplicate
// window drops re-published messages. A consumer group is a durable pull
// consumer with AckAll acknowledgements; a consumer without a group is an
// ordered consumer. There is one partition, 0, and a message's offset is
// its stream sequence.
//
// With an empty Config.URL, Open runs a nats-server in-process that other
// podium processes reach through ClientURL.
package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/podiumhq/podium/internal/bus"
)

var _ bus.Bus = (*Bus)(nil)

// Config configures the JetStream engine.
type Config struct {
	// URL of an external NATS server ("nats://host:4222"; a comma-separated
	// list is allowed). Empty runs an embedded nats-server in-process.
	URL string
	// StoreDir is the JetStream file storage directory of the embedded
	// server; required when URL is empty.
	StoreDir string
	// Listen is the host:port the embedded server listens on. Empty (or
	// port 0) picks a free port on 127.0.0.1; other processes connect
	// through ClientURL.
	Listen string
	// Auth holds the credentials and TLS settings of an external server.
	// For the embedded server, its Username and Password are the only
	// credentials the server accepts, of every client (this Bus's own
	// in-process connection included); empty lets any client in.
	Auth bus.Auth
	// DuplicateWindow is how long a stream remembers message IDs to drop
	// duplicates (default 2 minutes; capped by the topic's MaxAge).
	DuplicateWindow time.Duration
	// DefaultMaxAge is the retention of topics created on first use
	// (0 keeps messages forever).
	DefaultMaxAge time.Duration
	// DefaultMaxBytes is the size limit of topics created on first use
	// (0 means no limit).
	DefaultMaxBytes int64
	// Logger receives connection events and, for the embedded server, its
	// log. Nil discards them.
	Logger *slog.Logger
}

const (
	defaultDuplicateWindow = 2 * time.Minute
	// publishMaxPending caps the asynchronous publishes awaiting an ack.
	publishMaxPending = 16384
	// publishAckTimeout fails a publish whose ack never comes.
	publishAckTimeout = time.Minute
	// publishStallWait is how long a publish waits for room among the
	// pending acks before failing.
	publishStallWait = 30 * time.Second
)

// Bus is the JetStream engine. It implements bus.Bus and is safe for
// concurrent use.
type Bus struct {
	cfg      Config
	log      *slog.Logger
	srv      *server.Server // embedded server, nil for an external one
	nc       *nats.Conn
	js       jetstream.JetStream
	url      string
	canReset bool // the server has the consumer reset API (2.14+)

	closed atomic.Bool
	// connErr is the last error of the connection: why it dropped, then
	// why each reconnection failed (Ping reports it).
	connErr atomic.Pointer[error]

	mu        sync.Mutex
	known     map[string]bool // topics whose stream is known to exist
	consumers map[*consumer]struct{}
}

// Open connects to the NATS server of cfg, or starts the embedded one, and
// checks that JetStream is available.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.DuplicateWindow <= 0 {
		cfg.DuplicateWindow = defaultDuplicateWindow
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bus{
		cfg:       cfg,
		log:       log,
		known:     map[string]bool{},
		consumers: map[*consumer]struct{}{},
	}
	opts := []nats.Option{
		nats.Name("podium"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("jetstream: disconnected from NATS", "err", err)
				b.connErr.Store(&err)
				b.lostConnection(err)
			}
		}),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.connErr.Store(&err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("jetstream: reconnected to NATS", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Warn("jetstream: NATS error", "subject", subject, "err", err)
		}),
	}
	if cfg.URL == "" {
		srv, err := startServer(ctx, cfg, log)
		if err != nil {
			return nil, err
		}
		b.srv = srv
		b.url = clientURL(srv)
		opts = append(opts, nats.InProcessServer(srv))
		if cfg.Auth.Username != "" {
			opts = append(opts, nats.UserInfo(cfg.Auth.Username, cfg.Auth.Password))
		}
	} else {
		b.url = cfg.URL
		authOpts, err := authOptions(cfg.Auth)
		if err != nil {
			return nil, err
		}
		opts = append(opts, authOpts...)
	}
	if err := b.connect(ctx, opts); err != nil {
		b.shutdownServer()
		return nil, err
	}
	return b, nil
}

// connect opens the NATS connection and the JetStream context.
func (b *Bus) connect(ctx context.Context, opts []nats.Option) error {
	// Errors leave the URL out: callers name it, masked their way.
	nc, err := nats.Connect(b.url, opts...)
	if err != nil {
		return fmt.Errorf("jetstream: connect: %w", err)
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(publishMaxPending),
		jetstream.WithPublishAsyncTimeout(publishAckTimeout),
	)
	if err != nil {
		nc.Close()
		return fmt.Errorf("jetstream: new JetStream context: %w", err)
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		nc.Close()
		return fmt.Errorf("jetstream: JetStream is not available on the server: %w", err)
	}
	b.nc, b.js = nc, js
	b.canReset = versionAtLeast(nc.ConnectedServerVersion(), 2, 14)
	return nil
}

// lostConnection tells the open consumers that the connection dropped.
func (b *Bus) lostConnection(err error) {
	for _, c := range b.openConsumers() {
		c.lostConnection(err)
	}
}

// openConsumers returns the consumers open now.
func (b *Bus) openConsumers() []*consumer {
	b.mu.Lock()
	defer b.mu.Unlock()
	open := make([]*consumer, 0, len(b.consumers))
	for c := range b.consumers {
		open = append(open, c)
	}
	return open
}

// ClientURL returns the URL other clients connect to: the embedded server's
// address, or Config.URL.
func (b *Bus) ClientURL() string { return b.url }

// Close closes the consumers still open, the connection and the embedded
// server. Later operations return bus.ErrClosed.
func (b *Bus) Close() error {
	if !b.closed.CompareAndSwap(false, true) {
		return nil
	}
	for _, c := range b.openConsumers() {
		_ = c.Close()
	}
	// Close flushes what is buffered; publishes and commits have been
	// acknowledged already.
	b.nc.Close()
	b.shutdownServer()
	return nil
}

// Ping reports whether the connection to the NATS server is up and
// JetStream answers. While the client reconnects it says so at once, with
// the last connection error.
func (b *Bus) Ping(ctx context.Context) error {
	if err := b.check(); err != nil {
		return err
	}
	if st := b.nc.Status(); st != nats.CONNECTED {
		if err := b.connErr.Load(); err != nil {
			return fmt.Errorf("jetstream: not connected to NATS (%s): %w", strings.ToLower(st.String()), *err)
		}
		return fmt.Errorf("jetstream: not connected to NATS (%s)", strings.ToLower(st.String()))
	}
	if _, err := b.js.AccountInfo(ctx); err != nil {
		return b.wrap(err, "JetStream does not answer")
	}
	return nil
}

// shutdownServer stops the embedded server, if any, and waits for it.
func (b *Bus) shutdownServer() {
	if b.srv == nil {
		return
	}
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
}

// check returns bus.ErrClosed once the bus is closed.
func (b *Bus) check() error {
	if b.closed.Load() {
		return bus.ErrClosed
	}
	return nil
}

// wrap adds context to err, and bus.ErrClosed when the bus was closed
// while the operation ran.
func (b *Bus) wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if b.closed.Load() && !errors.Is(err, bus.ErrClosed) {
		err = fmt.Errorf("%w: %w", bus.ErrClosed, err)
	}
	return fmt.Errorf("jetstream: "+format+": %w", append(args, err)...)
}

// versionAtLeast reports whether server version v ("2.14.1") is at least
// major.minor.
func versionAtLeast(v string, major, minor int) bool {
	v = strings.TrimPrefix(v, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
