package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/hr/hrtest"
	"github.com/podiumhq/podium/internal/activities/ingest"
	"github.com/podiumhq/podium/internal/activities/review"
)

const reviewToken = "review-token-0123456789abcdef"

// TestReviewPage drives the review page of a running serve: the page asks
// to sign in (and refuses a wrong token), lists the held activities with
// their rule and numbers, approves one through the form, which then counts
// in the rewards; a Bearer request sees the page too. Screenshots at 390
// and 1440 px wide, with the navigation in reach and no sideways scroll.
func TestReviewPage(t *testing.T) {
	bin := chromium(t)
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	dir := t.TempDir()
	base := podiumServeEnv(t, dir, map[string]string{"PODIUM_ACTIVITIES_API_TOKEN": reviewToken})
	ctx := context.Background()
	s := clientStore(t, dir)
	reg := hrtest.Sample(t, s)
	emp := reg.Employees[0].ID
	if err := activities.Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 6, 3, 6, 0, 0, 0, time.UTC)
	held := []activities.Activity{
		{ID: 11, EmployeeID: emp, StartTime: start, SportType: "Run", DistanceM: 10000, ElapsedS: 1250, MovingS: 1200,
			Source: activities.SourceAPI, Comment: "lunch run"}, // 30 km/h
		{ID: 12, EmployeeID: emp, StartTime: start.Add(24 * time.Hour), SportType: "Ride", DistanceM: 30000, ElapsedS: 3600,
			MovingS: 4000, Source: activities.SourceAPI}, // moving > elapsed
		{ID: 13, EmployeeID: emp, StartTime: start.Add(48 * time.Hour), SportType: "Walk", DistanceM: 4000, ElapsedS: 3000,
			Source: activities.SourceAPI}, // passes
	}
	if err := activities.Upsert(ctx, s.DB(), held...); err != nil {
		t.Fatal(err)
	}
	bearer := func(path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+reviewToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	waitFor(t, "two activities held", func() bool {
		code, body := bearer(review.Path)
		return code == http.StatusOK && strings.Contains(body, `id="held-11"`) && strings.Contains(body, `id="held-12"`)
	})
	// Without the token: the sign-in form, 401.
	resp, err := http.Get(base + review.Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the page without a token: %d, want 401", resp.StatusCode)
	}
	// A decision posted without a session or token is refused.
	resp, err = http.PostForm(base+review.Path+"/11/approve", url.Values{"reason": {"forged"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a decision without a token: %d, want 401", resp.StatusCode)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1440, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	br := &browser{t: t, ctx: bctx, base: base, artifacts: artifactsDir(t)}

	// Sign in: a wrong token is refused, the right one opens the page.
	br.do("open the review page", chromedp.Navigate(base+review.Path))
	br.waitFor("the sign-in form", `document.getElementById("signin") !== null`)
	br.do("sign in with a wrong token",
		chromedp.SendKeys(chromedp.CSS(`#signin input[name=name]`), "Anna (HR)"),
		chromedp.SendKeys(chromedp.CSS(`#signin input[name=token]`), "not-the-token"),
		chromedp.Submit(chromedp.CSS(`#signin`)), chromedp.WaitVisible(chromedp.ID("review-error")))
	br.do("sign in",
		chromedp.SendKeys(chromedp.CSS(`#signin input[name=name]`), "Anna (HR)"),
		chromedp.SendKeys(chromedp.CSS(`#signin input[name=token]`), reviewToken),
		chromedp.Submit(chromedp.CSS(`#signin`)), chromedp.WaitVisible(chromedp.ID("held-11")))
	if got := eval[string](br, `document.getElementById("reviewer").innerText`); got != "Anna (HR)" {
		t.Errorf("signed in as %q", got)
	}
	if got := eval[string](br, `document.querySelector("#held-11 .rule").innerText`); got != "run_speed_plausible" {
		t.Errorf("held-11 rule %q", got)
	}
	if got := eval[string](br, `document.querySelector("#held-11 .speed").innerText`); got != "30.0 km/h" {
		t.Errorf("held-11 speed %q", got)
	}
	if got := eval[string](br, `document.querySelector("#held-12 .rule").innerText`); got != "moving_within_elapsed" {
		t.Errorf("held-12 rule %q", got)
	}
	for _, phone := range []bool{false, true} {
		br.viewport(phone)
		name := map[bool]string{false: "review-1440", true: "review-390"}[phone]
		path := br.shot(name, true)
		t.Logf("screenshot %s", path)
		for _, problem := range br.navProblems(phone, name+"-menu") {
			t.Errorf("%s: %s", name, problem)
		}
	}
	br.viewport(false)

	// Approve the run through the form: it counts in the rewards.
	br.do("approve",
		chromedp.SendKeys(chromedp.CSS(`#held-11 input[name=reason]`), "GPS track checked: downhill race"),
		chromedp.Click(chromedp.CSS(`#held-11 button[value=approve]`)))
	br.do("the notice", chromedp.WaitVisible(chromedp.ID("review-notice")))
	if eval[bool](br, `document.getElementById("held-11") !== null`) {
		t.Error("the approved run is still in the queue")
	}
	if got := eval[string](br, `document.getElementById("decided").innerText`); !strings.Contains(got, "approved") ||
		!strings.Contains(got, "Anna (HR)") {
		t.Errorf("recent decisions: %q", got)
	}
	waitFor(t, "the approved run in the rewards", func() bool {
		var n int
		_ = s.DB().QueryRow(`SELECT COALESCE(SUM(activities), 0) FROM activities_gold WHERE employee_id = $1`, emp).Scan(&n)
		return n == 2 // the walk and the approved run
	})
	// The employee's history shows the decision.
	br.do("history", chromedp.Navigate(base+review.Path+"?employee="+emp), chromedp.WaitVisible(chromedp.ID("history")))
	if got := eval[string](br, `document.getElementById("history").innerText`); !strings.Contains(got, "GPS track checked: downhill race") {
		t.Errorf("history: %q", got)
	}
	br.shot("review-history-1440", true)

	// A disconnected Strava athlete shows on the page.
	if err := ingest.Link(ctx, s, 4242, emp, "refresh-x", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`UPDATE strava_athletes SET authorized = $1, disconnect_reason = 'refresh token refused' WHERE athlete_id = 4242`, false); err != nil {
		t.Fatal(err)
	}
	if _, body := bearer(review.Path); !strings.Contains(body, "refresh token refused") {
		t.Error("the disconnected athlete is not on the page")
	}
}
