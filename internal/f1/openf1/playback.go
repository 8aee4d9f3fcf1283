package openf1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/progress"
)

// RunRecording plays a recording through the live path, as if its rows
// arrived again: the session is placed as Run places it (with Resolver),
// and every row is decoded, deduplicated and published — live updates to
// f1.live, results to f1.results — with source f1.SourceFile. Rows are
// paced by the times they were recorded, divided by speed (10 plays ten
// times faster; 0 plays as fast as the bus takes them), and held back by
// Delay. bar, if not nil, shows the rows played. It returns once every row
// has been played (nil) or ctx ends. Client is not used.
func (f *Follower) RunRecording(ctx context.Context, b bus.Bus, rec *Recording, speed float64, bar *progress.Bar) (err error) {
	if rec == nil {
		return errors.New("openf1: no recording")
	}
	if speed < 0 {
		return fmt.Errorf("openf1: replay speed %g: must not be negative", speed)
	}
	cfg := *f
	cfg.setDefaults()
	cfg.Session = fmt.Sprint(rec.Header.SessionKey)
	cfg.Record = nil
	boot, err := recordingBootstrap(rec)
	if err != nil {
		return err
	}
	st, err := cfg.newFollow(ctx, b, boot)
	if err != nil {
		return err
	}
	defer func() { err = st.close(err) }()
	st.log.Info("playing a recording", "session_key", st.id.SessionKey, "session", st.session.SessionName,
		"grand_prix", st.id.GrandPrix, "season", st.id.Season, "round", st.id.Round, "rows", len(rec.Rows),
		"speed", speed, "delay", cfg.Delay)
	if err := st.setSource(ctx, f1.SourceFile, false, ""); err != nil {
		return err
	}
	bar.SetTotal(int64(len(rec.Rows)))
	var timer *time.Timer
	for i := 0; i < len(rec.Rows); {
		// One batch: the rows recorded at the same moment.
		j := i + 1
		for j < len(rec.Rows) && j-i < publishBatch && (speed == 0 || rec.Rows[j].T.Equal(rec.Rows[i].T)) {
			j++
		}
		if speed > 0 && i > 0 {
			if d := time.Duration(float64(rec.Rows[i].T.Sub(rec.Rows[i-1].T)) / speed); d > 0 {
				if timer == nil {
					timer = time.NewTimer(d)
					defer timer.Stop()
				} else {
					timer.Reset(d)
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-timer.C:
				}
			}
		}
		rows := make([]feedRow, 0, j-i)
		for _, r := range rec.Rows[i:j] {
			rows = append(rows, feedRow{r.Endpoint, r.Payload})
		}
		if err := st.ingest(ctx, f1.SourceFile, rows); err != nil {
			return err
		}
		bar.Add(int64(j - i))
		i = j
	}
	if err := st.flushResults(ctx, true); err != nil {
		return err
	}
	bar.Finish()
	if st.results && st.lastMapError != "" {
		return fmt.Errorf("openf1: the recording's results of session %d could not be mapped: %s", st.id.SessionKey, st.lastMapError)
	}
	return nil
}

// recordingBootstrap finds in a recording what the follower needs first:
// the session of its header, its meeting and drivers, and the season's
// meetings and races when they were recorded.
func recordingBootstrap(rec *Recording) (bootstrap, error) {
	var boot bootstrap
	key := rec.Header.SessionKey
	found := false
	var season struct{ meetings, races []json.RawMessage }
	for _, r := range rec.Rows {
		v, err := DecodeRow(r.Endpoint, r.Payload)
		if err != nil {
			continue // RunRecording reports it when it plays the row
		}
		switch x := v.(type) {
		case Session:
			if x.SessionKey == key && !found {
				boot.session, found = x, true
			}
			if x.SessionName == SessionNameRace {
				season.races = append(season.races, r.Payload)
			}
		case Meeting:
			season.meetings = append(season.meetings, r.Payload)
		case Driver:
			if x.SessionKey == key {
				boot.drivers = append(boot.drivers, x)
			}
		}
	}
	if !found {
		return boot, fmt.Errorf("openf1: the recording has no sessions row for its session %d", key)
	}
	for _, m := range season.meetings {
		if v, err := DecodeRow(EndpointMeetings, m); err == nil && v.(Meeting).MeetingKey == boot.session.MeetingKey {
			boot.meeting = v.(Meeting)
			break
		}
	}
	boot.addSeason(season.meetings, season.races)
	return boot, nil
}
