package server

import (
	"os"
	"runtime/debug"
)

// Collector defaults for a server, used unless GOGC or GOMEMLIMIT is set.
const (
	gcPercent   = 400       // collect when the heap is five times what is live
	memoryLimit = 512 << 20 // but collect more often rather than pass 512 MiB
)

// TuneGC sets the garbage collector for serving. A request allocates a few
// hundred short-lived objects while the live heap stays small, so Go's
// default (collect at twice the live heap) spends about a seventh of a
// manifest step's CPU collecting; at five times the live heap, held under
// a soft memory limit, it spends a third of that.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
