package openf1

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// A recording is a session's OpenF1 feed saved as it arrived, so that the
// session can be played again through the live path (RunRecording): to
// watch a race again, or to test offline. It is NDJSON (one JSON object per
// line, UTF-8):
//
//	{"format":"podium.openf1.recording","version":1,"session_key":7953,"started":"2023-03-05T15:00:00Z"}
//	{"t":"2023-03-05T15:00:00.120Z","endpoint":"sessions","source":"openf1-rest","payload":{…}}
//	{"t":"2023-03-05T15:03:02.517Z","endpoint":"position","source":"openf1-mqtt","payload":{…}}
//
// The first line is the header: the format's name, its version, the
// followed session_key and when the recording started. Every other line is
// one OpenF1 row: t, when podium received it (RFC 3339, UTC); endpoint, the
// REST endpoint or MQTT topic without "v1/" it came from; source, how it
// came (openf1-rest or openf1-mqtt); payload, the row exactly as OpenF1
// sent it (MQTT's "_id" and "_key" included). Rows are in the order they
// arrived; only rows that were new or changed are recorded (a REST poll
// that reads a row again adds nothing). The session's sessions, meetings,
// drivers and starting_grid rows come first, so a recording is complete
// without OpenF1. Readers ignore fields they do not know; a version they
// do not know is an error.
const (
	// RecordingFormat is the header's "format".
	RecordingFormat = "podium.openf1.recording"
	// RecordingVersion is the version this build writes and reads.
	RecordingVersion = 1
)

// maxRecordingLine caps a line of a recording when it is read.
const maxRecordingLine = 1 << 20

// RecordingHeader is the first line of a recording.
type RecordingHeader struct {
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	SessionKey int       `json:"session_key"`
	Started    time.Time `json:"started"`
}

// RecordedRow is one row of a recording.
type RecordedRow struct {
	T        time.Time       `json:"t"`
	Endpoint string          `json:"endpoint"`
	Source   string          `json:"source,omitempty"`
	Payload  json.RawMessage `json:"payload"`
}

// Recording is a read recording.
type Recording struct {
	Header RecordingHeader
	Rows   []RecordedRow
}

// Recorder writes a recording (Follower.Record). It is safe for
// concurrent use. Rows are buffered and written out after each batch the
// follower handles, so a crash loses at most the batch in hand.
type Recorder struct {
	mu      sync.Mutex
	w       *bufio.Writer
	now     func() time.Time
	started bool
	rows    int
	err     error
	// OnRows, when set, is called with the number of rows recorded so far
	// after each batch (progress).
	OnRows func(rows int)
}

// NewRecorder returns a recorder writing to w.
func NewRecorder(w io.Writer) *Recorder {
	return &Recorder{w: bufio.NewWriter(w), now: time.Now}
}

// start writes the header, once.
func (r *Recorder) start(sessionKey int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return r.err
	}
	r.started = true
	return r.line(RecordingHeader{Format: RecordingFormat, Version: RecordingVersion, SessionKey: sessionKey,
		Started: r.now().UTC()})
}

// add appends a row as it arrived.
func (r *Recorder) add(endpoint, source string, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.line(RecordedRow{T: r.now().UTC(), Endpoint: endpoint, Source: source,
		Payload: json.RawMessage(bytes.TrimSpace(payload))}); err == nil {
		r.rows++
	}
}

func (r *Recorder) line(v any) error {
	if r.err != nil {
		return r.err
	}
	b, err := json.Marshal(v)
	if err != nil {
		r.err = fmt.Errorf("openf1: record a row: %w", err)
		return r.err
	}
	b = append(b, '\n')
	if _, err := r.w.Write(b); err != nil {
		r.err = fmt.Errorf("openf1: write the recording: %w", err)
	}
	return r.err
}

// flush writes out the buffered rows and reports the first write error.
func (r *Recorder) flush() error {
	r.mu.Lock()
	if r.err == nil {
		if err := r.w.Flush(); err != nil {
			r.err = fmt.Errorf("openf1: write the recording: %w", err)
		}
	}
	err, rows, on := r.err, r.rows, r.OnRows
	r.mu.Unlock()
	if on != nil && err == nil {
		on(rows)
	}
	return err
}

// Rows returns the number of rows recorded.
func (r *Recorder) Rows() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rows
}

// ReadRecording reads a recording. An error names the line at fault and
// what is wrong with it.
func ReadRecording(rd io.Reader) (*Recording, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), maxRecordingLine)
	rec := &Recording{}
	line, header := 0, false
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if !header {
			// The first line that is not blank.
			if err := json.Unmarshal(b, &rec.Header); err != nil {
				return nil, fmt.Errorf("recording line %d: not a recording header: %w", line, err)
			}
			if err := rec.Header.check(); err != nil {
				return nil, fmt.Errorf("recording line %d: %w", line, err)
			}
			header = true
			continue
		}
		var row RecordedRow
		if err := json.Unmarshal(b, &row); err != nil {
			return nil, fmt.Errorf("recording line %d: %w", line, err)
		}
		if !slices.Contains(feedEndpoints, row.Endpoint) {
			return nil, fmt.Errorf("recording line %d: endpoint %q is not one podium records", line, row.Endpoint)
		}
		if len(row.Payload) == 0 || row.Payload[0] != '{' {
			return nil, fmt.Errorf("recording line %d: the payload is not a JSON object", line)
		}
		rec.Rows = append(rec.Rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("recording line %d: %w", line+1, err)
	}
	if !header {
		return nil, errors.New("recording: the file is empty")
	}
	return rec, nil
}

func (h RecordingHeader) check() error {
	switch {
	case h.Format != RecordingFormat:
		return fmt.Errorf("format %q: not a podium recording (want %q)", h.Format, RecordingFormat)
	case h.Version < 1:
		return fmt.Errorf("version %d: not a valid recording version", h.Version)
	case h.Version > RecordingVersion:
		return fmt.Errorf("version %d: this podium reads recordings up to version %d; upgrade podium", h.Version, RecordingVersion)
	case h.SessionKey < 1:
		return fmt.Errorf("session_key %d: must be 1 or more", h.SessionKey)
	}
	return nil
}
