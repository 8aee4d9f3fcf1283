package main

import (
	"strings"
	"testing"
)

// The events of go test -json for a package with a passing test, a test
// that skips for a variable, a subtest skipped with -short and a failing
// test.
const sample = `{"Action":"start","Package":"github.com/podiumhq/podium/internal/x"}
{"Action":"run","Package":"github.com/podiumhq/podium/internal/x","Test":"TestOK"}
{"Action":"output","Package":"github.com/podiumhq/podium/internal/x","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"pass","Package":"github.com/podiumhq/podium/internal/x","Test":"TestOK","Elapsed":0}
{"Action":"run","Package":"github.com/podiumhq/podium/internal/x","Test":"TestPG"}
{"Action":"output","Package":"github.com/podiumhq/podium/internal/x","Test":"TestPG","Output":"=== RUN   TestPG\n"}
{"Action":"output","Package":"github.com/podiumhq/podium/internal/x","Test":"TestPG","Output":"    pg_test.go:12: PODIUM_TEST_POSTGRES_URL is not set: skipping PostgreSQL\n"}
{"Action":"output","Package":"github.com/podiumhq/podium/internal/x","Test":"TestPG","Output":"--- SKIP: TestPG (0.00s)\n"}
{"Action":"skip","Package":"github.com/podiumhq/podium/internal/x","Test":"TestPG","Elapsed":0}
{"Action":"run","Package":"github.com/podiumhq/podium/internal/x","Test":"TestPG2"}
{"Action":"output","Package":"github.com/podiumhq/podium/internal/x","Test":"TestPG2","Output":"    pg_test.go:40: PODIUM_TEST_POSTGRES_URL is not set: skipping PostgreSQL\n"}
{"Action":"skip","Package":"github.com/podiumhq/podium/internal/x","Test":"TestPG2","Elapsed":0}
{"Action":"run","Package":"github.com/podiumhq/podium/internal/x","Test":"TestBad"}
{"Action":"output","Package":"github.com/podiumhq/podium/internal/x","Test":"TestBad","Output":"    bad_test.go:3: got 1, want 2\n"}
{"Action":"fail","Package":"github.com/podiumhq/podium/internal/x","Test":"TestBad","Elapsed":0}
{"Action":"output","Package":"github.com/podiumhq/podium/internal/x","Output":"FAIL\n"}
{"Action":"output","Package":"github.com/podiumhq/podium/internal/x","Output":"FAIL\tgithub.com/podiumhq/podium/internal/x\t0.01s\n"}
{"Action":"fail","Package":"github.com/podiumhq/podium/internal/x","Elapsed":0.01}
{"Action":"run","Package":"github.com/podiumhq/podium/internal/z","Test":"TestHangs"}
{"Action":"output","Package":"github.com/podiumhq/podium/internal/z","Test":"TestHangs","Output":"panic: test timed out after 10m0s\n"}
{"Action":"fail","Package":"github.com/podiumhq/podium/internal/z","Elapsed":600}
{"Action":"run","Package":"github.com/podiumhq/podium/internal/y","Test":"TestLong/sub"}
{"Action":"output","Package":"github.com/podiumhq/podium/internal/y","Test":"TestLong/sub","Output":"    y_test.go:9: skipped with -short\n"}
{"Action":"skip","Package":"github.com/podiumhq/podium/internal/y","Test":"TestLong/sub","Elapsed":0}
{"Action":"output","Package":"github.com/podiumhq/podium/internal/y","Output":"ok  \tgithub.com/podiumhq/podium/internal/y\t0.02s\n"}
{"Action":"pass","Package":"github.com/podiumhq/podium/internal/y","Elapsed":0.02}
`

func TestSummarize(t *testing.T) {
	var out strings.Builder
	failed, err := summarize(strings.NewReader(sample), &out)
	if err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Error("a failing test is not reported as a failure")
	}
	for _, want := range []string{
		"bad_test.go:3: got 1, want 2\n",      // the failing test's output
		"panic: test timed out after 10m0s\n", // a package's that never ended
		"FAIL\tgithub.com/podiumhq/podium/internal/x",
		"ok  \tgithub.com/podiumhq/podium/internal/y",
		"3 tests skipped:\n",
		"    2  set PODIUM_TEST_POSTGRES_URL to run them (internal/x): PODIUM_TEST_POSTGRES_URL is not set: skipping PostgreSQL\n",
		"    1  skipped with -short (internal/y)\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "TestOK") {
		t.Errorf("the passing test's output is shown:\n%s", out.String())
	}
}

func TestSummarizeNothing(t *testing.T) {
	var out strings.Builder
	if failed, err := summarize(strings.NewReader("no json here\n"), &out); !failed || err == nil {
		t.Errorf("an input with no event: failed=%v err=%v", failed, err)
	}
}
