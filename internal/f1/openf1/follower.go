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
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/f1"
)

// Defaults of Follower.
const (
	// DefaultPollInterval keeps REST polling within OpenF1's public
	// limits: a poll costs about six requests, the refresh three a minute,
	// 4×6+3 = 27 of the 30 a minute. A shorter interval would poll in
	// bursts (five polls, then the minute's allowance is spent).
	DefaultPollInterval    = 15 * time.Second
	DefaultRefreshInterval = time.Minute
	DefaultStableFor       = 10 * time.Minute
	DefaultResultsWait     = 3 * time.Hour
	DefaultStaleAfter      = 20 * time.Second
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

// PastResults returns the results of a session that is over from another
// source than OpenF1 (the bundled archive), false when it has none.
type PastResults func(season, round int, session string) ([]f1.Result, bool)

// Follower follows one OpenF1 session and publishes it on the bus: its
// results (races and sprints) to f1.results when new or changed, and its
// drivers, running order, gaps, laps, pit stops and race-control messages
// to f1.live as LiveUpdates.
//
// Its sources, best first: OpenF1's MQTT feed when the client has
// credentials (and PollOnly is not set), REST polling otherwise and
// whenever the feed is down or silent, and Archive for a session that was
// over before Run started when OpenF1 has no results for it. A switch is
// logged, counted (podium_openf1_fallbacks_total, podium_openf1_source)
// and published as a KindSource update, which the race page shows. The
// session, its drivers and its starting grid always come over REST.
//
// Every row is decoded by DecodeRow whatever its source, and a row is
// published once however many sources bring it (its identity and content
// decide), so that a switch loses and doubles nothing.
//
// Run stops when the session has ended and its results have been stable
// for StableFor, or when ctx ends. RunRecording plays a Recording through
// the same path. Only Client is required (and not for RunRecording).
type Follower struct {
	Client *Client
	// Session is the followed session: a session_key, or "latest" (the
	// default), resolved once when Run starts.
	Session string
	// Resolver gives rounds and archive ids (the season archive); rounds
	// and ids it does not know are derived from OpenF1 (FallbackResolver).
	Resolver Resolver
	// Archive gives the results of a session that was over when Run
	// started, when OpenF1 has none; nil: none.
	Archive PastResults
	// PollInterval is the time between two REST polls, default
	// DefaultPollInterval (each poll costs about six requests of the
	// client's rate limit). The MQTT feed's health is checked at least
	// every feedCheck whatever it is.
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
	// StaleAfter is how long the MQTT feed may stay silent while the
	// session runs before REST polling takes over (a feed that stopped
	// without closing the connection); default 20 s.
	StaleAfter time.Duration
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
	// Delay holds every message back this long before it is published (a
	// broadcast delay, to match a TV stream); 0 publishes at once.
	Delay time.Duration
	// Record, when set, receives every new or changed OpenF1 row as it
	// arrives.
	Record *Recorder
	// Metrics registers the follower's metrics; nil registers none.
	Metrics prometheus.Registerer
	// Logger receives progress logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock that decides when the session has ended; default
	// time.Now.
	Now func() time.Time

	// onSubscribed, when set, is called each time MQTT subscriptions are
	// acknowledged (tests).
	onSubscribed func()
}

// Run follows the session until it is over (nil), ctx ends (ctx.Err()),
// or it fails: the session cannot be found, the bus refuses messages, or
// OpenF1 keeps failing. With a nil b nothing is published (Record only).
func (f *Follower) Run(ctx context.Context, b bus.Bus) (err error) {
	if f.Client == nil {
		return errors.New("openf1: Follower.Client is not set")
	}
	cfg := *f
	cfg.setDefaults()
	boot, err := cfg.fetchBootstrap(ctx)
	if err != nil {
		return err
	}
	st, err := cfg.newFollow(ctx, b, boot)
	if err != nil {
		return err
	}
	defer func() { err = st.close(err) }()
	st.log.Info("following OpenF1 session", "session_key", st.id.SessionKey, "session", st.session.SessionName,
		"grand_prix", st.id.GrandPrix, "season", st.id.Season, "round", st.id.Round,
		"date_end", st.session.DateEnd.Time, "mqtt", cfg.useMQTT(), "delay", cfg.Delay)
	if err := st.ingest(ctx, f1.SourceOpenF1REST, boot.rows); err != nil {
		return err
	}
	if cfg.useMQTT() {
		return st.runMQTT(ctx)
	}
	if err := st.setSource(ctx, f1.SourceOpenF1REST, false, ""); err != nil {
		return err
	}
	return st.runPoll(ctx)
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
	if f.StaleAfter <= 0 {
		f.StaleAfter = DefaultStaleAfter
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
	out *outbox
	m   *metrics

	session     Session
	meeting     Meeting
	id          Identity
	results     bool // a race or sprint: publishes f1.Results
	resolver    Resolvers
	fallbackRes *FallbackResolver

	drivers map[int]Driver
	grid    map[int]StartingGrid
	rows    map[int]SessionResult // latest session_result row per car
	// published is the content hash of the last Result published per key.
	published map[string]string
	// seen is the content hash of each row handled, by endpoint and
	// identity: a row seen again unchanged is dropped.
	seen map[string]map[string]seenRow

	trackers []*tracker

	// resultsDirty is set when rows the results depend on changed since
	// they were last published; resultsSource is the source of the latest
	// such row, lastResultRow when the latest session_result row came.
	resultsDirty  bool
	resultsSource string
	lastResultRow time.Time

	source       string // f1.Source… the follower reads from now
	fallback     bool   // source is a fallback for a better one
	historic     bool   // the session had settled before Run started
	archived     bool   // the archive's results were published
	lastChange   time.Time
	lastRefresh  time.Time
	lastPoll     time.Time // when the last REST poll of the live endpoints started
	refreshNow   bool      // drivers unknown to the mapping: refresh at once
	failedPolls  int
	lastMapError string
}

// tracker follows one live endpoint over REST.
type tracker struct {
	endpoint  string
	dateField string
	// lookback re-reads rows this far behind the newest seen, to catch
	// rows stored late or amended (laps are completed as they are run).
	lookback time.Duration
	cursor   time.Time // newest row date seen
	full     bool      // the next poll reads every row (first poll, refresh)
	// prune forgets rows the cursor has passed. Not for endpoints that are
	// re-read whole (laps): their old rows would look new again.
	prune bool
}

type seenRow struct {
	hash string
	at   time.Time
}

// bootstrap is what the follower needs to know before it follows: the
// session, its meeting and drivers, and for a weekend the resolver does not
// know, the season's meetings and races (to count the rounds).
type bootstrap struct {
	session        Session
	meeting        Meeting
	drivers        []Driver
	seasonMeetings []Meeting
	seasonRaces    []Session
	// rows are the session's own rows (session, meeting, drivers,
	// starting grid) to handle first.
	rows []feedRow
	// seasonRows are the rows of seasonMeetings and seasonRaces, for the
	// recording.
	seasonRows []feedRow
}

// feedRow is one OpenF1 row as a source delivered it.
type feedRow struct {
	endpoint string
	raw      json.RawMessage
}

// fetchBootstrap reads the session and what identifies it over REST.
func (f *Follower) fetchBootstrap(ctx context.Context) (bootstrap, error) {
	c := f.Client
	var boot bootstrap
	raw, err := c.rawRows(ctx, EndpointSessions, []Filter{SessionKey(f.Session)})
	if err != nil {
		return boot, fmt.Errorf("openf1: find session %q: %w", f.Session, err)
	}
	var sessions []Session
	for _, r := range raw {
		if v, err := DecodeRow(EndpointSessions, r); err == nil {
			sessions = append(sessions, v.(Session))
		}
	}
	if len(sessions) == 0 {
		return boot, fmt.Errorf("openf1: no session %q", f.Session)
	}
	boot.session = latestSession(sessions)
	key := boot.session.SessionKey
	for _, r := range raw {
		if v, err := DecodeRow(EndpointSessions, r); err == nil && v.(Session).SessionKey == key {
			boot.rows = append(boot.rows, feedRow{EndpointSessions, r})
			break
		}
	}
	if boot.session.MeetingKey != 0 {
		raw, err := c.rawRows(ctx, EndpointMeetings, []Filter{Eq("meeting_key", boot.session.MeetingKey)})
		if err != nil {
			return boot, fmt.Errorf("openf1: meeting of session %d: %w", key, err)
		}
		if len(raw) > 0 {
			if v, err := DecodeRow(EndpointMeetings, raw[0]); err == nil {
				boot.meeting = v.(Meeting)
				boot.rows = append(boot.rows, feedRow{EndpointMeetings, raw[0]})
			}
		}
	}
	raw, err = c.rawRows(ctx, EndpointDrivers, []Filter{Eq("session_key", key)})
	if err != nil {
		return boot, fmt.Errorf("openf1: drivers of session %d: %w", key, err)
	}
	for _, r := range raw {
		if v, err := DecodeRow(EndpointDrivers, r); err == nil {
			boot.drivers = append(boot.drivers, v.(Driver))
			boot.rows = append(boot.rows, feedRow{EndpointDrivers, r})
		}
	}
	if _, ok := ResolveIdentity(Resolvers{f.Resolver, NewFallbackResolver(nil, nil, boot.drivers)}, boot.session, boot.meeting); !ok && boot.session.Year > 0 {
		// The archive does not know this weekend: count the season's races.
		ms, err := c.rawRows(ctx, EndpointMeetings, []Filter{Eq("year", boot.session.Year)})
		if err != nil {
			return boot, fmt.Errorf("openf1: meetings of %d: %w", boot.session.Year, err)
		}
		rs, err := c.rawRows(ctx, EndpointSessions, []Filter{Eq("year", boot.session.Year), Eq("session_name", SessionNameRace)})
		if err != nil {
			return boot, fmt.Errorf("openf1: races of %d: %w", boot.session.Year, err)
		}
		boot.addSeason(ms, rs)
		for _, r := range ms {
			boot.seasonRows = append(boot.seasonRows, feedRow{EndpointMeetings, r})
		}
		for _, r := range rs {
			boot.seasonRows = append(boot.seasonRows, feedRow{EndpointSessions, r})
		}
	}
	if _, ok := SessionKind(boot.session.SessionName); ok {
		raw, err := c.rawRows(ctx, EndpointStartingGrid, []Filter{Eq("session_key", key)})
		if err != nil {
			f.Logger.Warn("openf1 starting grid unavailable", "session_key", key, "err", err)
		}
		for _, r := range raw {
			boot.rows = append(boot.rows, feedRow{EndpointStartingGrid, r})
		}
	}
	return boot, nil
}

// addSeason adds the season's meetings and races (as raw rows).
func (boot *bootstrap) addSeason(meetings, races []json.RawMessage) {
	for _, r := range meetings {
		if v, err := DecodeRow(EndpointMeetings, r); err == nil {
			boot.seasonMeetings = append(boot.seasonMeetings, v.(Meeting))
		}
	}
	for _, r := range races {
		if v, err := DecodeRow(EndpointSessions, r); err == nil {
			boot.seasonRaces = append(boot.seasonRaces, v.(Session))
		}
	}
}

// newFollow places the session of boot and prepares to follow it.
func (f *Follower) newFollow(ctx context.Context, b bus.Bus, boot bootstrap) (*follow, error) {
	st := &follow{
		cfg: f, c: f.Client, log: f.Logger, m: newMetrics(f.Metrics, f.Logger),
		session: boot.session, meeting: boot.meeting,
		drivers: map[int]Driver{}, grid: map[int]StartingGrid{}, rows: map[int]SessionResult{},
		published: map[string]string{}, seen: map[string]map[string]seenRow{},
	}
	key := st.session.SessionKey
	if key == 0 {
		return nil, fmt.Errorf("openf1: session %q has no session_key", f.Session)
	}
	st.m.session(st.session.DateStart.Time, st.session.DateEnd.Time)
	for _, d := range boot.drivers {
		st.drivers[d.DriverNumber] = d
	}
	_, st.results = SessionKind(st.session.SessionName)
	st.fallbackRes = NewFallbackResolver(boot.seasonMeetings, boot.seasonRaces, boot.drivers)
	st.resolver = Resolvers{f.Resolver, st.fallbackRes}
	id, ok := ResolveIdentity(st.resolver, st.session, st.meeting)
	if !ok {
		if st.results {
			return nil, fmt.Errorf("openf1: no round for session %d (%s, %s %d)", key,
				st.session.SessionName, st.meeting.MeetingName, st.session.Year)
		}
		st.log.Warn("openf1 session is not part of a round; live updates carry round 0",
			"session_key", key, "meeting", st.meeting.MeetingName)
	}
	st.id = id
	st.trackers = []*tracker{
		{endpoint: EndpointPosition, dateField: "date", lookback: 30 * time.Second, prune: true},
		{endpoint: EndpointIntervals, dateField: "date", lookback: 30 * time.Second, prune: true},
		{endpoint: EndpointLaps, dateField: "date_start", lookback: 5 * time.Minute},
		{endpoint: EndpointPit, dateField: "date", lookback: 3 * time.Minute},
		{endpoint: EndpointRaceControl, dateField: "date", lookback: 30 * time.Second},
	}
	for _, t := range st.trackers {
		t.full = true
	}
	now := f.Now()
	st.lastChange, st.lastRefresh = now, now
	end := st.session.DateEnd.Time
	st.historic = !end.IsZero() && now.After(end.Add(f.StableFor))
	if f.Record != nil {
		if err := f.Record.start(key); err != nil {
			return nil, err
		}
		// The season's meetings and races place the session when a
		// recording is played without OpenF1.
		for _, r := range boot.seasonRows {
			f.Record.add(r.endpoint, f1.SourceOpenF1REST, r.raw)
		}
	}
	st.out = newOutbox(ctx, b, f.Delay, st.log)
	return st, nil
}

// close ends the follow: it publishes what the broadcast delay still holds
// when the follow ended well (err nil), drops it otherwise, and writes out
// the recording.
func (st *follow) close(err error) error {
	if oerr := st.out.close(err == nil); oerr != nil && err == nil {
		err = oerr
	}
	if st.cfg.Record != nil {
		if rerr := st.cfg.Record.flush(); rerr != nil && err == nil {
			err = rerr
		}
	}
	st.m.setSource("")
	return err
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
func (st *follow) runPoll(ctx context.Context) error {
	ticker := time.NewTicker(st.cfg.PollInterval)
	defer ticker.Stop()
	for {
		changed, err := st.poll(ctx, true)
		if err != nil {
			return err
		}
		if done, err := st.finished(ctx, changed); done || err != nil {
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
func (st *follow) poll(ctx context.Context, live bool) (bool, error) {
	if live {
		st.lastPoll = time.Now()
	}
	var rows []feedRow
	var failed []error
	rows, failed = st.refreshIfDue(ctx)
	if live {
		for _, t := range st.trackers {
			got, err := st.fetch(ctx, t)
			if err != nil {
				failed = append(failed, err)
				continue
			}
			rows = append(rows, got...)
		}
	}
	if st.results {
		raw, err := st.c.rawRows(ctx, EndpointSessionResult, []Filter{Eq("session_key", st.id.SessionKey)})
		if err != nil {
			failed = append(failed, err)
		}
		for _, r := range raw {
			rows = append(rows, feedRow{EndpointSessionResult, r})
		}
	}
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
	before := st.lastChange
	if err := st.ingest(ctx, f1.SourceOpenF1REST, rows); err != nil {
		return false, err
	}
	return st.lastChange != before, nil
}

// fetch reads one live endpoint's rows from the tracker's cursor on, in
// date order.
func (st *follow) fetch(ctx context.Context, t *tracker) ([]feedRow, error) {
	filters := []Filter{Eq("session_key", st.id.SessionKey)}
	var from time.Time
	if !t.full && !t.cursor.IsZero() {
		from = t.cursor.Add(-t.lookback)
	}
	if from.Before(st.cfg.LiveSince) {
		from = st.cfg.LiveSince
	}
	if !from.IsZero() {
		filters = append(filters, Gte(t.dateField, from))
	}
	raw, err := st.c.rawRows(ctx, t.endpoint, filters)
	if err != nil {
		return nil, err
	}
	type dated struct {
		at  time.Time
		row feedRow
	}
	rows := make([]dated, 0, len(raw))
	for _, r := range raw {
		d := dated{row: feedRow{t.endpoint, r}}
		if v, err := DecodeRow(t.endpoint, r); err == nil {
			_, d.at = rowIdentity(v)
		}
		rows = append(rows, d)
	}
	slices.SortStableFunc(rows, func(a, b dated) int { return a.at.Compare(b.at) })
	out := make([]feedRow, len(rows))
	for i, d := range rows {
		out[i] = d.row
	}
	t.full = false
	return out, nil
}

// ingest handles rows one source delivered: each is decoded, kept when it
// is about the followed session and new or changed, recorded, and turned
// into messages — live updates, and the session's results when a row they
// depend on changed — which are then published.
func (st *follow) ingest(ctx context.Context, source string, rows []feedRow) error {
	var msgs []*bus.Message
	// Results that could not be mapped are tried again with every batch:
	// the batch may bring what they lacked.
	resultsChanged := st.lastMapError != ""
	for _, fr := range rows {
		v, err := DecodeRow(fr.endpoint, fr.raw)
		if err != nil {
			st.m.rejected(fr.endpoint)
			st.log.Warn("openf1 row not decodable; skipped", "endpoint", fr.endpoint, "source", source, "err", err)
			continue
		}
		if m, ok := v.(Meeting); ok {
			if m.MeetingKey != st.session.MeetingKey {
				continue
			}
		} else if rowSessionKey(v) != st.id.SessionKey {
			continue // another session's data (the feed carries every session)
		}
		ident, at := rowIdentity(v)
		t := st.tracker(fr.endpoint)
		if t != nil {
			if at.After(t.cursor) {
				t.cursor = at
			}
			if !st.cfg.LiveSince.IsZero() && (at.IsZero() || at.Before(st.cfg.LiveSince)) {
				continue // before the follow started (an undated lap is a first lap)
			}
		}
		hash := rowHash(v)
		seen := st.seen[fr.endpoint]
		if seen == nil {
			seen = map[string]seenRow{}
			st.seen[fr.endpoint] = seen
		}
		if prev, ok := seen[ident]; ok && prev.hash == hash {
			continue
		}
		seen[ident] = seenRow{hash: hash, at: at}
		st.m.row(fr.endpoint, source)
		if st.cfg.Record != nil {
			st.cfg.Record.add(fr.endpoint, source, fr.raw)
		}
		switch r := v.(type) {
		case Session:
			st.session = r
			continue
		case Meeting:
			st.meeting = r
			continue
		case SessionResult:
			if st.results {
				st.rows[r.DriverNumber] = r
				st.lastResultRow = time.Now()
				resultsChanged = true
			}
			continue
		case StartingGrid:
			st.grid[r.DriverNumber] = r
			resultsChanged = resultsChanged || st.results
			continue
		case Driver:
			st.drivers[r.DriverNumber] = r
			st.fallbackRes.setDrivers(slices.Collect(maps.Values(st.drivers)))
			resultsChanged = resultsChanged || st.results
		}
		u, ok := liveUpdateOf(st.id, v)
		if !ok {
			continue
		}
		u.Source = source
		if d, ok := st.drivers[u.DriverNumber]; ok && u.DriverCode == "" {
			u.DriverCode = d.NameAcronym
		}
		m, err := liveMessage(u, ident, hash)
		if err != nil {
			st.log.Error("openf1 live update not encodable", "ident", ident, "err", err)
			continue
		}
		msgs = append(msgs, m)
	}
	st.prune()
	if resultsChanged && st.results {
		st.resultsDirty, st.resultsSource = true, source
	}
	if st.cfg.Record != nil {
		if err := st.cfg.Record.flush(); err != nil {
			return err
		}
	}
	if err := st.publish(ctx, msgs, nil); err != nil {
		return err
	}
	return st.flushResults(ctx, false)
}

// resultsSettle is how long the follower waits for the rest of a
// classification that arrives car by car (the MQTT feed, a recording)
// before it publishes what it has.
const resultsSettle = 3 * time.Second

// flushResults publishes the session's results when rows they depend on
// changed and the classification is complete (a result for every driver),
// or settled (no result row for resultsSettle), or force is set. Waiting
// for the whole classification keeps a classification that arrives car by
// car from being published as twenty partial ones.
func (st *follow) flushResults(ctx context.Context, force bool) error {
	if !st.resultsDirty {
		return nil
	}
	complete := len(st.rows) > 0 && len(st.rows) >= len(st.drivers)
	if !complete && !force && time.Since(st.lastResultRow) < resultsSettle {
		return nil
	}
	st.resultsDirty = false
	msgs, hashes := st.resultMessages(st.resultsSource)
	return st.publish(ctx, msgs, hashes)
}

// prune forgets the rows of pruned endpoints that their cursor will not
// read again.
func (st *follow) prune() {
	for _, t := range st.trackers {
		if !t.prune {
			continue
		}
		horizon := t.cursor.Add(-t.lookback - time.Minute)
		for k, s := range st.seen[t.endpoint] {
			if !s.at.IsZero() && s.at.Before(horizon) {
				delete(st.seen[t.endpoint], k)
			}
		}
	}
}

// resultMessages maps the current session_result rows and returns the
// results that differ from those published, with their hashes by key.
func (st *follow) resultMessages(source string) ([]*bus.Message, map[string]string) {
	if !st.results || len(st.rows) == 0 {
		return nil, nil
	}
	rows := slices.Collect(maps.Values(st.rows))
	slices.SortFunc(rows, func(a, b SessionResult) int { return cmp.Compare(a.DriverNumber, b.DriverNumber) })
	data := SessionData{Session: st.session, Meeting: st.meeting, Drivers: st.driverList(), Results: rows,
		Grid: slices.Collect(maps.Values(st.grid)), Source: source}
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
	return st.changedResults(results)
}

// changedResults returns the messages of the results that differ from
// those published, with their hashes by key.
func (st *follow) changedResults(results []f1.Result) ([]*bus.Message, map[string]string) {
	var msgs []*bus.Message
	hashes := map[string]string{}
	for _, r := range results {
		m, hash, err := resultMessage(r)
		if err != nil {
			st.log.Error("result not encodable", "key", r.Key(), "err", err)
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

func (st *follow) driverList() []Driver {
	ds := slices.Collect(maps.Values(st.drivers))
	slices.SortFunc(ds, func(a, b Driver) int { return cmp.Compare(a.DriverNumber, b.DriverNumber) })
	return ds
}

// publish sends msgs (through the broadcast delay) and records the
// published results.
func (st *follow) publish(ctx context.Context, msgs []*bus.Message, hashes map[string]string) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := st.out.publish(ctx, msgs); err != nil {
		return fmt.Errorf("openf1: publish %d messages of session %d: %w", len(msgs), st.id.SessionKey, err)
	}
	for k, h := range hashes {
		st.published[k] = h
	}
	st.lastChange = st.cfg.Now()
	st.log.Debug("openf1 published", "session_key", st.id.SessionKey, "results", len(hashes), "live", len(msgs)-len(hashes))
	return nil
}

// setSource records the source the follower reads from; a change is
// logged, counted and published as a KindSource update.
func (st *follow) setSource(ctx context.Context, source string, fallback bool, reason string) error {
	if source == st.source && fallback == st.fallback {
		return nil
	}
	prev := st.source
	st.source, st.fallback = source, fallback
	st.m.setSource(source)
	switch {
	case fallback:
		st.m.fallbacks.Inc()
		st.log.Warn("openf1 source: falling back", "from", prev, "to", source, "reason", reason)
	case prev != "":
		st.log.Info("openf1 source: back", "from", prev, "to", source)
	}
	u := st.id.update(KindSource, 0, st.cfg.Now().UTC())
	u.Source, u.Fallback, u.Message = source, fallback, reason
	value, err := json.Marshal(u)
	if err != nil {
		return err
	}
	m := &bus.Message{Topic: f1.TopicLive, Key: u.Key(), Value: value,
		ID:      "openf1/" + strconv.Itoa(u.SessionKey) + "/source/" + strconv.FormatInt(time.Now().UnixNano(), 10),
		Headers: map[string]string{"content-type": "application/json", "podium-source": source}}
	return st.publish(ctx, []*bus.Message{m}, nil)
}

// refreshIfDue re-reads the session (its end may move), its drivers and
// its starting grid, and has the next poll read all laps. It returns the
// rows read and the failures.
func (st *follow) refreshIfDue(ctx context.Context) ([]feedRow, []error) {
	if !st.refreshDue() {
		return nil, nil
	}
	st.refreshNow = false
	st.lastRefresh = st.cfg.Now()
	key := st.id.SessionKey
	var rows []feedRow
	var failed []error
	eps := []string{EndpointSessions, EndpointDrivers}
	if st.results {
		eps = append(eps, EndpointStartingGrid)
	}
	for _, ep := range eps {
		raw, err := st.c.rawRows(ctx, ep, []Filter{Eq("session_key", key)})
		if err != nil {
			st.log.Warn("openf1 refresh failed", "endpoint", ep, "session_key", key, "err", err)
			failed = append(failed, err)
			continue
		}
		for _, r := range raw {
			rows = append(rows, feedRow{ep, r})
		}
	}
	for _, t := range st.trackers {
		if t.endpoint == EndpointLaps {
			t.full = true
		}
	}
	return rows, failed
}

func (st *follow) refreshDue() bool {
	return st.refreshNow || st.cfg.Now().Sub(st.lastRefresh) >= st.cfg.RefreshInterval
}

// finished says whether the follow is over: the session has ended, its
// results are in and nothing has changed for StableFor (or, for a session
// that had long ended when Run started, one poll brought nothing new). A
// session long over without results gets the archive's, when it has them.
func (st *follow) finished(ctx context.Context, changed bool) (bool, error) {
	now := st.cfg.Now()
	end := st.session.DateEnd.Time
	if end.IsZero() || !now.After(end) || st.resultsDirty {
		return false, nil
	}
	if st.results && len(st.rows) == 0 {
		if st.historic && st.cfg.Archive != nil && !st.archived {
			if ok, err := st.publishArchive(ctx); ok || err != nil {
				return true, err
			}
		}
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

// publishArchive publishes the archive's results of a session OpenF1 has
// none for; false when the archive has none either.
func (st *follow) publishArchive(ctx context.Context) (bool, error) {
	results, ok := st.cfg.Archive(st.id.Season, st.id.Round, st.id.Session)
	if !ok || len(results) == 0 {
		return false, nil
	}
	st.archived = true
	results = slices.Clone(results) // the archive's own are read-only
	st.log.Info("openf1 has no results for this past session; publishing the archive's", "session_key", st.id.SessionKey,
		"season", st.id.Season, "round", st.id.Round, "results", len(results))
	if err := st.setSource(ctx, f1.SourceArchive, true, "OpenF1 has no results for this session"); err != nil {
		return true, err
	}
	for i := range results {
		results[i].Source = f1.SourceArchive
		results[i].SessionKey = cmp.Or(results[i].SessionKey, st.id.SessionKey)
	}
	msgs, hashes := st.changedResults(results)
	return true, st.publish(ctx, msgs, hashes)
}

func (st *follow) tracker(endpoint string) *tracker {
	for _, t := range st.trackers {
		if t.endpoint == endpoint {
			return t
		}
	}
	return nil
}

func (r *FallbackResolver) setDrivers(ds []Driver) {
	m := make(map[int]Driver, len(ds))
	for _, d := range ds {
		m[d.DriverNumber] = d
	}
	r.drivers = m
}
