package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		format, level string
		wantDebug     bool
		wantJSON      bool
		wantErr       string
	}{
		{format: "text", level: "info"},
		{format: "text", level: "debug", wantDebug: true},
		{format: "json", level: "warn", wantJSON: true},
		{format: "JSON", level: "ERROR", wantJSON: true},
		{format: "xml", level: "info", wantErr: "use text or json"},
		{format: "text", level: "loud", wantErr: "use debug, info, warn or error"},
	}
	for _, tt := range tests {
		t.Run(tt.format+"/"+tt.level, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := New(&buf, tt.format, tt.level)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			log.Debug("dbg")
			log.Error("boom", "k", "v")
			out := buf.String()
			if got := strings.Contains(out, "dbg"); got != tt.wantDebug {
				t.Errorf("debug line logged = %v, want %v:\n%s", got, tt.wantDebug, out)
			}
			if tt.wantJSON {
				line := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil || m["msg"] != "boom" {
					t.Errorf("last line %q is not the JSON record: %v", line, err)
				}
			} else if !strings.Contains(out, "msg=boom k=v") {
				t.Errorf("text output %q lacks msg=boom k=v", out)
			}
		})
	}
}
