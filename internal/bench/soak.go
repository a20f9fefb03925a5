package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"wufei/internal/server"
	"wufei/internal/store"
)

// CityPeakPerMinute is Huaibei's peak rate of manifests: 30,000 a year over
// 250 working days is 120 a working day; a peak day of twice that (month-
// and year-end clear-outs) whose manifests all start within four busy hours
// is 240 in 240 minutes, one a minute. The soak runs ten times that.
const CityPeakPerMinute = 1.0

// SoakReads is how many reads follow each lifecycle in a soak: its trace,
// the consignor's first page, the regulator's first page, and the indicator
// list or the dashboard's monthly flows in turn.
const SoakReads = 4

// maxInFlight bounds the lifecycles a soak lets run at once: past it the
// server is not keeping up with the rate, which is a failure.
const maxInFlight = 512

// SoakOptions say what a soak drives.
type SoakOptions struct {
	DB       string        // database URL; "" is a new SQLite file in a temporary folder
	Server   string        // the wufei binary run as the server process
	KeyFile  string        // its audit signing key; "" lets serve choose (a temporary one for a new database)
	Duration time.Duration // how long lifecycles start
	Rate     float64       // lifecycles started per minute
}

// SoakSummary is a soak's record: every window's requests, latency and the
// server's memory.
type SoakSummary struct {
	Engine            string    `json:"engine"`
	Cores             int       `json:"cores"`
	At                time.Time `json:"at"`
	Seconds           float64   `json:"seconds"` // the planned duration
	RatePerMin        float64   `json:"rate_per_min"`
	ReadsPerLifecycle int       `json:"reads_per_lifecycle"`
	StartupMS         float64   `json:"startup_ms"`
	WindowS           float64   `json:"window_s"`

	Lifecycles int     `json:"lifecycles"`
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	Error      string  `json:"error,omitempty"` // the first bad answer, which ends the soak
	P50MS      float64 `json:"p50_ms"`
	P99MS      float64 `json:"p99_ms"`

	Windows      []Window `json:"windows"`
	RSSGrowthMiB float64  `json:"rss_growth_mib"` // the last window's RSS less the first's
	PeakRSSMiB   float64  `json:"peak_rss_mib"`
}

// Window is one interval of a soak (a minute; a quarter of a soak shorter
// than five minutes).
type Window struct {
	EndS       float64 `json:"end_s"`
	Lifecycles int     `json:"lifecycles"` // finished in the window
	Requests   int     `json:"requests"`
	P50MS      float64 `json:"p50_ms"`
	P99MS      float64 `json:"p99_ms"`
	RSSMiB     float64 `json:"rss_mib"` // the server's at the window's end
	PeakRSSMiB float64 `json:"peak_rss_mib"`
}

// windowFor is the length of a soak's windows.
func windowFor(d time.Duration) time.Duration {
	if d >= 5*time.Minute {
		return time.Minute
	}
	return max(d/4, time.Second)
}

// Soak starts lifecycles at a fixed rate for the duration, each followed by
// its reads, against a `wufei serve` process of its own, and records every
// window. The first answer that is not 2xx ends it with an error, returned
// beside the summary so far.
func Soak(ctx context.Context, o SoakOptions, log io.Writer) (SoakSummary, error) {
	s := SoakSummary{Cores: runtime.GOMAXPROCS(0), At: time.Now().UTC().Truncate(time.Second), Seconds: o.Duration.Seconds(),
		RatePerMin: o.Rate, ReadsPerLifecycle: SoakReads, WindowS: windowFor(o.Duration).Seconds()}
	if o.Rate <= 0 || o.Duration <= 0 || o.Server == "" {
		return s, errors.New("bench: a soak needs a duration, a rate and the server binary")
	}
	if o.DB == "" {
		dir, err := os.MkdirTemp("", "wufei-soak-")
		if err != nil {
			return s, err
		}
		defer os.RemoveAll(dir)
		o.DB = "sqlite:" + filepath.Join(dir, "soak.db")
		if o.KeyFile == "" {
			o.KeyFile = filepath.Join(dir, "audit.key")
		}
	}
	db, err := store.Open(ctx, o.DB)
	if err != nil {
		return s, err
	}
	defer db.Close()
	s.Engine = string(db.Dialect)
	if err := server.Prepare(ctx, db); err != nil {
		return s, err
	}
	p, err := EnsureParties(ctx, db)
	if err != nil {
		return s, err
	}
	defer revoke(context.WithoutCancel(ctx), db, p.Gen, p.Carrier, p.Disposer, p.Regulator)
	srv, err := StartServer(ctx, o.Server, o.DB, o.KeyFile)
	if err != nil {
		return s, err
	}
	defer srv.Stop()
	s.StartupMS = ms(srv.Startup)
	fmt.Fprintf(log, "bench: soak of %v at %.4g lifecycles a minute, %s\n", o.Duration, o.Rate, s.Engine)
	err = soak(ctx, o, NewClient(srv.URL, 64), p, srv, &s)
	if err != nil {
		s.Errors, s.Error = 1, err.Error()
	}
	if serr := srv.Stop(); err == nil {
		err = serr
	}
	return s, err
}

