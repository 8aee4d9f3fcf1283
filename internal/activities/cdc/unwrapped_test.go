package cdc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podiumhq/podium/internal/activities"
)

// TestDecodeUnwrapped: rows flattened by Debezium's ExtractNewRecordState
// SMT are read when they say what happened (__op, __deleted), and refused
// with one line naming the SMT settings when they do not; Debezium's own
// message examples decode as op "m".
func TestDecodeUnwrapped(t *testing.T) {
	deleted := fixture
	tests := []struct {
		file          string
		op            Op
		before, after *activities.Activity
		lsn           int64
		table         string
		err           error
	}{
		{file: "unwrapped_create.json", op: OpCreate, after: &fixture, lsn: 24023128, table: "sport_activities"},
		{file: "unwrapped_delete_rewrite.json", op: OpDelete, before: &deleted, lsn: 24023904, table: "sport_activities"},
		{file: "unwrapped_deleted_only.json", op: OpDelete, before: &deleted},
		{file: "unwrapped_bare.json", err: ErrBareRow},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "debezium", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			c, err := Decode(raw)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || strings.Contains(err.Error(), "\n") ||
					!strings.Contains(err.Error(), "transforms.unwrap.add.fields=op") {
					t.Fatalf("Decode: %v, want one line naming the SMT settings", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Op != tc.op || c.ID != fixture.ID || activityString(c.Before) != activityString(tc.before) ||
				activityString(c.After) != activityString(tc.after) {
				t.Errorf("got %s, want %s", line(c.Op, c.ID, c.Before, c.After), line(tc.op, fixture.ID, tc.before, tc.after))
			}
			if tc.lsn != 0 && (c.Source.LSN == nil || *c.Source.LSN != tc.lsn || c.Source.Table != tc.table || c.Source.TsMs != 1714552512345) {
				t.Errorf("source %+v, want lsn %d, table %s, ts_ms from __source_ts_ms", c.Source, tc.lsn, tc.table)
			}
			if tc.lsn != 0 && c.EventID == "" {
				t.Errorf("no event id derived from __lsn")
			}
			final, _ := Final([]Change{c})
			if (final[c.ID] == nil) != (tc.op == OpDelete) {
				t.Errorf("Final: %v", final)
			}
		})
	}
	for _, file := range []string{"message_docs.json", "message_nontx_docs.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "debezium", file))
		if err != nil {
			t.Fatal(err)
		}
		c, err := Decode(raw)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if c.Op != OpMessage || c.Message == nil || c.Message.Prefix != "foo" || c.Source.LSN == nil || *c.Source.LSN != 46523128 {
			t.Errorf("%s: %+v", file, c)
		}
		if (c.Source.TxID == nil) != strings.Contains(file, "nontx") {
			t.Errorf("%s: txId %v", file, c.Source.TxID)
		}
		if final, truncated := Final([]Change{c}); len(final) != 0 || truncated {
			t.Errorf("%s: Final %v %v, want nothing", file, final, truncated)
		}
	}
}

// TestDecodeErrorsReadable: errors about the JSON's types say what the
// field should hold, never a Go type.
func TestDecodeErrorsReadable(t *testing.T) {
	for _, v := range []string{
		`{"op":5,"source":{}}`, `[1]`, `"x"`, `{"op":"c","after":[1],"source":{}}`,
		`{"op":"c","after":{"id":1},"source":{"version":3}}`, `{"op":"m","source":{},"message":{"prefix":1}}`,
		`{"op":"m","source":{},"message":{"prefix":"p","content":7}}`, `{"id":1,"__op":3}`,
	} {
		_, err := Decode([]byte(v))
		if err == nil {
			t.Errorf("Decode(%s) accepted", v)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "Go ") || strings.Contains(msg, "cdc.") || strings.Contains(msg, "\n") {
			t.Errorf("Decode(%s): %q names Go types or spans lines", v, msg)
		}
	}
}
