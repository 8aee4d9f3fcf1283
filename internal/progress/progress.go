// Package progress shows the progress of long-running CLI work on stderr:
// a bar redrawn in place on a terminal, a line every few seconds otherwise
// (logs, CI).
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
)

// Bar reports progress towards a total. It is safe for concurrent use; a
// nil *Bar does nothing.
type Bar struct {
	w     io.Writer
	label string
	tty   bool
	start time.Time

	mu    sync.Mutex
	total int64
	done  int64
	last  time.Time
}

// New returns a bar labelled label towards total (0 if unknown) on w.
func New(w io.Writer, label string, total int64) *Bar {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = isatty.IsTerminal(f.Fd())
	}
	return &Bar{w: w, label: label, total: total, tty: tty, start: time.Now()}
}

// SetTotal changes the total.
func (b *Bar) SetTotal(total int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.total = total
	b.mu.Unlock()
}

// Add records n more units done.
func (b *Bar) Add(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.done += n
	b.draw(false)
	b.mu.Unlock()
}

// Set records the units done so far.
func (b *Bar) Set(done int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.done = done
	b.draw(false)
	b.mu.Unlock()
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.draw(true)
	if b.tty {
		fmt.Fprintln(b.w)
	}
	b.mu.Unlock()
}

func (b *Bar) draw(final bool) {
	now := time.Now()
	every := 5 * time.Second
	if b.tty {
		every = 100 * time.Millisecond
	}
	if !final && now.Sub(b.last) < every {
		return
	}
	b.last = now
	elapsed := now.Sub(b.start)
	rate := float64(b.done) / max(elapsed.Seconds(), 1e-9)
	var line string
	if b.total > 0 {
		frac := min(float64(b.done)/float64(b.total), 1)
		const width = 30
		fill := int(frac * width)
		eta := ""
		if rate > 0 && b.done < b.total && !final {
			eta = fmt.Sprintf(" eta %s", (time.Duration(float64(b.total-b.done)/rate) * time.Second).Round(time.Second))
		}
		line = fmt.Sprintf("%s [%s%s] %d/%d %3.0f%% %.0f/s%s", b.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
			b.done, b.total, frac*100, rate, eta)
	} else {
		line = fmt.Sprintf("%s %d %.0f/s", b.label, b.done, rate)
	}
	if final {
		line += fmt.Sprintf(" in %s", elapsed.Round(time.Millisecond))
	}
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(b.w, line)
	}
}
