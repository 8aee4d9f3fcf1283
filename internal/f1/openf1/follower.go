package openf1

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/podiumhq/podium/internal/bus"
)

// Defaults of Follower.
const (
	DefaultPollInterval    = 5 * time.Second
	DefaultRefreshInterval = time.Minute
	DefaultStableFor       = 10 * time.Minute
	DefaultResultsWait     = 3 * time.Hour
	DefaultMQTTURL         = "mqtts://mqtt.openf1.org:8883"
	DefaultMQTTTopicPrefix = "v1/"
)

// publishBatch caps the messages of one Publish call.
const publishBatch = 500

// maxFailedPolls ends Run after this many polls in a row failed.
const maxFailedPolls = 60

// ErrNoResults is returned by Run when a race or sprint ended long ago
// (Follower.ResultsWait) and OpenF1 still has no result for it.
var ErrNoResults = errors.New("openf1: no results for the session")

// Follower follows one OpenF1 session and publishes it on the bus: its
// results (races and sprints) to f1.results when new or changed, and its
// running order, gaps, laps, pit stops and race-control messages to
// f1.live as LiveUpdates.
//
// It polls the REST API every PollInterval, asking only for rows newer
// than those it has seen. When the client has credentials (and PollOnly is
// not set) it subscribes to OpenF1's MQTT feed for the live data and the
// session results instead, and polls only while the feed is down; the
// session, its drivers and its starting grid always come over REST.
//
// Run stops when the session has ended and its results have been stable
// for StableFor, or when ctx ends. Only Client is required.
type Follower struct {
	Client *Client
	// Session is the followed session: a session_key, or "latest" (the
	// default), resolved once when Run starts.
	Session string
	// Resolver gives rounds and archive ids (the season archive); rounds
	// and ids it does not know are derived from OpenF1 (FallbackResolver).
	Resolver Resolver
	// PollInterval is the time between two REST polls, default 5 s: each
	// poll costs about six requests of the client's rate limit.
	PollInterval time.Duration
	// RefreshInterval is how often the session, its drivers and starting
	// grid are re-read, and all laps re-read to catch late amendments;
	// default 1 min.
	RefreshInterval time.Duration
	// StableFor is how long the results must stay unchanged after the
	// session's end before Run returns; default 10 min.
	StableFor time.Duration
	// ResultsWait is how long after a race's end Run waits for results
	// before failing with ErrNoResults; default 3 h.
	ResultsWait time.Duration
	// LiveSince, when set, skips live rows dated before it (a follow
	// started mid-race does not publish the race's history).
	LiveSince time.Time
	// PollOnly polls the REST API even when the client has credentials.
	PollOnly bool
	// MQTTURL is the MQTT broker, default DefaultMQTTURL.
	MQTTURL string
	// MQTTTopicPrefix is put before endpoint names to make topics, default
	// "v1/".
	MQTTTopicPrefix string
	// Logger receives progress logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock that decides when the session has ended; default
	// time.Now.
	Now func() time.Time

	// onSubscribed, when set, is called once the MQTT subscriptions are
	// acknowledged (tests).
	onSubscribed func()
}

// Run follows the session until it is over (nil), ctx ends (ctx.Err()),
// or it fails: the session cannot be found, the bus refuses messages, or
// OpenF1 keeps failing.
func (f *Follower) Run(ctx context.Context, b bus.Bus) error {
	if f.Client == nil {
		return errors.New("openf1: Follower.Client is not set")
	}
	cfg := *f
	cfg.setDefaults()
	st, err := cfg.start(ctx)
	if err != nil {
		return err
	}
	st.log.Info("following OpenF1 session", "session_key", st.id.SessionKey, "session", st.session.SessionName,
		"grand_prix", st.id.GrandPrix, "season", st.id.Season, "round", st.id.Round,
		"date_end", st.session.DateEnd.Time, "mqtt", cfg.useMQTT())
	if cfg.useMQTT() {
		return st.runMQTT(ctx, b)
	}
	return st.runPoll(ctx, b)
}

