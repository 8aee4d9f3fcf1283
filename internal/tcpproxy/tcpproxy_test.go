package tcpproxy

import (
	"bufio"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// echo starts a line echo server and returns its address.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line through c and reads the answer within a second.
func roundTrip(c net.Conn) (string, error) {
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func TestModes(t *testing.T) {
	p := New(t, echo(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := roundTrip(c); err != nil || got != "ping\n" {
		t.Fatalf("forward: %q, %v", got, err)
	}

	// Cut: the open connection dies, a new one works.
	p.Cut()
	if _, err := roundTrip(c); err == nil {
		t.Fatal("a cut connection still answers")
	}
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got, err := roundTrip(c2); err != nil || got != "ping\n" {
		t.Fatalf("after a cut: %q, %v", got, err)
	}

	// Refuse: open connections die, new ones are refused.
	if err := p.Set(Refuse); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(c2); err == nil {
		t.Fatal("a connection survived Refuse")
	}
	if _, err := net.Dial("tcp", p.Addr()); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial while refusing: %v, want connection refused", err)
	}

	// Silence: connections are accepted and nothing answers.
	if err := p.Set(Silence); err != nil {
		t.Fatal(err)
	}
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	var ne net.Error
	if _, err := roundTrip(c3); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("silenced: %v, want a timeout", err)
	}

	// Forward again on the same address.
	if err := p.Set(Forward); err != nil {
		t.Fatal(err)
	}
	if p.Open() != 0 {
		t.Errorf("%d connections open after leaving Silence, want 0", p.Open())
	}
	c4, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c4.Close()
	if got, err := roundTrip(c4); err != nil || got != "ping\n" {
		t.Fatalf("forward again: %q, %v", got, err)
	}
}
