//go:build !unix

package benchjob

import "time"

// processCPU is unknown here: CPU figures read 0.
func processCPU() time.Duration { return 0 }
