//go:build !unix

package bench

import "time"

// processCPU is unknown here; reports show zero.
func processCPU() time.Duration { return 0 }
