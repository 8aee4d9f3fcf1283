package dashboard

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/openf1"
	"github.com/podiumhq/podium/internal/stream"
)

// Limits of the in-memory live state.
const (
	// maxLiveSessions is how many sessions Live keeps; the least recently
	// updated goes first.
	maxLiveSessions = 8
	// maxControl is how many race-control messages a session keeps.
	maxControl = 40
	// activeFor is how long after its last update a session counts as in
	// progress for the pages that show "the latest" session.
	activeFor = 15 * time.Minute
)

// Live keeps the running order of the sessions followed live (`podium f1
// live` publishes them on f1.live): per car its position, gap to the
// leader, interval, lap and pit stops, and the session's race-control
// messages. It lives in memory only: a restarted server starts from the
// updates that come after it (gaps arrive every few seconds, positions on
// every change). The zero value is not usable; call NewLive.
type Live struct {
	mu       sync.Mutex
	sessions map[SessionID]*liveSession
	now      func() time.Time
	seq      uint64 // counts updates: orders the sessions by recency
}

// SessionID names a session of a round.
type SessionID struct {
	Season  int    `json:"season"`
	Round   int    `json:"round"`
	Session string `json:"session"`
}

type liveSession struct {
	id        SessionID
	grandPrix string
	cars      map[int]*LiveCar
	control   []LiveControl
	seen      map[string]bool // race-control identities kept
	lap       int
	updated   time.Time // wall clock of the latest update
	seq       uint64    // Live.seq at the latest update
	source    LiveSource
	// sourceSaid is set once a KindSource update named the source: from
	// then on only those change it.
	sourceSaid bool
}

// LiveSource is where a live session's updates come from.
type LiveSource struct {
	// Source is an f1.Source… constant ("" while unknown).
	Source string
	// Fallback is set when the follower fell back from a better source;
	// Reason says why.
	Fallback bool
	Reason   string
}

// LiveCar is one car's state in a live session.
type LiveCar struct {
	Number int
	Code   string
	// Name, Team and Colour are the driver's, from the feed's drivers
	// (empty until the feed named the car).
	Name, Team, Colour string
	// Position is the running position, 0 while unknown.
	Position int
	// GapToLeader and Interval are OpenF1's, as printed ("+1.234",
	// "+1 LAP"); empty for the leader or while unknown.
	GapToLeader, Interval string
	// Lap is the lap the car is on (the latest lap started).
	Lap int
	// LastLap is the duration of the latest completed lap, 0 if unknown.
	LastLap float64
	// Pits is the number of pit stops.
	Pits int

	posAt     time.Time
	lastLapNo int
	pits      map[int]bool
}

// LiveControl is a race-control message.
type LiveControl struct {
	At       time.Time
	Lap      int
	Category string
	Flag     string
	Message  string
}

// LiveSnapshot is a copy of a live session for a page.
type LiveSnapshot struct {
	SessionID
	GrandPrix string
	// Lap is the highest lap number seen.
	Lap int
	// Cars in running order (cars of unknown position last, by number).
	Cars []LiveCar
	// Control holds the race-control messages, latest first.
	Control []LiveControl
	// Updated is when the latest update arrived.
	Updated time.Time
	// Source is where the updates come from.
	Source LiveSource
}

// NewLive returns an empty live state.
func NewLive() *Live {
	return &Live{sessions: map[SessionID]*liveSession{}, now: time.Now}
}

