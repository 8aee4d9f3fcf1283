// Package tcpproxy is a TCP proxy for tests that take a server away and
// bring it back: it forwards connections to a target and, on demand, cuts
// the open ones, refuses new ones (as a stopped server does) or accepts
// them and never answers (as a hung server does). Tests put it between
// podium and a real PostgreSQL or NATS server, which they must never stop
// themselves.
package tcpproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Mode is what the proxy does with connections.
type Mode int

const (
	// Forward relays connections to the target.
	Forward Mode = iota
	// Refuse closes the listening socket: connecting fails with
	// "connection refused", as with a server that is down.
	Refuse
	// Silence accepts connections and never relays a byte, as with a
	// server that hangs or a network that drops packets.
	Silence
)

// Proxy forwards TCP connections from a loopback address to a target.
type Proxy struct {
	target string
	addr   string

	mu     sync.Mutex
	mode   Mode
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New starts a proxy to target on a free loopback port, forwarding. It is
// closed when the test ends.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tcpproxy: listen: %v", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.Close)
	return p
}

// Addr is the host:port clients connect to. It stays the same whatever
// the mode.
func (p *Proxy) Addr() string { return p.addr }

// Set switches to mode m. Every mode but Forward first cuts the open
// connections; Forward keeps them, but for the silenced ones. Switching from Refuse listens again on
// the same address, which fails only if another program took the port
// meanwhile.
func (p *Proxy) Set(m Mode) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("tcpproxy: closed")
	}
	if m != Forward || p.mode == Silence {
		p.cutLocked()
	}
	p.mode = m
	switch {
	case m == Refuse && p.ln != nil:
		_ = p.ln.Close()
		p.ln = nil
	case m != Refuse && p.ln == nil:
		var ln net.Listener
		var err error
		// The port was ours a moment ago; the kernel may take a moment
		// to let it go.
		for range 50 {
			if ln, err = net.Listen("tcp", p.addr); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("tcpproxy: listen again on %s: %w", p.addr, err)
		}
		p.serveLocked(ln)
	}
	return nil
}

// Cut closes every open connection, both ways, as a server restart or a
// network failure does. New connections are handled as the mode says.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutLocked()
}

// Open returns the number of connections open through the proxy.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		if p.ln != nil {
			_ = p.ln.Close()
			p.ln = nil
		}
		p.cutLocked()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) cutLocked() {
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serveLocked(ln)
}

func (p *Proxy) serveLocked(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Set(Refuse) or Close
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.handle(c)
			}()
		}
	}()
}

// track records c as open, or closes it and returns false when the proxy
// is closed.
func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range cs {
			_ = c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		_ = c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) handle(client net.Conn) {
	p.mu.Lock()
	mode := p.mode
	p.mu.Unlock()
	if !p.track(client) {
		return
	}
	if mode == Silence {
		// Hold the connection until it is cut: read and drop what comes.
		_, _ = io.Copy(io.Discard, client)
		p.untrack(client)
		return
	}
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		p.untrack(client)
		return
	}
	if !p.track(server) {
		p.untrack(client)
		return
	}
	done := make(chan struct{}, 2)
	relay := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go relay(server, client)
	go relay(client, server)
	<-done
	p.untrack(client, server)
	<-done
}
