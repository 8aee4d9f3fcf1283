package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/commute"
	"github.com/podiumhq/podium/internal/activities/generate"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/datadir"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/openf1"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/store"
)

// chromium returns the Chromium to drive: $PODIUM_TEST_CHROMIUM, or
// chromium (or chromium-browser) on PATH.
func chromium(t *testing.T) string {
	if p := os.Getenv("PODIUM_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("skipping the browser test: no Chromium found (set PODIUM_TEST_CHROMIUM, or install Debian's chromium: apt-get install chromium)")
	return ""
}

// artifactsDir returns where the screenshots go: $PODIUM_ARTIFACTS or
// podium-artifacts in the temporary directory.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("PODIUM_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "podium-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser drives one Chromium tab.
type browser struct {
	t         *testing.T
	ctx       context.Context
	base      string
	artifacts string
}

// do runs actions with a time limit.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 40*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until a JavaScript expression is truthy.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 40*time.Second)
	defer cancel()
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil {
			return
		}
		// A page still loading has no execution context yet: poll again.
		if strings.Contains(err.Error(), "Cannot find context with specified id") && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		body, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("main") ? document.querySelector("main").innerText : ""`))
		b.t.Fatalf("waiting for %s (%s): %v\npage:\n%s", what, expr, err, body)
	}
}

// open loads a page and waits until its live updates are connected.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
	b.waitFor("the live updates of "+path, `document.getElementById("live-status").classList.contains("on")`)
	// A marker that a reload would lose.
	eval[chromedp.Void](b, `window.podiumMarker = 42`)
}

// notReloaded fails if the page was reloaded since open.
func (b *browser) notReloaded(what string) {
	b.t.Helper()
	if got := eval[int](b, `window.podiumMarker || 0`); got != 42 {
		b.t.Errorf("%s: the page was reloaded", what)
	}
}

// The widths every page must work at: a phone's and a desktop's.
const (
	phoneWidth   = 390
	desktopWidth = 1440
)

// viewport sets the window size: desktop or phone.
func (b *browser) viewport(phone bool) {
	b.t.Helper()
	if phone {
		b.do("phone viewport", chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	} else {
		b.do("desktop viewport", chromedp.EmulateViewport(desktopWidth, 900))
	}
}

// keyColumn is a column a table must keep in view: the header cell whose
// text is header, in the table selected by table.
type keyColumn struct {
	Table  string `json:"table"`
	Header string `json:"header"`
}

// jsInView defines, for the scripts of layoutProblems, navProblems and
// chartProblems, inView(what, el, out, whole): el is shown and within the
// viewport's width (and its height too if whole), and nothing covers its
// middle; else a line in out.
const jsInView = `const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
	// (A closed <details> keeps its content's boxes: checkVisibility tells.)
	const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && el.checkVisibility({visibilityProperty: true}); };
	const inView = (what, el, out, whole) => {
		const r = el.getBoundingClientRect();
		if (!shown(el)) { out.push(what + " is not shown"); return; }
		if (r.left < -0.5 || r.right > vw + 0.5) { out.push(what + " is outside the viewport: " + Math.round(r.left) + " to " + Math.round(r.right) + " of " + vw + " px"); return; }
		if (!whole) return;
		if (r.top < -0.5 || r.bottom > vh + 0.5) { out.push(what + " is below or above the viewport: " + Math.round(r.top) + " to " + Math.round(r.bottom) + " of " + vh + " px"); return; }
		const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		if (!top || !(el === top || el.contains(top))) out.push(what + " is covered by " + (top ? top.outerHTML.slice(0, 80) : "nothing"));
	};
	const overflow = out => {
		const sw = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
		if (sw > vw + 1) out.push("the page scrolls sideways: " + sw + " px wide in a " + vw + " px viewport");
	};`

// layoutProblems returns what does not fit the viewport on the open page:
// the body scrolling sideways, a key column outside the viewport (or not
// shown at all).
func (b *browser) layoutProblems(keys []keyColumn) []string {
	b.t.Helper()
	if keys == nil {
		keys = []keyColumn{}
	}
	js, err := json.Marshal(keys)
	if err != nil {
		b.t.Fatal(err)
	}
	return eval[[]string](b, `(() => {
		`+jsInView+`
		const out = [];
		overflow(out);
		for (const k of `+string(js)+`) {
			const t = document.querySelector(k.table);
			if (!t) { out.push("no table " + k.table); continue; }
			const th = [...t.querySelectorAll("thead th")].find(h => h.textContent.trim() === k.header);
			if (!th) { out.push("table " + k.table + " has no column " + JSON.stringify(k.header)); continue; }
			inView("column " + JSON.stringify(k.header) + " of " + k.table, th, out, false);
		}
		return out;
	})()`)
}

// The main navigation: its menu button, its links.
const (
	menuButton = "header.top details.menu > summary"
	navLinks   = "header.top nav a"
)

// navProblems returns what keeps a link of the main navigation out of reach
// on the open page. On a phone the links are behind the menu button, which
// is in view; a click on it shows every link in the viewport, uncovered; a
// second click hides them again (a screenshot of the open menu is saved as
// name.png). On a desktop every link is in view without a click, on one
// row, and there is no menu button. The body never scrolls sideways.
func (b *browser) navProblems(phone bool, name string) []string {
	b.t.Helper()
	links := `(out, whole) => {
		const nav = document.querySelectorAll("` + navLinks + `");
		if (nav.length === 0) out.push("no navigation link");
		nav.forEach(a => inView("navigation link " + JSON.stringify(a.textContent.trim()), a, out, whole));
		return nav;
	}`
	if !phone {
		return eval[[]string](b, `(() => {
			`+jsInView+`
			const out = [], nav = (`+links+`)(out, true);
			overflow(out);
			if (shown(document.querySelector("`+menuButton+`"))) out.push("the menu button shows on a desktop");
			const tops = new Set([...nav].map(a => Math.round(a.getBoundingClientRect().top)));
			if (tops.size > 1) out.push("the navigation takes " + tops.size + " rows");
			return out;
		})()`)
	}
	out := eval[[]string](b, `(() => {
		`+jsInView+`
		const out = [];
		overflow(out);
		inView("the menu button", document.querySelector("`+menuButton+`"), out, true);
		document.querySelectorAll("`+navLinks+`").forEach(a => {
			if (shown(a)) out.push("navigation link " + JSON.stringify(a.textContent.trim()) + " shows before the menu is opened");
		});
		return out;
	})()`)
	if len(out) > 0 {
		return out
	}
	b.do("open the menu", chromedp.Click(chromedp.CSS(menuButton)))
	out = eval[[]string](b, `(() => {
		`+jsInView+`
		const out = [];
		overflow(out);
		(`+links+`)(out, true);
		return out;
	})()`)
	b.shot(name, false)
	b.do("close the menu", chromedp.Click(chromedp.CSS(menuButton)))
	if n := eval[int](b, `(() => { `+jsInView+` return [...document.querySelectorAll("`+navLinks+`")].filter(shown).length; })()`); n > 0 {
		out = append(out, fmt.Sprintf("%d navigation links still show after a second click on the menu button", n))
	}
	return out
}

// chartProblems returns what is wrong with the charts shown on the open
// page (want is how many there must be): a chart without an axis line, a
// name of its values (their unit) or graduated axes; a text label outside
// its chart's box, overlapping another (axis ticks included) or too small
// to read.
func (b *browser) chartProblems(want int) []string {
	b.t.Helper()
	return eval[[]string](b, `(() => {
		const out = [], shown = [...document.querySelectorAll("main figure.chart svg")].filter(s => s.getBoundingClientRect().width > 0);
		if (shown.length !== `+strconv.Itoa(want)+`) out.push(shown.length + " charts shown, want `+strconv.Itoa(want)+`");
		for (const svg of shown) {
			const name = "chart #" + svg.id, s = svg.getBoundingClientRect();
			if (!svg.querySelector(".axis")) out.push(name + " has no axis line");
			if (!svg.querySelector("text.axis-name.y")) out.push(name + " does not name its values");
			// (A season of one round has one x tick.)
			for (const [axis, least] of [["x", 1], ["y", 2]]) {
				if (svg.querySelectorAll(".ticks." + axis + " text").length < least) out.push(name + " has no scale on its " + axis + " axis");
			}
			const scale = s.width / svg.viewBox.baseVal.width;
			const labels = [...svg.querySelectorAll("text")].filter(t => t.textContent.trim() !== "").map(t => ({t, what: JSON.stringify(t.textContent.trim()), r: t.getBoundingClientRect()}));
			for (const l of labels) {
				const px = parseFloat(getComputedStyle(l.t).fontSize) * scale;
				if (px < 10) out.push(name + ": label " + l.what + " is " + px.toFixed(1) + " px high");
				if (l.r.left < s.left - 0.5 || l.r.right > s.right + 0.5 || l.r.top < s.top - 0.5 || l.r.bottom > s.bottom + 0.5) {
					out.push(name + ": label " + l.what + " sticks out of the chart: " + [l.r.left - s.left, l.r.top - s.top, l.r.right - s.left, l.r.bottom - s.top].map(Math.round) + " in " + Math.round(s.width) + "×" + Math.round(s.height));
				}
			}
			for (let i = 0; i < labels.length; i++) {
				for (let j = i + 1; j < labels.length; j++) {
					const a = labels[i].r, c = labels[j].r;
					if (Math.min(a.right, c.right) - Math.max(a.left, c.left) > 0.5 && Math.min(a.bottom, c.bottom) - Math.max(a.top, c.top) > 0.5) {
						out.push(name + ": labels " + labels[i].what + " and " + labels[j].what + " overlap");
					}
				}
			}
		}
		return out;
	})()`)
}

// media switches the dark colour scheme on or off.
func (b *browser) media(dark bool) {
	b.t.Helper()
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	b.do("colour scheme", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	}))
}

// shot saves a screenshot of the page as name.png: the whole page, or the
// viewport only.
func (b *browser) shot(name string, full bool) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 40*time.Second)
	defer cancel()
	// Let the layout settle (fonts, the live fetch) before the picture.
	time.Sleep(150 * time.Millisecond)
	var png []byte
	var err error
	if full {
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	} else {
		png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	}
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.artifacts, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}

// podiumServe runs `podium serve` on a free port in dir until the test
// ends, and returns its base URL.
func podiumServe(t *testing.T, dir string) string { return podiumServeEnv(t, dir, nil) }

// podiumServeEnv is podiumServe with the environment variables env.
func podiumServeEnv(t *testing.T, dir string, env map[string]string) string {
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		a := newApp(&stdout, &stderr, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		code := a.run(ctx, []string{"--data-dir", dir, "--http", "127.0.0.1:0", "--log-level", "warn", "serve"})
		served <- result{code, stdout.String(), stderr.String()}
	}()
	t.Cleanup(func() {
		stop()
		select {
		case r := <-served:
			if r.code != 0 {
				t.Errorf("podium serve: %+v", r)
			}
		case <-time.After(30 * time.Second):
			t.Error("podium serve did not stop in 30 s")
		}
	})
	var owner datadir.Owner
	waitFor(t, "serve to record its HTTP address", func() bool {
		o, running, err := datadir.Running(dir)
		owner = o
		return err == nil && running && o.HTTPAddr != "" && o.NATSURL != ""
	})
	return "http://" + owner.HTTPAddr
}

// dataDirConfig loads the configuration of a command run on data dir dir.
func dataDirConfig(t *testing.T, dir string) config.Config {
	t.Helper()
	cfg, err := config.Load(nil, func(k string) (string, bool) {
		if k == "PODIUM_DATA_DIR" {
			return dir, true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// clientStore opens the store of the podium running on dir, as the
// commands that need no bus do.
func clientStore(t *testing.T, dir string) *store.Store {
	cfg := dataDirConfig(t, dir)
	s, err := store.Open(context.Background(), cfg.ResolvedStore())
	if err != nil {
		t.Fatalf("open the store of the running podium: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clientBus connects to the bus of the podium running on dir, as any other
// podium command does.
func clientBus(t *testing.T, dir string) bus.Bus {
	cfg := dataDirConfig(t, dir)
	client, err := platform.Open(context.Background(), cfg, nil, platform.Client, "test")
	if err != nil {
		t.Fatalf("open a client of the running podium: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return client.Bus
}

func publishJSON(t *testing.T, b bus.Bus, topic, key string, v any) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), &bus.Message{Topic: topic, Key: key, Value: raw}); err != nil {
		t.Fatalf("publish to %s: %v", topic, err)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBrowser drives Chromium through the dashboard of a running podium
// serve: the race table and the standings change in the open page as
// results are published, the running order moves with f1.live, the
// headshot falls back to initials, the pipeline page counts. It saves a
// screenshot of each page on a desktop and a phone.
func TestBrowser(t *testing.T) {
	bin := chromium(t)
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	dir := t.TempDir()
	base := podiumServe(t, dir)
	b := clientBus(t, dir)

	// A finished season for the championship and its banner.
	arc, err := archive.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := archive.Replay(context.Background(), b, arc, archive.ReplayOptions{Season: 2021}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the 2021 season to be applied", func() bool {
		return strings.Contains(httpGet(t, base+"/championship?season=2021"), `id="champion"`)
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// The first action starts the browser, which lives as long as the
	// context of that call: no time limit on it.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	br := &browser{t: t, ctx: ctx, base: base, artifacts: artifactsDir(t)}

	s23, _ := arc.Season(2023)
	bahrain, _ := s23.Rounds[0].Session(f1.Race)
	results := bahrain.Results // P1 down, the unclassified last
	const unreachable = "http://127.0.0.1:9/headshots/missing.png"
	publishResult := func(r f1.Result) { publishJSON(t, b, f1.TopicResults, r.Key(), r) }

	t.Run("live race", func(t *testing.T) {
		br.t = t
		br.open("/race?season=2023&round=1&session=RACE")
		for i := range 3 {
			publishResult(results[i])
			br.waitFor(fmt.Sprintf("%d rows in the race table", i+1),
				fmt.Sprintf(`document.querySelectorAll("#classification tbody tr[data-car]").length === %d`, i+1))
		}
		br.waitFor("the winner in the table", `document.querySelector("#classification tbody tr").innerText.includes("Max Verstappen")`)
		br.notReloaded("race")
	})

	t.Run("standings", func(t *testing.T) {
		br.t = t
		br.open("/championship?season=2023")
		br.waitFor("3 drivers", `document.querySelectorAll("#drivers tbody tr").length === 3`)
		for i := 3; i < 10; i++ {
			publishResult(results[i])
		}
		br.waitFor("10 drivers in the standings", `document.querySelectorAll("#drivers tbody tr").length === 10`)
		br.waitFor("the leader's 25 points", `document.querySelector("#drivers tbody tr").innerText.includes("25")`)
		br.notReloaded("championship")
	})

	// The rest of the race, one car with a headshot that cannot load.
	for i := 10; i < len(results); i++ {
		r := results[i]
		switch i {
		case 10:
			r.HeadshotURL = unreachable
		case 11:
			r.HeadshotURL = base + "/static/favicon.svg" // an image that loads
		}
		publishResult(r)
	}
	fallbackDriver, photoDriver := results[10].DriverID, results[11].DriverID
	waitFor(t, "the whole race to be applied", func() bool {
		return strings.Contains(httpGet(t, base+"/race?season=2023&round=1"), ">Final</span>")
	})

	t.Run("headshot fallback", func(t *testing.T) {
		br.t = t
		br.open("/drivers/" + fallbackDriver)
		br.waitFor("the headshot to hide", `document.getElementById("headshot").hidden`)
		br.waitFor("the initials to show", `document.getElementById("initials").getBoundingClientRect().width > 0 &&
			document.elementFromPoint(...(r => [r.x + r.width/2, r.y + r.height/2])(document.getElementById("initials").getBoundingClientRect())).id === "initials"`)
		// A headshot that loads covers the initials.
		br.open("/drivers/" + photoDriver)
		br.waitFor("the headshot to load", `document.getElementById("headshot").complete && document.getElementById("headshot").naturalWidth > 0`)
		if hidden := eval[bool](br, `document.getElementById("headshot").hidden`); hidden {
			t.Error("a headshot that loads is hidden")
		}
	})

	t.Run("running order", func(t *testing.T) {
		br.t = t
		br.open("/race?season=2023&round=2&session=RACE")
		at := time.Now().UTC()
		live := func(u openf1.LiveUpdate) {
			u.Season, u.Round, u.Session, u.GrandPrix, u.SessionKey = 2023, 2, f1.Race, "Saudi Arabian Grand Prix", 7787
			if u.Date.IsZero() {
				u.Date = at
			}
			publishJSON(t, b, f1.TopicLive, u.Key(), u)
		}
		position := func(car, p int, at time.Time) {
			live(openf1.LiveUpdate{Kind: openf1.KindPosition, DriverNumber: car, Position: &p, Date: at})
		}
		gap := func(car int, g, iv float64) {
			lg, in := openf1.SecondsGap(g), openf1.SecondsGap(iv)
			live(openf1.LiveUpdate{Kind: openf1.KindInterval, DriverNumber: car, GapToLeader: &lg, Interval: &in})
		}
		for i, car := range []int{11, 1, 14, 63, 16} {
			position(car, i+1, at)
			live(openf1.LiveUpdate{Kind: openf1.KindLap, DriverNumber: car, LapNumber: 14})
		}
		gap(1, 1.9, 1.9)
		gap(14, 6.2, 4.3)
		live(openf1.LiveUpdate{Kind: openf1.KindRaceControl, Category: "Flag", Flag: "YELLOW", Message: "YELLOW IN TRACK SECTOR 7", LapNumber: 14})
		br.waitFor("the running order", `document.querySelectorAll("#running-order tbody tr").length === 5`)
		br.waitFor("Pérez leading", `document.querySelector("#running-order tbody tr").dataset.car === "11"`)
		br.waitFor("the race-control message", `document.getElementById("race-control").innerText.includes("YELLOW IN TRACK SECTOR 7")`)
		// Verstappen passes Pérez.
		position(1, 1, at.Add(time.Second))
		position(11, 2, at.Add(time.Second))
		br.waitFor("Verstappen leading", `document.querySelector("#running-order tbody tr").dataset.car === "1"`)
		br.notReloaded("running order")
	})

	t.Run("pipeline", func(t *testing.T) {
		br.t = t
		br.open("/pipeline")
		topics := eval[string](br, `document.getElementById("stat-topics").innerText`)
		if topics == "" || topics == "0" {
			t.Errorf("topics counter %q", topics)
		}
		br.waitFor("the F1 processors", `document.getElementById("processors").innerText.includes("f1-results")`)
		br.waitFor("recent batches", `document.querySelectorAll("#batches tbody tr").length > 1`)
		if got := eval[string](br, `document.getElementById("stat-dead").innerText`); got != "0" {
			t.Errorf("dead letters %q before any, want 0", got)
		}
		if err := b.Publish(context.Background(), &bus.Message{Topic: f1.TopicResults, Key: "bad", Value: []byte(`{"season": "twenty"}`)}); err != nil {
			t.Fatal(err)
		}
		br.waitFor("the dead letter counted", `document.getElementById("stat-dead").innerText === "1"`)
		br.waitFor("the dead letter's reason", `document.getElementById("dead-letters").innerText.includes("not a result")`)
		br.notReloaded("pipeline")
	})

	t.Run("activities", func(t *testing.T) {
		br.t = t
		ctx := context.Background()
		s := clientStore(t, dir)
		if _, err := hr.ImportSample(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, err := commute.Check(ctx, s.DB(), commute.Offline{}, commute.SampleOffice()); err != nil {
			t.Fatal(err)
		}
		reg, err := hr.Load(ctx, s.DB())
		if err != nil {
			t.Fatal(err)
		}
		var emps []generate.Employee
		for _, e := range reg.Employees {
			emps = append(emps, generate.Employee{ID: e.ID, Sports: e.Sports})
		}
		paris, _ := time.LoadLocation("Europe/Paris")
		year, err := generate.Year(emps, generate.Config{Year: 2025, Seed: 3, Location: paris})
		if err != nil {
			t.Fatal(err)
		}
		// Every fifth activity of the year: enough for every chart, quick
		// through the change-data capture under -race.
		var acts []activities.Activity
		for i := 0; i < len(year); i += 5 {
			acts = append(acts, year[i])
		}
		if err := activities.Migrate(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := activities.Upsert(ctx, s.DB(), acts...); err != nil {
			t.Fatal(err)
		}
		want := strconv.Itoa(len(acts))
		waitFor(t, "the year's activities to reach the gold table", func() bool {
			return strings.Contains(httpGet(t, base+"/activities?year=2025"), `id="stat-activities">`+want+`<`)
		})
		br.open("/activities?year=2025")
		if got := eval[string](br, `document.getElementById("stat-activities").innerText`); got != want {
			t.Errorf("activities counter %q, want %s", got, want)
		}
		for _, id := range []string{"business-units", "sports", "monthly-chart", "feed"} {
			if n := eval[int](br, `document.getElementById("`+id+`").textContent.trim().length`); n == 0 {
				t.Errorf("#%s is empty", id)
			}
		}
		// One more activity, as it happens: the open page follows.
		late := year[len(year)-1]
		late.ID, late.SportType, late.Comment = late.ID+1, "Swim", "browser test"
		late.DistanceM, late.ElapsedS = 1500, 2400 // a swim's figures: the rules hold an implausible speed
		late.StartTime = time.Date(2025, 12, 31, 9, 0, 0, 0, paris)
		late.UpdatedAt = time.Now()
		if err := activities.Upsert(ctx, s.DB(), late); err != nil {
			t.Fatal(err)
		}
		next := strconv.Itoa(len(acts) + 1)
		br.waitFor("the new activity counted", `document.getElementById("stat-activities").innerText === "`+next+`"`)
		br.waitFor("the new activity in the feed", `document.querySelector('#feed time[datetime="2025-12-31T09:00:00+01:00"]') !== null`)
		// Shown in the viewer's zone, which the page names.
		if got := eval[string](br, `document.querySelector('#feed time[datetime="2025-12-31T09:00:00+01:00"]').textContent`); !strings.Contains(got, "2025") || strings.Contains(got, "CET") && !strings.Contains(got, "9") {
			t.Errorf("the new activity's time reads %q", got)
		}
		if got, want := eval[string](br, `document.querySelector("#feed [data-tz-name]").textContent`), eval[string](br, `Intl.DateTimeFormat().resolvedOptions().timeZone`); got != want {
			t.Errorf("the feed names zone %q, the viewer's is %q", got, want)
		}
		br.notReloaded("activities")
	})

	t.Run("without JavaScript", func(t *testing.T) {
		br.t = t
		br.do("disable scripts", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
		defer br.do("enable scripts", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false})
			return err
		}))
		for _, page := range []struct{ path, sel string }{
			{"/", "#leaders-drivers"}, {"/race?season=2023&round=1", "#classification"},
			{"/championship?season=2021", "#champion"}, {"/drivers/" + fallbackDriver, "#driver-results"},
			{"/pipeline", "#processors"},
		} {
			br.do("open "+page.path, chromedp.Navigate(base+page.path), chromedp.WaitVisible(chromedp.CSS(page.sel)))
		}
		// The form's button submits the selection.
		br.do("choose 2021 round 22", chromedp.Navigate(base+"/race?season=2021&round=1"),
			chromedp.SetValue(chromedp.ID("sel-round"), "22"), chromedp.Click(chromedp.CSS("form.selector button")))
		// The old page is still there until the new one loads: wait for
		// its heading rather than for an element both pages have.
		// (Polled from Go: the page runs no script, not even a poller.)
		var heading string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			heading = eval[string](br, `document.querySelector("h1") ? document.querySelector("h1").innerText : ""`)
			if strings.Contains(heading, "Abu Dhabi") {
				break
			}
		}
		if !strings.Contains(heading, "Abu Dhabi") {
			t.Errorf("after choosing round 22 without JavaScript: %q", heading)
		}
		// Without JavaScript the broken headshot shows nothing over the
		// initials behind it.
		br.do("open the driver", chromedp.Navigate(base+"/drivers/"+fallbackDriver), chromedp.WaitVisible(chromedp.ID("initials")))
		br.shot("driver-nojs-desktop", false)
		// The phone's menu needs no script.
		br.viewport(true)
		defer br.viewport(false)
		br.do("open the overview", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("leaders-drivers")))
		for _, problem := range br.navProblems(true, "overview-nojs-phone-menu") {
			t.Errorf("without JavaScript: %s", problem)
		}
	})

	t.Run("screenshots", func(t *testing.T) {
		br.t = t
		// Every page at both widths, with the columns that must stay in
		// view (the first, that names the row, and the one that matters)
		// and how many charts it shows.
		pages := []struct {
			name, path string
			keys       []keyColumn
			charts     int
		}{
			{"overview", "/", []keyColumn{{"#latest-classification", "Driver"}, {"#latest-classification", "Points"}}, 0},
			{"race-live", "/race?season=2023&round=2&session=RACE", []keyColumn{{"#running-order", "Driver"}, {"#running-order", "Gap"}}, 0},
			{"race", "/race?season=2023&round=1&session=RACE", []keyColumn{{"#classification", "Driver"}, {"#classification", "Points"}}, 0},
			{"championship", "/championship?season=2021", []keyColumn{{"table.standings", "Driver"}, {"table.standings", "Points"}}, 2},
			{"driver", "/drivers/" + fallbackDriver, []keyColumn{{"#driver-results", "Grand Prix"}, {"#driver-results", "Points"}}, 1},
			{"driver-champion", "/drivers/max-verstappen?season=2021", []keyColumn{{"#driver-results", "Grand Prix"}, {"#driver-results", "Points"}}, 1},
			{"pipeline", "/pipeline", []keyColumn{{"#processors", "Stage"}, {"#processors", "Lag"}, {"#topics", "Topic"}, {"#topics", "Messages"}}, 0},
			{"activities", "/activities?year=2025", []keyColumn{{"#business-units", "Unit"}, {"#business-units", "Bonus €"}}, 1},
			{"not-found", "/no-such-page", nil, 0},
		}
		var paths []string
		for _, phone := range []bool{false, true} {
			br.viewport(phone)
			device := "desktop"
			if phone {
				device = "phone"
			}
			for _, p := range pages {
				if p.name == "not-found" {
					br.do("open "+p.path, chromedp.Navigate(br.base+p.path))
				} else {
					br.open(p.path)
				}
				paths = append(paths, br.shot(p.name+"-"+device, true))
				problems := append(br.layoutProblems(p.keys), br.chartProblems(p.charts)...)
				problems = append(problems, br.navProblems(phone, p.name+"-"+device+"-menu")...)
				for _, problem := range problems {
					t.Errorf("%s at %s: %s", p.path, device, problem)
				}
			}
		}
		// The phone's open menu closes on Escape, back to its button, and
		// on a click outside it.
		menuOpen := `document.getElementById("menu").open`
		br.do("open the menu", chromedp.Click(chromedp.CSS(menuButton)))
		br.do("press Escape", chromedp.KeyEvent(kb.Escape))
		if eval[bool](br, menuOpen) || !eval[bool](br, `document.activeElement === document.querySelector("`+menuButton+`")`) {
			t.Error("Escape does not close the menu, back to its button")
		}
		if !eval[bool](br, menuOpen) {
			br.do("open the menu", chromedp.Click(chromedp.CSS(menuButton)))
		}
		// (Dispatched: the open menu covers the top of the page.)
		eval[chromedp.Void](br, `document.querySelector("footer.foot").dispatchEvent(new MouseEvent("click", {bubbles: true}))`)
		if eval[bool](br, menuOpen) {
			t.Error("a click outside the menu does not close it")
		}
		br.viewport(false)
		br.media(true)
		for _, p := range []struct{ name, path string }{{"championship", "/championship?season=2021"}, {"race-live", "/race?season=2023&round=2&session=RACE"},
			{"activities", "/activities?year=2025"}} {
			br.open(p.path)
			paths = append(paths, br.shot(p.name+"-desktop-dark", true))
		}
		br.media(false)
		// The README's picture: the championship as a laptop shows it.
		br.open("/championship?season=2021")
		readme := br.shot("championship-readme", false)
		if os.Getenv("PODIUM_UPDATE_DOCS") != "" {
			png, err := os.ReadFile(readme)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "championship.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("screenshots in %s:\n  %s", br.artifacts, strings.Join(paths, "\n  "))
	})
}
