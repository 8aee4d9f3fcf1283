package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/podiumhq/podium/internal/datadir"
)

// TestEmbeddedBusRequiresCredentials: the embedded NATS of a running
// podium refuses a local process without the data dir's credentials (it
// could otherwise publish a forged F1 result), while podium's own commands
// on the data dir still reach it.
func TestEmbeddedBusRequiresCredentials(t *testing.T) {
	dir := t.TempDir()
	w := startPodium(t, dir, "worker", "--processors", "none")
	url := w.owner().NATSURL

	for name, opts := range map[string][]nats.Option{
		"no credentials":     nil,
		"a wrong password":   {nats.UserInfo("podium", "guess")},
		"a token":            {nats.Token("guess")},
		"an empty user name": {nats.UserInfo("", "")},
	} {
		nc, err := nats.Connect(url, append(opts, nats.Timeout(5*time.Second), nats.NoReconnect())...)
		if err == nil {
			nc.Close()
			t.Fatalf("a raw NATS client with %s connected to the embedded bus", name)
		}
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("a raw NATS client with %s: %v, want an authorization violation", name, err)
		}
	}

	fi, err := os.Stat(filepath.Join(dir, datadir.CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", datadir.CredentialsFile, fi.Mode().Perm())
	}

	// With the data dir's credentials, a client gets in.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := ownerBus(ctx, t, dir)
	if err != nil {
		t.Fatalf("with the data dir's credentials: %v", err)
	}
	b.Close()
	// And podium's own commands on the data dir still work.
	for _, args := range [][]string{{"topics", "list"}, {"f1", "replay", "--season", "2021", "--from-round", "22"}} {
		if r := podiumProcess(ctx, t, append([]string{"--data-dir", dir}, args...)...); r.code != 0 {
			t.Errorf("podium %v on the data dir of a running worker: exit %d\n%s", args, r.code, r.stderr)
		}
	}
}