func (f *Follower) setDefaults() {
	if f.Session == "" {
		f.Session = Latest
	}
	if f.PollInterval <= 0 {
		f.PollInterval = DefaultPollInterval
	}
	if f.RefreshInterval <= 0 {
		f.RefreshInterval = DefaultRefreshInterval
	}
	if f.StableFor <= 0 {
		f.StableFor = DefaultStableFor
	}
	if f.ResultsWait <= 0 {
		f.ResultsWait = DefaultResultsWait
	}
	if f.MQTTURL == "" {
		f.MQTTURL = DefaultMQTTURL
	}
	if f.MQTTTopicPrefix == "" {
		f.MQTTTopicPrefix = DefaultMQTTTopicPrefix
	}
	if f.Logger == nil {
		f.Logger = slog.New(slog.DiscardHandler)
	}
	if f.Now == nil {
		f.Now = time.Now
	}
}

func (f *Follower) useMQTT() bool { return !f.PollOnly && f.Client.HasCredentials() }

// follow is the state of one Run.
type follow struct {
	cfg *Follower
	c   *Client
	log *slog.Logger

	session  Session
	meeting  Meeting
	id       Identity
	results  bool // a race or sprint: publishes f1.Results
	resolver Resolvers
	fallback *FallbackResolver

	drivers []Driver
	grid    []StartingGrid
	rows    map[int]SessionResult // latest session_result row per car
	bestLap map[int]float64       // quickest lap per car, for FastestLap
	// published is the content hash of the last Result published per key.
	published map[string]string

	trackers []*tracker

	historic     bool      // the session had settled before Run started
	lastChange   time.Time // by cfg.Now: last new or changed row
	lastRefresh  time.Time // by cfg.Now
	refreshNow   bool      // drivers unknown to the mapping: refresh at once
	failedPolls  int
	lastMapError string
}

// tracker follows one live endpoint.
type tracker struct {
	endpoint  string
	dateField string
	// lookback re-reads rows this far behind the newest seen, to catch
	// rows stored late or amended (laps are completed as they are run).
	lookback time.Duration
	cursor   time.Time // newest row date seen
	seen     map[string]seenRow
	full     bool // the next poll reads every row (first poll, refresh)
	// prune forgets rows the cursor has passed. Not for endpoints that are
	// re-read whole (laps): their old rows would look new again.
	prune bool
}

type seenRow struct {
	hash string
	at   time.Time
}

func (f *Follower) start(ctx context.Context) (*follow, error) {
	c := f.Client
	st := &follow{
		cfg: f, c: c, log: f.Logger,
		rows: map[int]SessionResult{}, bestLap: map[int]float64{}, published: map[string]string{},
	}
	sessions, err := c.Sessions(ctx, SessionKey(f.Session))
	if err != nil {
		return nil, fmt.Errorf("openf1: find session %q: %w", f.Session, err)
	}
	if len(sessions) == 0 {
		return nil, fmt.Errorf("openf1: no session %q", f.Session)
	}
	st.session = latestSession(sessions)
	key := st.session.SessionKey
	if key == 0 {
		return nil, fmt.Errorf("openf1: session %q has no session_key", f.Session)
	}
	if st.session.MeetingKey != 0 {
		meetings, err := c.Meetings(ctx, Eq("meeting_key", st.session.MeetingKey))
		if err != nil {
			return nil, fmt.Errorf("openf1: meeting of session %d: %w", key, err)
		}
		if len(meetings) > 0 {
			st.meeting = meetings[0]
		}
	}
	if st.drivers, err = c.Drivers(ctx, Eq("session_key", key)); err != nil {
		return nil, fmt.Errorf("openf1: drivers of session %d: %w", key, err)
	}
	_, st.results = SessionKind(st.session.SessionName)

	st.fallback = NewFallbackResolver(nil, nil, st.drivers)
	st.resolver = Resolvers{f.Resolver, st.fallback}
	id, ok := ResolveIdentity(st.resolver, st.session, st.meeting)
	if !ok && st.session.Year > 0 {
		// The archive does not know this weekend: count the season's races.
		meetings, err := c.Meetings(ctx, Eq("year", st.session.Year))
		if err != nil {
			return nil, fmt.Errorf("openf1: meetings of %d: %w", st.session.Year, err)
		}
		races, err := c.Sessions(ctx, Eq("year", st.session.Year), Eq("session_name", "Race"))
		if err != nil {
			return nil, fmt.Errorf("openf1: races of %d: %w", st.session.Year, err)
		}
		st.fallback = NewFallbackResolver(meetings, races, st.drivers)
		st.resolver = Resolvers{f.Resolver, st.fallback}
		id, ok = ResolveIdentity(st.resolver, st.session, st.meeting)
	}
	if !ok {
		if st.results {
			return nil, fmt.Errorf("openf1: no round for session %d (%s, %s %d)", key,
				st.session.SessionName, st.meeting.MeetingName, st.session.Year)
		}
		st.log.Warn("openf1 session is not part of a round; live updates carry round 0",
			"session_key", key, "meeting", st.meeting.MeetingName)
	}
	st.id = id
	if st.results {
		if st.grid, err = c.StartingGrid(ctx, Eq("session_key", key)); err != nil {
			st.log.Warn("openf1 starting grid unavailable", "session_key", key, "err", err)
		}
	}

	st.trackers = []*tracker{
		{endpoint: EndpointPosition, dateField: "date", lookback: 30 * time.Second, prune: true},
		{endpoint: EndpointIntervals, dateField: "date", lookback: 30 * time.Second, prune: true},
		{endpoint: EndpointLaps, dateField: "date_start", lookback: 5 * time.Minute},
		{endpoint: EndpointPit, dateField: "date", lookback: 3 * time.Minute},
		{endpoint: EndpointRaceControl, dateField: "date", lookback: 30 * time.Second},
	}
	for _, t := range st.trackers {
		t.seen = map[string]seenRow{}
		t.full = true
	}
	now := f.Now()
	st.lastChange, st.lastRefresh = now, now
	end := st.session.DateEnd.Time
	st.historic = !end.IsZero() && now.After(end.Add(f.StableFor))
	return st, nil
}

