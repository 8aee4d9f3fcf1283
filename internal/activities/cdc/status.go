package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/podiumhq/podium/internal/store"
)

// WriteStatus writes what the capture of store s named by cfg has created
// and how far it is, for `podium activities cdc status`: on PostgreSQL the
// publication and replication slot (by name), the slot's WAL status, lag,
// retained WAL and last heartbeat; on SQLite the change table and the
// changes not yet relayed. now is the time the ages are counted from.
func WriteStatus(ctx context.Context, w io.Writer, s *store.Store, cfg Config, now time.Time) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	switch s.Dialect() {
	case store.Postgres:
		p, err := NewPostgres(cfg)
		if err != nil {
			return err
		}
		st, err := p.Status(ctx)
		if err != nil {
			return err
		}
		row("capture", cfg.Name+" (PostgreSQL logical replication, pgoutput)")
		row("publication", st.Publication+" "+exists(st.PublicationExists)+tableOf(st.Table))
		slot := st.Slot + " " + exists(st.SlotExists)
		if st.SlotExists {
			slot += ", " + map[bool]string{true: "active", false: "inactive"}[st.Active]
			if st.WALStatus != "" {
				slot += ", wal_status " + st.WALStatus
			}
		}
		row("slot", slot)
		if st.SlotExists {
			row("confirmed", st.ConfirmedLSN+" (restart "+st.RestartLSN+")")
			row("lag", bytesOf(st.Lag)+" of WAL since the confirmed position")
			row("WAL retained", bytesOf(st.WALRetained)+" (podium_cdc_wal_retained_bytes)")
		}
		row("snapshot", orNone(st.Snapshot))
		beat := "never"
		if !st.LastHeartbeat.IsZero() {
			beat = now.Sub(st.LastHeartbeat).Round(time.Second).String() + " ago (" + st.LastHeartbeat.UTC().Format(time.RFC3339) + ")"
		}
		row("last heartbeat", beat)
		switch {
		case st.SlotExists && st.WALStatus == "lost":
			row("note", "the server invalidated the slot (it held more WAL than max_slot_wal_keep_size): the capture takes a new snapshot when it starts")
		case !st.SlotExists && st.Snapshot == "done":
			row("note", "the slot is gone: the next capture takes a new snapshot")
		case st.Snapshot == "lost":
			row("note", "the slot was lost: the capture is taking a new snapshot")
		}
	case store.SQLite:
		row("capture", cfg.Name+" (SQLite triggers into "+ChangesTable+")")
		var tables int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('podium_cdc_state', $1)`,
			ChangesTable).Scan(&tables); err != nil {
			return fmt.Errorf("change-data-capture: read the state of %s: %w", cfg.Name, err)
		}
		var snapshot string
		var pending int64
		if tables == 2 {
			err := s.DB().QueryRowContext(ctx, `SELECT snapshot FROM podium_cdc_state WHERE name = $1`, cfg.Name).Scan(&snapshot)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("change-data-capture: read the state of %s: %w", cfg.Name, err)
			}
			if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+ChangesTable).Scan(&pending); err != nil {
				return fmt.Errorf("change-data-capture: count the changes to relay: %w", err)
			}
		}
		row("snapshot", orNone(snapshot))
		row("to relay", strconv.FormatInt(pending, 10)+" changes (relayed ones are deleted within 100 ms)")
	default:
		return fmt.Errorf("change-data-capture: unknown store dialect %q", s.Dialect())
	}
	return tw.Flush()
}

func exists(ok bool) string {
	if ok {
		return "(exists)"
	}
	return "(not created)"
}

func tableOf(t string) string {
	if t == "" {
		return ""
	}
	return " for " + t
}

func orNone(s string) string {
	if s == "" {
		return "not started"
	}
	return s
}

// bytesOf formats a byte count in IEC units.
func bytesOf(n *int64) string {
	if n == nil {
		return "unknown"
	}
	v := float64(*n)
	for _, u := range []string{"B", "KiB", "MiB", "GiB"} {
		if v < 1024 || u == "GiB" {
			if u == "B" {
				return strconv.FormatInt(*n, 10) + " B"
			}
			return strconv.FormatFloat(v, 'f', 1, 64) + " " + u
		}
		v /= 1024
	}
	return ""
}
