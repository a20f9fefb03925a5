// Package bench measures the platform the way its users load it: a real
// server on a loopback port, concurrent HTTP clients walking manifests
// through their whole life, and reads of what they wrote — each figure
// beside the raw engine's figure for the same work, measured in the same
// run on the same database. Run does so in one process on a new database;
// RunReads measures a given database (city or province data) through a
// `wufei serve` process of its own, whose memory is then the server's alone;
// Soak drives such a process at a fixed rate for a long time.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"wufei/internal/audit"
	"wufei/internal/server"
	"wufei/internal/store"
)

// Options say what to run.
type Options struct {
	DB          string // database URL; "" is a new SQLite file in a temporary folder
	Clients     int    // concurrent HTTP clients walking lifecycles
	Lifecycles  int    // manifests walked over HTTP
	Raw         int    // manifests written raw, for the baseline
	Reads       int    // requests per read figure
	ReadClients int    // callers reading at once in RunReads; 0: one per core
	ImportRows  int    // rows of the workbook RunReads imports
	Server      string // the wufei binary RunReads and Soak run as the server process
	KeyFile     string // that server's audit signing key; "" lets serve choose
}

// Quick is the run `wufei bench --quick` makes: well under 45 seconds on
// a 2-core machine.
var Quick = Options{Clients: 128, Lifecycles: 6000, Raw: 3000, Reads: 500}

// Full is the default run.
var Full = Options{Clients: 128, Lifecycles: 20000, Raw: 10000, Reads: 2000}

// QuickReads and FullReads are RunReads' runs; their lifecycles are the
// load the server's memory is measured under, written into the database.
var (
	QuickReads = Options{Clients: 128, Lifecycles: 1000, Reads: 500, ImportRows: 2000}
	FullReads  = Options{Clients: 128, Lifecycles: 3000, Reads: 2000, ImportRows: 20000}
)

// Summary is what a run measured. Rates are per second, latencies in
// milliseconds.
type Summary struct {
	Engine  string    `json:"engine"`
	Cores   int       `json:"cores"`
	Clients int       `json:"clients"`
	At      time.Time `json:"at"`

	StartupMS float64 `json:"startup_ms"` // migrate, register the bench's parties, build the server

	Lifecycles         int     `json:"lifecycles"`
	LifecyclesPerS     float64 `json:"lifecycles_per_s"`
	RawLifecyclesPerS  float64 `json:"raw_lifecycles_per_s"`
	LifecycleRatio     float64 `json:"lifecycle_ratio"`
	CPUMicrosLifecycle float64 `json:"cpu_us_per_lifecycle"` // client and server, whole process
	Statements         float64 `json:"statements_per_lifecycle"`

	Trace        Latency `json:"trace"`         // GET /api/v1/trace/{number}
	ManifestList Latency `json:"manifest_list"` // GET /api/v1/manifests, first page, as the consignor
	Indicators   Latency `json:"indicators"`    // GET /api/v1/indicators, as the city regulator

	AuditEntries      int64   `json:"audit_entries"`
	AuditVerifyPerS   float64 `json:"audit_verify_per_s"`
	AuditProofMS      float64 `json:"audit_proof_ms"` // one inclusion proof against the latest checkpoint
	RSSMiB            float64 `json:"rss_mib"`        // the process's peak resident memory
	Seconds           float64 `json:"seconds"`        // the whole run
	RawLifecycleNotes string  `json:"raw_lifecycle_notes"`
}