// latestSession picks the newest of the sessions "latest" matched.
func latestSession(ss []Session) Session {
	return slices.MaxFunc(ss, func(a, b Session) int {
		if c := a.DateStart.Compare(b.DateStart.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.SessionKey, b.SessionKey)
	})
}

// runPoll follows the session over REST.
func (st *follow) runPoll(ctx context.Context, b bus.Bus) error {
	ticker := time.NewTicker(st.cfg.PollInterval)
	defer ticker.Stop()
	for {
		changed, err := st.poll(ctx, b, true)
		if err != nil {
			return err
		}
		if done, err := st.finished(changed); done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// poll reads what is new over REST (the results, and the live endpoints
// when live is set), publishes it, and reports whether anything changed.
// OpenF1 failures are logged and retried at the next poll; bus failures
// and too many failed polls in a row are returned.
func (st *follow) poll(ctx context.Context, b bus.Bus, live bool) (bool, error) {
	if err := st.refreshIfDue(ctx); err != nil {
		return false, err
	}
	var msgs []*bus.Message
	var hashes map[string]string
	var failed []error

	if st.results {
		rows, err := st.c.SessionResults(ctx, Eq("session_key", st.id.SessionKey))
		if err != nil {
			failed = append(failed, err)
		} else {
			st.rows = make(map[int]SessionResult, len(rows))
			for _, r := range rows {
				st.rows[r.DriverNumber] = r
			}
		}
	}
	if live {
		for _, t := range st.trackers {
			items, err := st.fetch(ctx, t)
			if err != nil {
				failed = append(failed, err)
				continue
			}
			msgs = append(msgs, st.accept(t, items)...)
		}
	}
	rmsgs, rh := st.resultMessages()
	msgs, hashes = append(rmsgs, msgs...), rh

	if err := ctx.Err(); err != nil {
		return false, err
	}
	if len(failed) > 0 {
		st.failedPolls++
		st.log.Warn("openf1 poll failed", "session_key", st.id.SessionKey, "err", errors.Join(failed...),
			"failed_polls", st.failedPolls)
		if st.failedPolls >= maxFailedPolls {
			return false, fmt.Errorf("openf1: %d polls in a row failed: %w", st.failedPolls, errors.Join(failed...))
		}
	} else {
		st.failedPolls = 0
	}
	if err := st.publish(ctx, b, msgs, hashes); err != nil {
		return false, err
	}
	return len(msgs) > 0, nil
}

// fetch reads one live endpoint's rows from the tracker's cursor on.
func (st *follow) fetch(ctx context.Context, t *tracker) ([]liveItem, error) {
	filters := []Filter{Eq("session_key", st.id.SessionKey)}
	var from time.Time
	if !t.full && !t.cursor.IsZero() {
		from = t.cursor.Add(-t.lookback)
	}
	if from.Before(st.cfg.LiveSince) && t.endpoint != EndpointLaps {
		from = st.cfg.LiveSince // laps are always read whole on a full read: they decide the fastest lap
	}
	if !from.IsZero() {
		filters = append(filters, Gte(t.dateField, from))
	}
	id := st.id
	var items []liveItem
	switch t.endpoint {
	case EndpointPosition:
		rows, err := st.c.Positions(ctx, filters...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			items = append(items, positionItem(id, r))
		}
	case EndpointIntervals:
		rows, err := st.c.Intervals(ctx, filters...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			items = append(items, intervalItem(id, r))
		}
	case EndpointLaps:
		rows, err := st.c.Laps(ctx, filters...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			st.noteLap(r)
			items = append(items, lapItem(id, r))
		}
	case EndpointPit:
		rows, err := st.c.Pits(ctx, filters...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			items = append(items, pitItem(id, r))
		}
	case EndpointRaceControl:
		rows, err := st.c.RaceControl(ctx, filters...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			items = append(items, raceControlItem(id, r))
		}
	}
	t.full = false
	return items, nil
}

func (st *follow) noteLap(l Lap) {
	if l.LapDuration == nil || *l.LapDuration <= 0 {
		return
	}
	if best, ok := st.bestLap[l.DriverNumber]; !ok || *l.LapDuration < best {
		st.bestLap[l.DriverNumber] = *l.LapDuration
	}
}

// accept keeps the items that are new or changed, advances the cursor and
// returns their messages. Their hashes are recorded at once: a message the
// bus then refuses ends Run, so nothing is silently skipped.
func (st *follow) accept(t *tracker, items []liveItem) []*bus.Message {
	slices.SortStableFunc(items, func(a, b liveItem) int { return a.at.Compare(b.at) })
	var msgs []*bus.Message
	for _, it := range items {
		if it.at.After(t.cursor) {
			t.cursor = it.at
		}
		if !st.cfg.LiveSince.IsZero() && (it.at.IsZero() || it.at.Before(st.cfg.LiveSince)) {
			continue // before the follow started (an undated lap is a first lap)
		}
		value, err := json.Marshal(it.u)
		if err != nil {
			st.log.Error("openf1 live update not encodable", "ident", it.ident, "err", err)
			continue
		}
		hash := contentHash(value)
		if prev, ok := t.seen[it.ident]; ok && prev.hash == hash {
			continue
		}
		t.seen[it.ident] = seenRow{hash: hash, at: it.at}
		msgs = append(msgs, liveMessage(it, value, hash))
	}
	if t.prune {
		// Forget rows the cursor will not read again.
		horizon := t.cursor.Add(-t.lookback - time.Minute)
		for k, s := range t.seen {
			if !s.at.IsZero() && s.at.Before(horizon) {
				delete(t.seen, k)
			}
		}
	}
	return msgs
}

// resultMessages maps the current session_result rows and returns the
// results that differ from those published, with their hashes by key.
func (st *follow) resultMessages() ([]*bus.Message, map[string]string) {
	if !st.results || len(st.rows) == 0 {
		return nil, nil
	}
	rows := slices.Collect(maps.Values(st.rows))
	slices.SortFunc(rows, func(a, b SessionResult) int { return cmp.Compare(a.DriverNumber, b.DriverNumber) })
	laps := make([]Lap, 0, len(st.bestLap))
	for car, d := range st.bestLap {
		laps = append(laps, Lap{DriverNumber: car, LapDuration: &d})
	}
	data := SessionData{Session: st.session, Meeting: st.meeting, Drivers: st.drivers, Results: rows, Grid: st.grid, Laps: laps}
	results, err := mapResults(st.id, data, st.resolver)
	if err != nil {
		if msg := err.Error(); msg != st.lastMapError {
			st.log.Warn("openf1 results not mappable yet; re-reading drivers", "err", err)
			st.lastMapError = msg
		}
		st.refreshNow = true
		return nil, nil
	}
	st.lastMapError = ""
	var msgs []*bus.Message
	hashes := map[string]string{}
	for _, r := range results {
		m, hash, err := resultMessage(r)
		if err != nil {
			st.log.Error("openf1 result not encodable", "key", r.Key(), "err", err)
			continue
		}
		if st.published[m.Key] == hash {
			continue
		}
		msgs = append(msgs, m)
		hashes[m.Key] = hash
	}
	return msgs, hashes
}

// publish sends msgs in batches and records the published results.
func (st *follow) publish(ctx context.Context, b bus.Bus, msgs []*bus.Message, hashes map[string]string) error {
	if len(msgs) == 0 {
		return nil
	}
	for batch := range slices.Chunk(msgs, publishBatch) {
		if err := b.Publish(ctx, batch...); err != nil {
			return fmt.Errorf("openf1: publish %d messages of session %d: %w", len(batch), st.id.SessionKey, err)
		}
	}
	results := 0
	for k, h := range hashes {
		st.published[k] = h
		results++
	}
	st.lastChange = st.cfg.Now()
	st.log.Info("openf1 published", "session_key", st.id.SessionKey, "results", results, "live", len(msgs)-results)
	return nil
}

// refreshIfDue re-reads the session (its end may move), its drivers and
// its starting grid, and has the next poll read all laps.
func (st *follow) refreshIfDue(ctx context.Context) error {
	if !st.refreshDue() {
		return nil
	}
	now := st.cfg.Now()
	st.refreshNow = false
	st.lastRefresh = now
	key := st.id.SessionKey
	if ss, err := st.c.Sessions(ctx, Eq("session_key", key)); err == nil && len(ss) > 0 {
		st.session = ss[0]
	} else if err != nil {
		st.log.Warn("openf1 session refresh failed", "session_key", key, "err", err)
	}
	if ds, err := st.c.Drivers(ctx, Eq("session_key", key)); err == nil {
		if len(ds) > 0 {
			st.drivers = ds
			st.fallback.setDrivers(ds)
		}
	} else {
		st.log.Warn("openf1 drivers refresh failed", "session_key", key, "err", err)
	}
	if st.results {
		if g, err := st.c.StartingGrid(ctx, Eq("session_key", key)); err == nil {
			if len(g) > 0 {
				st.grid = g
			}
		} else {
			st.log.Warn("openf1 starting grid refresh failed", "session_key", key, "err", err)
		}
	}
	for _, t := range st.trackers {
		if t.endpoint == EndpointLaps {
			t.full = true
		}
	}
	return ctx.Err()
}

func (st *follow) refreshDue() bool {
	return st.refreshNow || st.cfg.Now().Sub(st.lastRefresh) >= st.cfg.RefreshInterval
}

// finished says whether the follow is over: the session has ended, its
// results are in and nothing has changed for StableFor (or, for a session
// that had long ended when Run started, one poll brought nothing new).
func (st *follow) finished(changed bool) (bool, error) {
	now := st.cfg.Now()
	end := st.session.DateEnd.Time
	if end.IsZero() || !now.After(end) {
		return false, nil
	}
	if st.results && len(st.rows) == 0 {
		if now.Sub(end) > st.cfg.ResultsWait {
			return true, fmt.Errorf("%w %d, %s after its end", ErrNoResults, st.id.SessionKey, st.cfg.ResultsWait)
		}
		return false, nil
	}
	if st.results && st.lastMapError != "" {
		if now.Sub(end) > st.cfg.ResultsWait {
			return true, fmt.Errorf("openf1: results of session %d still not mappable %s after its end: %s",
				st.id.SessionKey, st.cfg.ResultsWait, st.lastMapError)
		}
		return false, nil
	}
	if changed {
		return false, nil
	}
	if st.historic || now.Sub(st.lastChange) >= st.cfg.StableFor {
		st.log.Info("openf1 session over and results stable; stopping", "session_key", st.id.SessionKey)
		return true, nil
	}
	return false, nil
}

func (r *FallbackResolver) setDrivers(ds []Driver) {
	m := make(map[int]Driver, len(ds))
	for _, d := range ds {
		m[d.DriverNumber] = d
	}
	r.drivers = m
}