// Apply folds one update into the state and reports whether it changed
// anything a page shows. Updates of unknown rounds (testing) and of
// sessions other than races and sprints are ignored.
func (l *Live) Apply(u openf1.LiveUpdate) bool {
	if u.Round < 1 || u.Season < 1 || (u.Session != f1.Race && u.Session != f1.Sprint) {
		return false
	}
	id := SessionID{Season: u.Season, Round: u.Round, Session: u.Session}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sessions[id]
	if s == nil {
		s = &liveSession{id: id, cars: map[int]*LiveCar{}, seen: map[string]bool{}}
		l.sessions[id] = s
	}
	l.seq++
	s.updated, s.seq = l.now(), l.seq
	l.evict()
	if u.GrandPrix != "" {
		s.grandPrix = u.GrandPrix
	}
	if u.LapNumber > s.lap && u.Kind != openf1.KindRaceControl {
		s.lap = u.LapNumber
	}
	if u.Kind == openf1.KindSource {
		s.sourceSaid = true
		src := LiveSource{Source: u.Source, Fallback: u.Fallback, Reason: u.Message}
		changed := src != s.source
		s.source = src
		return changed
	}
	if u.Source != "" && !s.sourceSaid {
		s.source.Source = u.Source
	}
	if u.Kind == openf1.KindRaceControl {
		ident := u.Date.UTC().Format(time.RFC3339Nano) + "\x00" + u.Category + "\x00" + u.Message
		if s.seen[ident] {
			return false
		}
		s.seen[ident] = true
		s.control = append(s.control, LiveControl{At: u.Date, Lap: u.LapNumber, Category: u.Category, Flag: u.Flag, Message: u.Message})
		slices.SortStableFunc(s.control, func(a, b LiveControl) int { return a.At.Compare(b.At) })
		if len(s.control) > maxControl {
			for _, c := range s.control[:len(s.control)-maxControl] {
				delete(s.seen, c.At.UTC().Format(time.RFC3339Nano)+"\x00"+c.Category+"\x00"+c.Message)
			}
			s.control = slices.Clone(s.control[len(s.control)-maxControl:])
		}
		return true
	}
	if u.DriverNumber < 1 {
		return false
	}
	c := s.cars[u.DriverNumber]
	if c == nil {
		c = &LiveCar{Number: u.DriverNumber, pits: map[int]bool{}}
		s.cars[u.DriverNumber] = c
	}
	if u.DriverCode != "" {
		c.Code = u.DriverCode
	}
	switch u.Kind {
	case openf1.KindDriver:
		c.Name, c.Team, c.Colour = u.DriverName, u.TeamName, u.TeamColour
	case openf1.KindPosition:
		if u.Position == nil || (!u.Date.IsZero() && u.Date.Before(c.posAt)) {
			return false
		}
		c.Position, c.posAt = *u.Position, u.Date
	case openf1.KindInterval:
		c.GapToLeader, c.Interval = liveGap(u.GapToLeader), liveGap(u.Interval)
		if g := u.GapToLeader; g != nil && g.Kind == openf1.GapTime && g.Seconds == 0 {
			// The leader: OpenF1 sends null (as documented) or 0. The page
			// says "Leader", not +0.000.
			c.GapToLeader, c.Interval = "", ""
		}
	case openf1.KindLap:
		c.Lap = max(c.Lap, u.LapNumber)
		if u.LapDuration != nil && u.LapNumber >= c.lastLapNo {
			c.LastLap, c.lastLapNo = *u.LapDuration, u.LapNumber
		}
	case openf1.KindPit:
		if !c.pits[u.LapNumber] {
			c.pits[u.LapNumber] = true
			c.Pits = len(c.pits)
		}
	default:
		return false
	}
	return true
}

func liveGap(g *openf1.Gap) string {
	if g == nil {
		return ""
	}
	return g.String()
}

// evict drops the least recently updated sessions beyond the limit.
func (l *Live) evict() {
	for len(l.sessions) > maxLiveSessions {
		var oldest *liveSession
		for _, s := range l.sessions {
			if oldest == nil || s.seq < oldest.seq {
				oldest = s
			}
		}
		delete(l.sessions, oldest.id)
	}
}

// Snapshot returns a copy of a session's state; false when Live has none.
func (l *Live) Snapshot(id SessionID) (LiveSnapshot, bool) {
	if l == nil {
		return LiveSnapshot{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.sessions[id]
	if !ok {
		return LiveSnapshot{}, false
	}
	snap := LiveSnapshot{SessionID: id, GrandPrix: s.grandPrix, Lap: s.lap, Updated: s.updated, Source: s.source}
	for _, c := range s.cars {
		cc := *c
		cc.pits = nil
		snap.Cars = append(snap.Cars, cc)
	}
	slices.SortFunc(snap.Cars, func(a, b LiveCar) int {
		if (a.Position == 0) != (b.Position == 0) {
			return cmp.Compare(b.Position, a.Position) // known positions first
		}
		return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.Number, b.Number))
	})
	snap.Control = slices.Clone(s.control)
	slices.Reverse(snap.Control)
	return snap, true
}

// Sessions lists the sessions Live holds.
func (l *Live) Sessions() []SessionID {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]SessionID, 0, len(l.sessions))
	for id := range l.sessions {
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b SessionID) int {
		return cmp.Or(cmp.Compare(a.Season, b.Season), cmp.Compare(a.Round, b.Round), cmp.Compare(b.Session, a.Session))
	})
	return out
}

// Active returns the most recently updated session if it was updated
// within the last 15 minutes: the session in progress.
func (l *Live) Active() (SessionID, bool) {
	if l == nil {
		return SessionID{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var best *liveSession
	for _, s := range l.sessions {
		if best == nil || s.seq > best.seq {
			best = s
		}
	}
	if best == nil || l.now().Sub(best.updated) > activeFor {
		return SessionID{}, false
	}
	return best.id, true
}

// Follow reads f1.live from its newest message on (a consumer without a
// group: nothing is recorded on the bus), folds each update into l and
// calls changed once per session a fetched batch changed, until ctx ends.
// It reconnects after errors.
func (l *Live) Follow(ctx context.Context, b bus.Bus, log *slog.Logger, changed func(SessionID)) {
	stream.Follow(ctx, b, f1.TopicLive, log, func(msgs []*bus.Message) {
		var touched []SessionID
		for _, m := range msgs {
			var u openf1.LiveUpdate
			if json.Unmarshal(m.Value, &u) != nil {
				continue // not ours to judge: the page just does not show it
			}
			if l.Apply(u) {
				id := SessionID{Season: u.Season, Round: u.Round, Session: u.Session}
				if !slices.Contains(touched, id) {
					touched = append(touched, id)
				}
			}
		}
		if changed != nil {
			for _, id := range touched {
				changed(id)
			}
		}
	})
}