// Latency is a read's distribution over a run.
type Latency struct {
	N     int     `json:"n"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
}

// Run measures and returns the summary; progress goes to log.
func Run(ctx context.Context, o Options, log io.Writer) (Summary, error) {
	start := time.Now()
	s := Summary{Cores: runtime.GOMAXPROCS(0), Clients: o.Clients, At: start.UTC().Truncate(time.Second),
		RawLifecycleNotes: "the same rows as one lifecycle writes — manifest, line, leg, four status updates — " +
			"one transaction per step, straight through database/sql on the writer pool"}
	dbURL := o.DB
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "wufei-bench-")
		if err != nil {
			return s, err
		}
		defer os.RemoveAll(dir)
		dbURL = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	server.TuneGC()
	t0 := time.Now()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return s, err
	}
	defer db.Close()
	s.Engine = string(db.Dialect)
	app, err := server.New(ctx, db, server.Config{Version: "bench",
		KeyFile: filepath.Join(os.TempDir(), "wufei-bench-"+uuid.NewString()+".key")})
	if err != nil {
		return s, err
	}
	p, err := EnsureParties(ctx, db)
	if err != nil {
		return s, err
	}
	defer revoke(context.WithoutCancel(ctx), db, p.Gen, p.Carrier, p.Disposer, p.Regulator)
	s.StartupMS = ms(time.Since(t0))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return s, err
	}
	hs := &http.Server{Handler: app.Handler, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // ends with Close below
	defer hs.Close()

	c := NewClient("http://"+ln.Addr().String(), o.Clients)
	fmt.Fprintf(log, "bench: %s, %d cores; raw baseline, %d lifecycles\n", s.Engine, s.Cores, o.Raw)
	raw, err := RawLifecycles(ctx, db, p, o.Raw)
	if err != nil {
		return s, err
	}
	s.RawLifecyclesPerS = round(float64(o.Raw) / raw.Seconds())

	fmt.Fprintf(log, "bench: %d lifecycles over HTTP, %d clients\n", o.Lifecycles, o.Clients)
	numbers := make([]string, 0, o.Lifecycles)
	var mu sync.Mutex
	stmts, cpu := store.Statements.Load(), CPUTime()
	took, err := c.Concurrently(ctx, o.Lifecycles, o.Clients, func(ctx context.Context) error {
		n, err := c.Lifecycle(ctx, p)
		if err == nil {
			mu.Lock()
			numbers = append(numbers, n)
			mu.Unlock()
		}
		return err
	})
	if err != nil {
		return s, err
	}
	s.Lifecycles = o.Lifecycles
	s.LifecyclesPerS = round(float64(o.Lifecycles) / took.Seconds())
	s.LifecycleRatio = round(s.LifecyclesPerS / s.RawLifecyclesPerS)
	s.CPUMicrosLifecycle = round(float64((CPUTime() - cpu).Microseconds()) / float64(o.Lifecycles))
	s.Statements = round(float64(store.Statements.Load()-stmts) / float64(o.Lifecycles))

	fmt.Fprintf(log, "bench: reads, %d each\n", o.Reads)
	if s.Trace, err = c.Latencies(ctx, o.Reads, func(i int) (string, string) {
		return p.Gen, "/api/v1/trace/" + numbers[i%len(numbers)]
	}); err != nil {
		return s, err
	}
	if s.ManifestList, err = c.Latencies(ctx, o.Reads, func(int) (string, string) {
		return p.Gen, "/api/v1/manifests?limit=50"
	}); err != nil {
		return s, err
	}
	if s.Indicators, err = c.Latencies(ctx, o.Reads, func(int) (string, string) {
		return p.Regulator, "/api/v1/indicators"
	}); err != nil {
		return s, err
	}

	fmt.Fprintln(log, "bench: audit verify")
	t0 = time.Now()
	rep, err := audit.Verify(ctx, db, "")
	if err != nil {
		return s, err
	}
	if !rep.OK {
		return s, fmt.Errorf("bench: audit verify: %s", rep)
	}
	s.AuditEntries = rep.Entries
	s.AuditVerifyPerS = round(float64(rep.Entries) / time.Since(t0).Seconds())
	cp, err := app.Audit.Checkpoint(ctx)
	if err != nil {
		return s, err
	}
	t0 = time.Now()
	if _, err := app.Audit.Entry(ctx, cp.Size/2+1); err != nil {
		return s, err
	}
	s.AuditProofMS = ms(time.Since(t0))
	s.RSSMiB = peakRSS()
	s.Seconds = round(time.Since(start).Seconds())
	return s, nil
}

// Parties are three parties to a manifest and a regulator, as the client
// knows them: the bench's own (EnsureParties) or the demo's (Client.Parties).
type Parties struct {
	Gen, Carrier, Disposer, Regulator         string // bearer tokens
	GenUnit, CarrierUnit, DisposerUnit, Plate string
}

// Client is an HTTP client for the platform's API.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client of base keeping a connection per concurrent
// caller, as a server's clients do.
func NewClient(base string, conns int) *Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(conns, 2)
	return &Client{base: base, hc: &http.Client{Transport: t, Timeout: time.Minute}}
}

// Parties logs the demo's parties in, for tests on a demo database; the
// bench itself acts as its own parties (EnsureParties).
func (c *Client) Parties(ctx context.Context) (Parties, error) {
	var p Parties
	for _, x := range []struct {
		user        string
		token, unit *string
	}{{"gen", &p.Gen, &p.GenUnit}, {"carrier", &p.Carrier, &p.CarrierUnit}, {"disposer", &p.Disposer, &p.DisposerUnit},
		{"sthjj", &p.Regulator, nil}} {
		var s struct {
			Token string `json:"token"`
		}
		if err := c.Call(ctx, "", "POST", "/api/v1/auth/login",
			`{"username":"`+x.user+`","password":"wufei-demo"}`, &s); err != nil {
			return p, err
		}
		*x.token = s.Token
		if x.unit == nil {
			continue
		}
		var me struct {
			UnitID string `json:"unit_id"`
		}
		if err := c.Call(ctx, s.Token, "GET", "/api/v1/me", "", &me); err != nil {
			return p, err
		}
		*x.unit = me.UnitID
	}
	p.Plate = "皖F3A721"
	return p, nil
}

// Lifecycle walks one manifest from create to complete and returns its
// number.
func (c *Client) Lifecycle(ctx context.Context, p Parties) (string, error) {
	var m struct {
		ID     string `json:"id"`
		Number string `json:"number"`
	}
	body := fmt.Sprintf(`{"carrier_unit_id":%q,"receiver_unit_id":%q,"vehicle_plate":%q,
		"lines":[{"waste_code":"900-249-08","quantity_t":1.2,"form":"L","packaging":"桶","package_count":6}]}`,
		p.CarrierUnit, p.DisposerUnit, p.Plate)
	if err := c.Call(ctx, p.Gen, "POST", "/api/v1/manifests", body, &m); err != nil {
		return "", err
	}
	for _, s := range []struct{ token, step, body string }{
		{p.Gen, "submit", ""},
		{p.Carrier, "pickup", ""},
		{p.Disposer, "receive", `{"lines":[{"line_no":1,"received_t":1.2}]}`},
		{p.Disposer, "complete", `{"lines":[{"line_no":1,"method":"R9"}]}`},
	} {
		if err := c.Call(ctx, s.token, "POST", "/api/v1/manifests/"+m.ID+"/"+s.step, s.body, nil); err != nil {
			return "", err
		}
	}
	return m.Number, nil
}

// Call sends one request and decodes a JSON answer into dst; an answer of
// 300 or more is an error with its body.
func (c *Client) Call(ctx context.Context, token, method, path, body string, dst any) error {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(b))
	}
	if dst != nil {
		return json.Unmarshal(b, dst)
	}
	return nil
}

// Concurrently runs fn n times over the given number of workers and
// returns how long that took; the first error stops the run.
func (c *Client) Concurrently(ctx context.Context, n, workers int, fn func(context.Context) error) (time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				if err := fn(ctx); err != nil {
					cancel(err)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return took, err
	}
	return took, nil
}

// Latencies times n GET requests, one after another; req gives the token
// and path of the i-th.
func (c *Client) Latencies(ctx context.Context, n int, req func(i int) (token, path string)) (Latency, error) {
	d := make([]time.Duration, n)
	for i := range n {
		token, path := req(i)
		t := time.Now()
		if err := c.Call(ctx, token, "GET", path, "", nil); err != nil {
			return Latency{}, err
		}
		d[i] = time.Since(t)
	}
	slices.Sort(d)
	at := func(q float64) float64 { return ms(d[min(len(d)-1, int(q*float64(len(d))))]) }
	return Latency{N: n, P50MS: at(0.50), P99MS: at(0.99)}, nil
}

// RawLifecycles writes n lifecycles' rows raw — the manifest, its line and
// leg in one transaction, then one transaction per status update — straight
// through database/sql on the writer pool, and returns how long that took.
func RawLifecycles(ctx context.Context, db *store.DB, p Parties, n int) (time.Duration, error) {
	w := db.Writer()
	tx := func(f func(tx *sqlx.Tx) error) error {
		x, err := w.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		if err := f(x); err != nil {
			_ = x.Rollback()
			return err
		}
		return x.Commit()
	}
	exec := func(x *sqlx.Tx, q string, args ...any) error {
		_, err := x.ExecContext(ctx, x.Rebind(q), args...)
		return err
	}
	steps := []string{
		`UPDATE manifests SET status = 'submitted', submitted_at = ?, version = version + 1 WHERE id = ?`,
		`UPDATE manifests SET status = 'in_transit', picked_up_at = ?, version = version + 1 WHERE id = ?`,
		`UPDATE manifests SET status = 'received', received_at = ?, version = version + 1 WHERE id = ?`,
		`UPDATE manifests SET status = 'completed', completed_at = ?, version = version + 1 WHERE id = ?`,
	}
	// Numbers of a year no real manifest has, distinct from earlier runs'.
	base := time.Now().UnixMilli() % 1_000_000 * 10_000
	start := time.Now()
	for i := range n {
		id := uuid.Must(uuid.NewV7()).String()
		now := store.Now()
		err := tx(func(x *sqlx.Tx) error {
			if err := exec(x, `INSERT INTO manifests (id, number, year, status, consignor_unit_id, receiver_unit_id,
				region_code, receiver_region_code, created_at, updated_at, version)
				VALUES (?, ?, 2099, 'draft', ?, ?, '340621', '340604', ?, ?, 1)`,
				id, fmt.Sprintf("2099%010d", base+int64(i)), p.GenUnit, p.DisposerUnit, now, now); err != nil {
				return err
			}
			if err := exec(x, `INSERT INTO manifest_lines (manifest_id, line_no, waste_code, category, name, official_name,
				quantity_g, form, characteristics, packaging, package_count)
				VALUES (?, 1, '900-249-08', 'HW08', 'x', 'x', 1200000, 'L', 'T,I', '桶', 6)`, id); err != nil {
				return err
			}
			return exec(x, `INSERT INTO manifest_carriers (manifest_id, leg, carrier_unit_id, vehicle_plate)
				VALUES (?, 1, ?, ?)`, id, p.CarrierUnit, p.Plate)
		})
		if err != nil {
			return 0, fmt.Errorf("bench: raw: %w", err)
		}
		for _, q := range steps {
			if err := tx(func(x *sqlx.Tx) error { return exec(x, q, store.Now(), id) }); err != nil {
				return 0, fmt.Errorf("bench: raw: %w", err)
			}
		}
	}
	return time.Since(start), nil
}

func ms(d time.Duration) float64 { return round(float64(d.Microseconds()) / 1000) }

func round(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// CPUTime is the CPU time the process has used, user and system: with the
// clients in the same process, both sides' share of the same cores.
func CPUTime() time.Duration {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// peakRSS is the process's peak resident memory in MiB.
func peakRSS() float64 {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return round(float64(u.Maxrss) / 1024) // kilobytes on Linux
}
