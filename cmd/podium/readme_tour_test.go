//go:build unix

package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The quick tour of README.md is the set of ```sh blocks that follow a
// tourMarker line. TestReadmeTour runs them, in order, as one shell session
// in a fresh directory, so that the tour stays true. What it does to them,
// and nothing else:
//
//   - the line tourBuild is not run: ./podium is this test binary running
//     podium's main (see TestMain), built from the same source;
//   - a line whose comment says "# needs: WHAT" (a service on the internet,
//     such as openf1) is skipped with a message;
//   - localhost:8080 becomes a free port, given to serve as PODIUM_HTTP_ADDR;
//   - the background jobs the tour starts (serve &) are killed when the
//     session ends, if the tour has not stopped them itself.
const (
	tourMarker = "<!-- tour -->"
	tourBuild  = "go build -o podium ./cmd/podium"
)

// needsRe finds a "# needs: WHAT" comment.
var needsRe = regexp.MustCompile(`#\s*needs:\s*([\w.-]+)`)

// tourBlocks returns the tour's shell blocks of the README at path.
func tourBlocks(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []string
	var cur []string
	marked, in := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case in && strings.TrimSpace(line) == "```":
			blocks = append(blocks, strings.Join(cur, "\n"))
			cur, in = nil, false
		case in:
			cur = append(cur, line)
		case strings.TrimSpace(line) == tourMarker:
			marked = true
		case marked && strings.HasPrefix(line, "```sh"):
			in, marked = true, false
		case marked && strings.TrimSpace(line) != "":
			t.Fatalf("%s: %s must be followed by a ```sh block, not %q", path, tourMarker, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(blocks) == 0 {
		t.Fatalf("%s has no tour block (a ```sh block after %s)", path, tourMarker)
	}
	return blocks
}

// tourScript turns the tour's blocks into one bash script for addr (host:port
// in place of localhost:8080); skipped lists the lines it does not run.
func tourScript(t *testing.T, blocks []string, addr string) (script string, skipped []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("set -euo pipefail\n")
	b.WriteString("trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n")
	built := false
	for i, block := range blocks {
		fmt.Fprintf(&b, "echo '--- tour block %d' >&2\n", i+1)
		continued := false // the previous line ends with a backslash
		for _, line := range strings.Split(block, "\n") {
			starts := !continued && line != "" && line[0] != ' ' && line[0] != '#'
			continued = strings.HasSuffix(line, "\\")
			trimmed := strings.TrimSpace(line)
			if trimmed == tourBuild {
				built = true
				b.WriteString(": the test binary is ./podium\n")
				continue
			}
			if m := needsRe.FindStringSubmatch(line); m != nil {
				skipped = append(skipped, fmt.Sprintf("needs %s: %s", m[1], trimmed))
				fmt.Fprintf(&b, "echo %s >&2\n", shellQuote("skipped (needs "+m[1]+"): "+trimmed))
				continue
			}
			if starts {
				// Time each command of the tour (not the continuation
				// lines of one).
				fmt.Fprintf(&b, "echo \"+ $(date +%%s.%%N | cut -c1-14)\" %s >&2\n", shellQuote(trimmed))
			}
			b.WriteString(strings.ReplaceAll(line, "localhost:8080", addr))
			b.WriteString("\n")
		}
	}
	if !built {
		t.Fatalf("the tour does not start with %q", tourBuild)
	}
	return b.String(), skipped
}

// stampRe is a line the tour script prints before each command.
var stampRe = regexp.MustCompile(`(?m)^\+ (\d+\.\d+) (.*)$`)

// firstPageComment marks the tour's command that fetches the dashboard's
// first page (curl -f: the tour stops unless it answers 200).
const firstPageComment = "# the dashboard's first page"

// firstPage returns the time from the start of serve to the command after
// the tour's fetch of the first page, from the stamps of the output; false
// if the tour did not fetch it.
func firstPage(out string) (time.Duration, bool) {
	var start float64
	fetched := false
	for _, m := range stampRe.FindAllStringSubmatch(out, -1) {
		var ts float64
		if _, err := fmt.Sscan(m[1], &ts); err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(m[2], "./podium serve &"):
			start = ts
		case start > 0 && strings.Contains(m[2], firstPageComment):
			fetched = true
		case fetched:
			return time.Duration((ts - start) * float64(time.Second)), true
		}
	}
	return 0, false
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// TestReadmeTour runs README.md's quick tour as written, in a fresh
// directory, against podium's main.
func TestReadmeTour(t *testing.T) {
	if testing.Short() {
		t.Skip("the README tour runs the whole of podium for about a minute: not with -short")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README tour needs %s on PATH", tool)
		}
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	script, skipped := tourScript(t, tourBlocks(t, filepath.Join(repo, "README.md")), addr)
	for _, s := range skipped {
		t.Logf("skipped, %s", s)
	}

	// A fresh directory with what a clone holds that the tour reads.
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(repo, "internal"), filepath.Join(dir, "internal")); err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\n%s=1 exec %s \"$@\"\n", runMainEnv, shellQuote(exe))
	if err := os.WriteFile(filepath.Join(dir, "podium"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PODIUM_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PODIUM_HTTP_ADDR="+addr)
	// Kill the whole session (serve & too) if the test gives up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("the README tour failed after %s: %v\n%s", elapsed.Round(time.Millisecond), err, out)
	}
	t.Logf("the README tour ran in %s", elapsed.Round(time.Millisecond))
	// The README promises the first page: the tour fetches it (how soon
	// is logged, not asserted).
	if d, ok := firstPage(string(out)); ok {
		t.Logf("first page: serve answered %s after it started", d.Round(time.Millisecond))
	} else {
		t.Errorf("the tour does not fetch the dashboard's first page after starting serve (a command commented %q)", firstPageComment)
	}
	if testing.Verbose() {
		t.Logf("output:\n%s", out)
	}
	// What the tour's comments promise.
	for _, want := range []string{
		"395.5", // Verstappen's 2021 total
		"387.5", // Hamilton's
		"Racing Point",
		"DSQ",
		"f1.results", // topics list and tail
		`"employee_id"`,
		"podium_", // the metrics
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the tour's output lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"rewards-2025.xlsx", "dq.html", "dq.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("the tour did not write %s: %v", f, err)
		}
	}
}