// soaker gathers what the soak's callers measure.
type soaker struct {
	mu       sync.Mutex
	window   []time.Duration
	all      []time.Duration
	finished int // lifecycles in the window
	total    int
	requests int
	failed   error
	cancel   context.CancelFunc
	inFlight atomic.Int64
}

// call times one request; a bad answer ends the soak.
func (k *soaker) call(ctx context.Context, c *Client, token, method, path, body string, dst any) error {
	t := time.Now()
	err := c.Call(ctx, token, method, path, body, dst)
	d := time.Since(t)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		if k.failed == nil && ctx.Err() == nil {
			k.failed = err
			k.cancel()
		}
		return err
	}
	k.window, k.all = append(k.window, d), append(k.all, d)
	k.requests++
	return nil
}

func soak(ctx context.Context, o SoakOptions, c *Client, p Parties, srv *Server, s *SoakSummary) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	k := &soaker{cancel: cancel}
	sampler := srv.Sample(250 * time.Millisecond)
	defer sampler.Stop()
	start := time.Now()
	every := time.Duration(float64(time.Minute) / o.Rate)
	windows := time.NewTicker(windowFor(o.Duration))
	defer windows.Stop()
	var wg sync.WaitGroup
	for i := 0; ; {
		next := start.Add(time.Duration(i) * every)
		if !next.Before(start.Add(o.Duration)) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
			continue
		case <-windows.C:
			k.close(s, sampler, start)
			continue
		case <-time.After(time.Until(next)):
		}
		if k.inFlight.Load() >= maxInFlight {
			k.fail(fmt.Errorf("bench: %d lifecycles in flight: the server does not keep up with %.4g a minute", maxInFlight, o.Rate))
			break
		}
		k.inFlight.Add(1)
		n := i
		wg.Go(func() {
			defer k.inFlight.Add(-1)
			k.walk(ctx, c, p, n)
		})
		i++
	}
	wg.Wait()
	k.close(s, sampler, start)
	if err := srv.Alive(); err != nil && k.failed == nil {
		k.failed = err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	s.Lifecycles, s.Requests = k.total, k.requests
	l := latency(k.all)
	s.P50MS, s.P99MS = l.P50MS, l.P99MS
	if n := len(s.Windows); n > 0 {
		s.RSSGrowthMiB = round(s.Windows[n-1].RSSMiB - s.Windows[0].RSSMiB)
		for _, w := range s.Windows {
			s.PeakRSSMiB = max(s.PeakRSSMiB, w.PeakRSSMiB)
		}
	}
	return k.failed
}

func (k *soaker) fail(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.failed == nil {
		k.failed = err
		k.cancel()
	}
}

// walk is one lifecycle and its reads.
func (k *soaker) walk(ctx context.Context, c *Client, p Parties, i int) {
	var m struct {
		ID     string `json:"id"`
		Number string `json:"number"`
	}
	body := fmt.Sprintf(`{"carrier_unit_id":%q,"receiver_unit_id":%q,"vehicle_plate":%q,
		"lines":[{"waste_code":"900-249-08","quantity_t":1.2,"form":"L","packaging":"桶","package_count":6}]}`,
		p.CarrierUnit, p.DisposerUnit, p.Plate)
	if k.call(ctx, c, p.Gen, "POST", "/api/v1/manifests", body, &m) != nil {
		return
	}
	for _, st := range []struct{ token, step, body string }{
		{p.Gen, "submit", ""},
		{p.Carrier, "pickup", ""},
		{p.Disposer, "receive", `{"lines":[{"line_no":1,"received_t":1.2}]}`},
		{p.Disposer, "complete", `{"lines":[{"line_no":1,"method":"R9"}]}`},
	} {
		if k.call(ctx, c, st.token, "POST", "/api/v1/manifests/"+m.ID+"/"+st.step, st.body, nil) != nil {
			return
		}
	}
	last := query("/api/v1/indicators", "region", "340600", "year", strconv.Itoa(time.Now().Year()))
	if i%2 == 1 {
		last = "/api/v1/dashboard/flows"
	}
	for _, r := range []struct{ token, path string }{
		{p.Regulator, "/api/v1/trace/" + m.Number},
		{p.Gen, "/api/v1/manifests?limit=50"},
		{p.Regulator, "/api/v1/manifests?limit=50"},
		{p.Regulator, last},
	} {
		if k.call(ctx, c, r.token, "GET", r.path, "", nil) != nil {
			return
		}
	}
	k.mu.Lock()
	k.finished++
	k.total++
	k.mu.Unlock()
}

// close ends the current window.
func (k *soaker) close(s *SoakSummary, sampler *Sampler, start time.Time) {
	rss := sampler.Take()
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.window) == 0 && k.finished == 0 {
		return
	}
	l := latency(k.window)
	w := Window{EndS: round(time.Since(start).Seconds()), Lifecycles: k.finished, Requests: len(k.window),
		P50MS: l.P50MS, P99MS: l.P99MS}
	if len(rss) > 0 {
		w.RSSMiB, w.PeakRSSMiB = mib(rss[len(rss)-1]), mib(slices.Max(rss))
	}
	s.Windows = append(s.Windows, w)
	k.window, k.finished = nil, 0
}
