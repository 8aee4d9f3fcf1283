package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestBarLinesWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "replay 2023", 440)
	b.Add(100) // first report is written at once
	b.Add(100) // within 5 s: not written
	b.Set(440)
	b.Finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2 (first and final):\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "replay 2023") || !strings.Contains(lines[0], "100/440") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.Contains(lines[1], "440/440 100%") || !strings.Contains(lines[1], " in ") {
		t.Errorf("final line %q", lines[1])
	}
	if strings.Contains(buf.String(), "\r") {
		t.Errorf("carriage returns written to a non-terminal")
	}
	var nilBar *Bar
	nilBar.Add(1) // a nil bar does nothing
	nilBar.Finish()
}
