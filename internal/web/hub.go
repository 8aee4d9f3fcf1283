package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Event is a server-sent event: a name and a JSON payload.
type Event struct {
	Name string
	Data any
}

// Hub fans events out to the browsers connected to /events. Publish never
// blocks: a client too slow to keep up loses events (its page catches up at
// the next one, since pages re-render from the store). It keeps at most
// Limits.SSEMaxClients streams; one more is answered 503.
type Hub struct {
	mu      sync.Mutex
	clients map[chan []byte]struct{}
	limits  Limits
}

// NewHub returns an empty hub with the default limits (Server's New sets
// the configured ones).
func NewHub() *Hub { return &Hub{clients: map[chan []byte]struct{}{}, limits: DefaultLimits} }

// setLimits applies l (its SSE cap and write timeout) to new streams.
func (h *Hub) setLimits(l Limits) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.limits = l.withDefaults()
}

// Publish sends an event to every connected client.
func (h *Hub) Publish(name string, data any) {
	payload, err := json.Marshal(data)
	if err != nil {
		payload = []byte(`null`)
	}
	frame := fmt.Appendf(nil, "event: %s\ndata: %s\n\n", name, payload)
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c <- frame:
		default: // slow client: drop
		}
	}
}

// Clients returns the number of connected clients.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// ServeHTTP streams events to one client until it goes away or the server
// shuts down.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := make(chan []byte, 64)
	h.mu.Lock()
	limits := h.limits
	if len(h.clients) >= limits.SSEMaxClients {
		h.mu.Unlock()
		w.Header().Set("Retry-After", "30")
		http.Error(w, fmt.Sprintf("too many live-update streams: this server keeps at most %d (setting web.sse_max_clients); try again later",
			limits.SSEMaxClients), http.StatusServiceUnavailable)
		return
	}
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.clients, c)
		h.mu.Unlock()
	}()
	// A stream outlives the server's timeouts: no read deadline (the
	// client sends nothing more; a closed connection still ends the
	// request), and a write deadline set again before each write, so
	// that only a client that stops reading is cut off.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	write := func(b []byte) error {
		_ = rc.SetWriteDeadline(time.Now().Add(limits.WriteTimeout))
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	if write([]byte("retry: 2000\n: connected\n\n")) != nil {
		return
	}
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case frame := <-c:
			if write(frame) != nil {
				return
			}
		case <-keepalive.C:
			if write([]byte(": keepalive\n\n")) != nil {
				return
			}
		}
	}
}
