package jetstream

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"

	"github.com/podiumhq/podium/internal/bus"
)

// serverReadyTimeout bounds the wait for the embedded server to accept
// connections when ctx has no earlier deadline.
const serverReadyTimeout = 30 * time.Second

// startServer runs the embedded nats-server with JetStream storing in
// cfg.StoreDir and waits until it accepts connections.
func startServer(ctx context.Context, cfg Config, log *slog.Logger) (*server.Server, error) {
	if cfg.StoreDir == "" {
		return nil, fmt.Errorf("jetstream: embedded server: StoreDir is required when URL is empty")
	}
	if err := os.MkdirAll(cfg.StoreDir, 0o750); err != nil {
		return nil, fmt.Errorf("jetstream: embedded server: create store directory: %w", err)
	}
	host, port, err := listenAddr(cfg.Listen)
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName: "podium",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		NoLog:      cfg.Logger == nil,
		NoSigs:     true,
	}
	if cfg.Auth.Username != "" {
		// Every client shows the credentials (a local process without
		// them could otherwise publish anything). The server keeps a
		// bcrypt hash of the password (a random one: the lowest cost is
		// enough, and keeps each connection quick).
		hash, err := bcrypt.GenerateFromPassword([]byte(cfg.Auth.Password), bcrypt.MinCost)
		if err != nil {
			return nil, fmt.Errorf("jetstream: embedded server: hash the password: %w", err)
		}
		opts.Username, opts.Password = cfg.Auth.Username, string(hash)
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("jetstream: embedded server: %w", err)
	}
	if cfg.Logger != nil {
		srv.SetLoggerV2(serverLogger{log}, false, false, false)
	}
	srv.Start()
	wait := serverReadyTimeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		wait = max(time.Until(d), 0)
	}
	if !srv.ReadyForConnections(wait) || !srv.JetStreamEnabled() {
		srv.Shutdown()
		srv.WaitForShutdown()
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("jetstream: embedded server: %w", err)
		}
		return nil, fmt.Errorf("jetstream: embedded server on %s with store %s did not start within %v (JetStream enabled: %v)",
			net.JoinHostPort(host, strconv.Itoa(port)), cfg.StoreDir, wait, srv.JetStreamEnabled())
	}
	log.Debug("jetstream: embedded NATS server started", "url", clientURL(srv), "store", cfg.StoreDir)
	return srv, nil
}

// listenAddr parses Config.Listen; an empty address or port 0 means a
// random free port on the loopback interface.
func listenAddr(listen string) (string, int, error) {
	if listen == "" {
		return "127.0.0.1", server.RANDOM_PORT, nil
	}
	host, p, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("jetstream: embedded server: listen address %q: %w", listen, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("jetstream: embedded server: listen address %q: bad port", listen)
	}
	if port == 0 {
		// Port 0 means 4222 to nats-server; -1 asks for a random port.
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// clientURL returns the URL of srv, with a loopback host when it listens
// on every interface.
func clientURL(srv *server.Server) string {
	u, err := url.Parse(srv.ClientURL())
	if err != nil {
		return srv.ClientURL()
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	}
	return u.String()
}

// authOptions turns bus.Auth into NATS connection options.
func authOptions(a bus.Auth) ([]nats.Option, error) {
	var opts []nats.Option
	if a.Username != "" || a.Password != "" {
		opts = append(opts, nats.UserInfo(a.Username, a.Password))
	}
	if a.Token != "" {
		opts = append(opts, nats.Token(a.Token))
	}
	if a.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(a.CredsFile))
	}
	tlsCfg, err := a.TLSConfig()
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if tlsCfg != nil {
		opts = append(opts, nats.Secure(tlsCfg))
	}
	return opts, nil
}

// serverLogger routes the embedded server's log to slog: notices at debug
// level, warnings and errors at theirs.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) Noticef(format string, v ...any) {
	l.log.Debug("nats-server: " + fmt.Sprintf(format, v...))
}

func (l serverLogger) Warnf(format string, v ...any) {
	l.log.Warn("nats-server: " + fmt.Sprintf(format, v...))
}

// Fatalf logs at error level: the embedded server must never exit the
// process.
func (l serverLogger) Fatalf(format string, v ...any) {
	l.log.Error("nats-server: " + fmt.Sprintf(format, v...))
}

func (l serverLogger) Errorf(format string, v ...any) {
	l.log.Error("nats-server: " + fmt.Sprintf(format, v...))
}

func (l serverLogger) Debugf(format string, v ...any) {
	l.log.Debug("nats-server: " + fmt.Sprintf(format, v...))
}

func (l serverLogger) Tracef(format string, v ...any) {
	l.log.Debug("nats-server: " + fmt.Sprintf(format, v...))
}
