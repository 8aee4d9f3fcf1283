package web

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/podiumhq/podium/internal/config"
)

// Limits bound what one client can hold of an HTTP server: how long it may
// take to send a request, to read an answer, to keep an idle connection,
// how large a body it may send, and how many live-update streams (/events)
// the server keeps at once.
type Limits struct {
	// ReadTimeout bounds the reading of a whole request, body included: a
	// client trickling its body (slowloris) is cut off after it.
	ReadTimeout time.Duration
	// WriteTimeout bounds the writing of an answer. A live-update stream
	// extends it before each event it writes, so it lives on.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends no request.
	IdleTimeout time.Duration
	// MaxBody caps a request body, in bytes (a handler may cap lower).
	MaxBody int64
	// SSEMaxClients caps the live-update streams; one more is answered 503.
	SSEMaxClients int
}

// readHeaderTimeout bounds the reading of a request's headers.
const readHeaderTimeout = 10 * time.Second

// The configuration keys of Settings.
const (
	KeyReadTimeout   = "web.read_timeout"
	KeyWriteTimeout  = "web.write_timeout"
	KeyIdleTimeout   = "web.idle_timeout"
	KeyMaxBody       = "web.max_body"
	KeySSEMaxClients = "web.sse_max_clients"
)

// Settings returns the HTTP server's limits, to register with
// config.Register.
func Settings() []config.Setting {
	positive := func(v string) error {
		if d, err := config.ParseDuration(v); err == nil && d <= 0 {
			return errors.New("must be positive, e.g. 30s")
		}
		return nil
	}
	return []config.Setting{
		{Key: KeyReadTimeout, Env: "PODIUM_HTTP_READ_TIMEOUT", Default: "30s", Kind: config.KindDuration, Check: positive,
			Usage: "HTTP server: longest time to read a request, body included (a slower client is cut off)"},
		{Key: KeyWriteTimeout, Env: "PODIUM_HTTP_WRITE_TIMEOUT", Default: "60s", Kind: config.KindDuration, Check: positive,
			Usage: "HTTP server: longest time to write an answer (live-update streams extend it at each event)"},
		{Key: KeyIdleTimeout, Env: "PODIUM_HTTP_IDLE_TIMEOUT", Default: "120s", Kind: config.KindDuration, Check: positive,
			Usage: "HTTP server: how long an idle keep-alive connection is kept"},
		{Key: KeyMaxBody, Env: "PODIUM_HTTP_MAX_BODY", Default: "1MiB", Kind: config.KindBytes,
			Usage: "HTTP server: largest request body, e.g. 1MiB (larger ones are answered 413)"},
		{Key: KeySSEMaxClients, Env: "PODIUM_HTTP_SSE_MAX_CLIENTS", Default: "500", Kind: config.KindInt,
			Usage: "HTTP server: most live-update streams (/events) at once; one more is answered 503"},
	}
}

// LimitsFrom returns the limits of the loaded configuration (the settings
// of Settings must be registered).
func LimitsFrom(cfg config.Config) Limits {
	return Limits{
		ReadTimeout:   cfg.Get(KeyReadTimeout).Duration(),
		WriteTimeout:  cfg.Get(KeyWriteTimeout).Duration(),
		IdleTimeout:   cfg.Get(KeyIdleTimeout).Duration(),
		MaxBody:       cfg.Get(KeyMaxBody).Int(),
		SSEMaxClients: int(cfg.Get(KeySSEMaxClients).Int()),
	}
}

// DefaultLimits are the limits of the settings' defaults.
var DefaultLimits = Limits{
	ReadTimeout:   30 * time.Second,
	WriteTimeout:  60 * time.Second,
	IdleTimeout:   120 * time.Second,
	MaxBody:       1 << 20,
	SSEMaxClients: 500,
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxBody <= 0 {
		l.MaxBody = d.MaxBody
	}
	if l.SSEMaxClients <= 0 {
		l.SSEMaxClients = d.SSEMaxClients
	}
	return l
}

// HTTPServer returns an http.Server serving h within l: every podium HTTP
// server is built here. log receives the server's errors (nil discards
// them).
func HTTPServer(h http.Handler, l Limits, log *slog.Logger) *http.Server {
	l = l.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           http.MaxBytesHandler(h, l.MaxBody),
		ReadHeaderTimeout: min(readHeaderTimeout, l.ReadTimeout),
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
