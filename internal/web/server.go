// Package web serves podium's HTTP endpoints: health and readiness probes,
// Prometheus metrics and (added by the pipelines) the dashboard.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures a Server.
type Config struct {
	// Gatherer serves /metrics; nil serves an empty page.
	Gatherer prometheus.Gatherer
	// Registerer, if set, gets the server's own series: request durations
	// by route and status (podium_http_request_duration_seconds) and the
	// browsers connected to /events (podium_sse_clients).
	Registerer prometheus.Registerer
	// Ready reports whether the process can do its work (bus and store
	// reachable); nil means always ready. /readyz answers 503 with a line
	// per line of its error.
	Ready func(ctx context.Context) error
	// Logger logs server errors; nil discards them.
	Logger *slog.Logger
	// Hub serves /events; nil makes a new one. Producers of live updates
	// that start before the server (processors) share the process's hub.
	Hub *Hub
}

// Server is podium's HTTP server. Register more handlers on Mux before Serve.
type Server struct {
	Mux *http.ServeMux
	// Hub streams live updates to the browsers at /events.
	Hub       *Hub
	cfg       Config
	log       *slog.Logger
	nav       []NavItem
	errorTmpl *template.Template
	bg        []func(ctx context.Context)
	requests  *prometheus.HistogramVec
}

// New returns a server with /healthz, /readyz and /metrics.
func New(cfg Config) *Server {
	s := &Server{Mux: http.NewServeMux(), Hub: cfg.Hub, cfg: cfg, log: cfg.Logger}
	if s.Hub == nil {
		s.Hub = NewHub()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.errorTmpl = s.Template(templateFiles, "templates/error.html")
	s.Mux.Handle("GET /events", s.Hub)
	static, _ := fs.Sub(staticFiles, "static")
	s.Mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	s.Mux.HandleFunc("GET /readyz", s.ready)
	g := cfg.Gatherer
	if g == nil {
		g = prometheus.NewRegistry()
	}
	s.Mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: slogPrinter{s.log}}))
	if cfg.Registerer != nil {
		s.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "podium_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route (the pattern it matched) and status code; the event stream /events is counted in podium_sse_clients instead.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "code"})
		cfg.Registerer.MustRegister(s.requests, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "podium_sse_clients", Help: "Browsers connected to the live-update stream /events.",
		}, func() float64 { return float64(s.Hub.Clients()) }))
	}
	return s
}

// instrument times each request of h into podium_http_request_duration_seconds.
func (s *Server) instrument(h http.Handler) http.Handler {
	if s.requests == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		route := r.Pattern // set by the ServeMux when a pattern matched
		if route == "" {
			route = "unmatched"
		}
		if route == "GET /events" {
			return // a stream, as long as the browser stays
		}
		s.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status code a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush lets the event stream flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			// A line per cause (errors.Join), each saying what is not
			// ready and why.
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintf(w, "not ready: %s\n", line)
			}
			return
		}
	}
	fmt.Fprintln(w, "ready")
}

// Background registers fn to run alongside the server: Serve starts it with
// its context and waits for it to return before it returns itself. Pages use
// it for work that lives as long as the server, such as a bus consumer that
// keeps in-memory state for them. Call it before Serve.
func (s *Server) Background(fn func(ctx context.Context)) {
	s.bg = append(s.bg, fn)
}

// Listen opens the listening socket, so that the caller knows the address
// (e.g. port 0) before serving.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another podium or server using it? choose another with --http)", addr, err)
	}
	return ln, nil
}

// Serve serves on ln until ctx ends, then shuts down gracefully, letting
// requests in flight finish for up to 5 seconds. It runs the functions
// registered with Background meanwhile and returns once they have returned.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var bg sync.WaitGroup
	defer bg.Wait()
	bgCtx, stopBg := context.WithCancel(ctx)
	defer stopBg()
	for _, fn := range s.bg {
		bg.Go(func() { fn(bgCtx) })
	}
	srv := &http.Server{
		Handler:           s.instrument(s.Mux),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("http server shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics", "err", fmt.Sprint(v...)) }
