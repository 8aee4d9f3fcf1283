package main

import (
	"testing"

	"github.com/podiumhq/podium/internal/config"
)

// TestMemoryLimit: memory_limit (PODIUM_MEMORY_LIMIT) sets the soft memory
// limit of serve, worker and demo; the demo takes demoMemoryLimit unless
// memory_limit or GOMEMLIMIT is set; serve and worker set none by default.
func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		env  map[string]string
		demo bool
		want int64
	}{
		{"demo by default", nil, true, demoMemoryLimit},
		{"serve by default", nil, false, 0},
		{"demo with GOMEMLIMIT", map[string]string{"GOMEMLIMIT": "1GiB"}, true, 0},
		{"demo with the setting", map[string]string{"PODIUM_MEMORY_LIMIT": "256MiB"}, true, 256 << 20},
		{"serve with the setting", map[string]string{"PODIUM_MEMORY_LIMIT": "64MiB"}, false, 64 << 20},
		{"setting over GOMEMLIMIT", map[string]string{"PODIUM_MEMORY_LIMIT": "64MiB", "GOMEMLIMIT": "1GiB"}, false, 64 << 20},
		{"demo with none", map[string]string{"PODIUM_MEMORY_LIMIT": "0"}, true, 0},
	} {
		lookup := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
		a := newApp(nil, nil, lookup)
		cfg, err := config.Load(nil, lookup)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		a.cfg = cfg
		if got := a.memoryLimit(c.demo); got != c.want {
			t.Errorf("%s: memory limit %d, want %d", c.name, got, c.want)
		}
	}
	// A size that is not one is refused.
	if _, err := config.Load(nil, func(k string) (string, bool) { return "lots", k == "PODIUM_MEMORY_LIMIT" }); err == nil {
		t.Error("PODIUM_MEMORY_LIMIT=lots accepted")
	}
}
