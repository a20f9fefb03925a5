package bench

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Compared is a read's latency over HTTP beside the raw engine's latency
// for the same SQL, measured in the same run with as many concurrent
// callers; a ratio is the platform's time over the raw engine's.
type Compared struct {
	Latency
	Raw      Latency `json:"raw"`
	P50Ratio float64 `json:"p50_ratio"`
	P99Ratio float64 `json:"p99_ratio"`
}

// Rate is work done per second beside the raw engine's rate for the same
// work; Ratio is Rate over raw, as lifecycle_ratio is.
type Rate struct {
	N       int64   `json:"n"`
	PerS    float64 `json:"per_s"`
	RawPerS float64 `json:"raw_per_s"`
	Ratio   float64 `json:"ratio"`
}

func newRate(n int64, took, raw time.Duration) Rate {
	r := Rate{N: n, PerS: perS(n, took), RawPerS: perS(n, raw)}
	r.Ratio = ratio(r.PerS, r.RawPerS)
	return r
}

func compared(http, raw []time.Duration) Compared {
	c := Compared{Latency: latency(http), Raw: latency(raw)}
	c.P50Ratio, c.P99Ratio = ratio(c.P50MS, c.Raw.P50MS), ratio(c.P99MS, c.Raw.P99MS)
	return c
}

// latency sorts d and returns its distribution.
func latency(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	return Latency{N: len(d), P50MS: ms(quantile(d, 0.50)), P99MS: ms(quantile(d, 0.99))}
}

// quantile of sorted durations.
func quantile(d []time.Duration, q float64) time.Duration {
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

func perS(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return round(float64(n) / d.Seconds())
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round(a / b)
}

func mib(bytes int64) float64 { return round(float64(bytes) / (1 << 20)) }

// timed calls fn n times over the given number of workers and returns how
// long each call took, in the order they finished; the first error stops
// the run.
func timed(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) ([]time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var mu sync.Mutex
	out := make([]time.Duration, 0, n)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
				d := time.Since(t)
				mu.Lock()
				out = append(out, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return out, err
	}
	return out, ctx.Err()
}
