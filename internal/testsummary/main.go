// Command testsummary reads the output of go test -json on its standard
// input, prints it as go test does (a line per package, the output of the
// tests that failed) and ends with a summary of the tests that skipped,
// grouped by the PODIUM_TEST_* variable their message names (the variable
// that enables them) or by their message. It exits with status 1 when a
// test or a build failed. README.md's test command pipes into it:
//
//	go test -json -timeout 30m ./... | go run ./internal/testsummary
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	failed, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// skip is one skipped test.
type skip struct {
	pkg, test, reason string
}

// varRe finds the variable a skip message names.
var varRe = regexp.MustCompile(`PODIUM_TEST_[A-Z0-9_]+`)

// locRe is the file:line: prefix t.Log puts on a message.
var locRe = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

// summarize copies the test results of r to w readably and reports whether
// something failed.
func summarize(r io.Reader, w io.Writer) (failed bool, err error) {
	type key struct{ pkg, test string }
	outputs := map[key][]string{}
	var skips []skip
	events := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// Not an event (go vet's or the build's messages): as is.
			fmt.Fprintln(w, string(line))
			continue
		}
		events++
		k := key{e.Package, e.Test}
		switch {
		case e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Action == "build-fail":
			failed = true
		case e.Action == "output" && e.Test == "":
			// The package's lines: ok, FAIL, ? [no test files], panics.
			if o := strings.TrimSpace(e.Output); o != "PASS" && o != "" {
				fmt.Fprint(w, e.Output)
			}
		case e.Action == "output":
			outputs[k] = append(outputs[k], e.Output)
		case e.Action == "fail" && e.Test != "":
			failed = true
			fmt.Fprint(w, strings.Join(outputs[k], ""))
			delete(outputs, k)
		case e.Action == "fail":
			// A package that fails with tests still running (a timeout, a
			// panic, an exit): their output says why.
			failed = true
			for k2, lines := range outputs {
				if k2.pkg == e.Package {
					fmt.Fprint(w, strings.Join(lines, ""))
					delete(outputs, k2)
				}
			}
		case e.Action == "skip" && e.Test != "":
			skips = append(skips, skip{e.Package, e.Test, reason(outputs[k])})
			delete(outputs, k)
		case e.Action == "pass":
			delete(outputs, k)
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	if events == 0 {
		return true, fmt.Errorf("no test event on standard input: pipe go test -json into it")
	}
	writeSkips(w, skips)
	return failed, nil
}

// reason is the message of a skipped test's output.
func reason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		msg = append(msg, strings.TrimSpace(locRe.ReplaceAllString(l, "")))
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return msg[len(msg)-1]
}

// writeSkips prints the skipped tests grouped by the variable that enables
// them, else by reason; a parent test and its skipped subtests count once
// per skipped test.
func writeSkips(w io.Writer, skips []skip) {
	if len(skips) == 0 {
		fmt.Fprintln(w, "no test skipped")
		return
	}
	type group struct {
		name     string
		reason   string
		tests    int
		packages []string
	}
	var groups []*group
	byName := map[string]*group{}
	for _, s := range skips {
		name := varRe.FindString(s.reason)
		if name == "" {
			name = s.reason
		}
		g := byName[name]
		if g == nil {
			g = &group{name: name, reason: s.reason}
			byName[name] = g
			groups = append(groups, g)
		}
		g.tests++
		pkg := strings.TrimPrefix(s.pkg, "github.com/podiumhq/podium/")
		if !slices.Contains(g.packages, pkg) {
			g.packages = append(g.packages, pkg)
		}
	}
	slices.SortStableFunc(groups, func(a, b *group) int { return b.tests - a.tests })
	fmt.Fprintf(w, "\n%d tests skipped:\n", len(skips))
	for _, g := range groups {
		if varRe.MatchString(g.name) {
			fmt.Fprintf(w, "  %3d  set %s to run them (%s): %s\n", g.tests, g.name, strings.Join(g.packages, ", "), g.reason)
		} else {
			fmt.Fprintf(w, "  %3d  %s (%s)\n", g.tests, g.reason, strings.Join(g.packages, ", "))
		}
	}
	fmt.Fprintln(w, "(README.md, \"Set up\", says what each PODIUM_TEST_* variable needs)")
}
