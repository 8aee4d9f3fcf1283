package web

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveWith serves s on a loopback port until the test ends and returns
// its address.
func serveWith(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ln.Addr().String()
}

// closedWithin reports whether the server closes conn within d: a read
// returns EOF or a reset (not our own deadline).
func closedWithin(t *testing.T, conn net.Conn, d time.Duration) bool {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return true
}

func TestSlowBodyIsCutOff(t *testing.T) {
	s := New(Config{Limits: Limits{ReadTimeout: 500 * time.Millisecond}})
	got := make(chan error, 1)
	s.Mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	})
	addr := serveWith(t, s)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A slowloris body: the headers promise 1000 bytes, one comes every
	// 100 ms, for ever.
	if _, err := io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	select {
	case err := <-got:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("reading the slow body: %v, want a timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a body trickling for 5 s is still being read with a 500 ms read timeout")
	}
	if !closedWithin(t, conn, 5*time.Second) {
		t.Fatal("the slow client's connection is still open")
	}
}

func TestIdleConnectionIsClosed(t *testing.T) {
	s := New(Config{Limits: Limits{IdleTimeout: 300 * time.Millisecond}})
	addr := serveWith(t, s)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("GET /healthz = %d (close %t), want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
	}
	start := time.Now()
	if !closedWithin(t, conn, 5*time.Second) {
		t.Fatal("an idle keep-alive connection is still open after 5 s with a 300 ms idle timeout")
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}
}

func TestBodyLargerThanMaxBody(t *testing.T) {
	s := New(Config{Limits: Limits{MaxBody: 1000}})
	s.Mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "too big", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	addr := serveWith(t, s)
	for _, tc := range []struct {
		size int
		code int
	}{{1000, 200}, {1001, 413}} {
		resp, err := http.Post("http://"+addr+"/upload", "text/plain", strings.NewReader(strings.Repeat("x", tc.size)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("a %d-byte body: %d, want %d", tc.size, resp.StatusCode, tc.code)
		}
	}
}

// openStream opens /events and returns its reader once connected.
func openStream(ctx context.Context, t *testing.T, addr string) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/events", nil)
	return http.DefaultClient.Do(req)
}

func TestSSECapAnswers503(t *testing.T) {
	s := New(Config{Limits: Limits{SSEMaxClients: 3}})
	addr := serveWith(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 3 {
		resp, err := openStream(ctx, t, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("stream %d: %d, want 200", i+1, resp.StatusCode)
		}
	}
	resp, err := openStream(ctx, t, addr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "at most 3 (setting web.sse_max_clients)") ||
		resp.Header.Get("Retry-After") == "" {
		t.Fatalf("stream 4: %d %q (Retry-After %q), want 503 naming the cap and its setting", resp.StatusCode, b, resp.Header.Get("Retry-After"))
	}
	if n := s.Hub.Clients(); n != 3 {
		t.Fatalf("%d clients, want 3", n)
	}
}

func TestSSEOutlivesTheTimeouts(t *testing.T) {
	s := New(Config{Limits: Limits{ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond}})
	addr := serveWith(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := openStream(ctx, t, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for s.Hub.Clients() == 0 {
		time.Sleep(time.Millisecond)
	}
	r := bufio.NewReader(resp.Body)
	// Events after three times both timeouts still arrive.
	for i := range 3 {
		time.Sleep(time.Second)
		s.Hub.Publish("tick", i)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("event %d after %d s: the stream ended: %v", i, i+1, err)
			}
			if strings.HasPrefix(line, "event: tick") {
				break
			}
		}
	}
}
