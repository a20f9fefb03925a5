package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/server"
	"wufei/internal/store"
)

// readClients is how many callers read at once in RunReads, over HTTP and
// raw alike: unless told, one per core, which keeps every core busy while a
// latency stays the read's own. With more callers than cores a latency is
// mostly the time a read waits for a core (docs/performance.md measures it).
func readClients(o Options) int {
	if o.ReadClients > 0 {
		return o.ReadClients
	}
	return runtime.GOMAXPROCS(0)
}

// ReadsSummary is what RunReads measured on a given database. Latencies are
// in milliseconds, each beside the raw engine's for the same SQL.
type ReadsSummary struct {
	Engine      string    `json:"engine"`
	Cores       int       `json:"cores"`
	ReadClients int       `json:"read_clients"`
	At          time.Time `json:"at"`
	Data        DataSize  `json:"data"`
	Year        int       `json:"year"` // of the filtered lists, the dashboard and the export

	Startup Startup `json:"startup"`

	Trace                    Compared `json:"trace"`                       // GET /api/v1/trace/{number}, city regulator
	ManifestList             Compared `json:"manifest_list"`               // first page, city regulator
	ManifestListFiltered     Compared `json:"manifest_list_filtered"`      // status, year and waste code, city regulator
	ManifestListRare         Compared `json:"manifest_list_rare"`          // status refused, city regulator
	UnitManifestList         Compared `json:"unit_manifest_list"`          // first page, the busiest consignor
	UnitManifestListFiltered Compared `json:"unit_manifest_list_filtered"` // as consignor, status and year
	Indicators               Compared `json:"indicators"`                  // GET /api/v1/indicators?region=&year=
	DashboardFlows           Compared `json:"dashboard_flows"`             // GET /api/v1/dashboard/flows?period=year
	AuditProof               Compared `json:"audit_proof"`                 // GET /api/v1/audit/entries/{seq}

	AuditVerify Rate     `json:"audit_verify"` // entries per second
	ExcelExport Transfer `json:"excel_export"`
	ExcelImport Transfer `json:"excel_import"`

	Memory  ServerMemory `json:"server_memory"`
	Targets []Target     `json:"targets"`
	Seconds float64      `json:"seconds"`
}

// DataSize is how much the database holds when the run begins.
type DataSize struct {
	Units           int64 `json:"units"`
	Manifests       int64 `json:"manifests"`
	LedgerRecords   int64 `json:"ledger_records"`
	AuditEntries    int64 `json:"audit_entries"`
	IndicatorValues int64 `json:"indicator_values"`
}

// Startup is the time from starting `wufei serve` to its first healthy
// answer (median of three starts), beside the raw engine's: opening a pool
// on the same database and answering SELECT 1.
type Startup struct {
	MS    float64   `json:"ms"`
	RawMS float64   `json:"raw_ms"`
	Ratio float64   `json:"ratio"` // MS over RawMS
	Runs  []float64 `json:"runs_ms"`
	// SettleMS is how long the last start's own work (the rules tried at
	// once) kept the server busy after it answered; the reads wait for it.
	SettleMS float64 `json:"settle_ms"`
}

// ServerMemory is the server process's resident memory (VmRSS): idle after
// start-up, at its highest under the reads, and under the lifecycle load
// its highest and its median over the load's second half.
type ServerMemory struct {
	IdleMiB        float64 `json:"idle_mib"`
	ReadsPeakMiB   float64 `json:"reads_peak_mib"`
	LoadPeakMiB    float64 `json:"load_peak_mib"`
	LoadSteadyMiB  float64 `json:"load_steady_mib"`
	HighWaterMiB   float64 `json:"high_water_mib"` // VmHWM at the end
	Lifecycles     int     `json:"lifecycles"`
	Clients        int     `json:"clients"`
	LifecyclesPerS float64 `json:"lifecycles_per_s"`
}

// Target is one of the budgets and whether this run met it. The
// budgets are stated for province (reads, start-up) or city (memory) scale.
type Target struct {
	Figure string  `json:"figure"`
	Limit  string  `json:"limit"`
	Value  float64 `json:"value"`
	Met    bool    `json:"met"`
}

// sample is what the reads ask for, found in the database itself.
type sample struct {
	year      int
	numbers   []string // manifests past the draft, in random order
	code      string   // the year's most common waste code
	unit      string   // the consignor with the most manifests
	areas     [][2]string
	regulator auth.Principal
}

// RunReads measures a given database as it is: start-up, the reads over
// HTTP against a `wufei serve` process of its own, the audit log, Excel
// export (and import into a scratch database), and the server's memory under
// the reads and under o.Lifecycles lifecycles between the bench's own
// parties, which it registers on the database.
func RunReads(ctx context.Context, o Options, log io.Writer) (ReadsSummary, error) {
	start := time.Now()
	s := ReadsSummary{Cores: runtime.GOMAXPROCS(0), ReadClients: readClients(o), At: start.UTC().Truncate(time.Second)}
	if o.DB == "" || o.Server == "" {
		return s, errors.New("bench: reads need a database and the server binary")
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
	if s.Data, err = dataSize(ctx, db); err != nil {
		return s, err
	}
	fmt.Fprintf(log, "bench: %s: %d units, %d manifests, %d ledger records, %d audit entries\n", s.Engine,
		s.Data.Units, s.Data.Manifests, s.Data.LedgerRecords, s.Data.AuditEntries)
	p, err := EnsureParties(ctx, db)
	if err != nil {
		return s, err
	}
	sm, err := discover(ctx, db, p)
	if err != nil {
		return s, err
	}
	s.Year = sm.year
	unitTok, err := unitToken(ctx, db, sm.unit)
	if err != nil {
		return s, err
	}
	defer revoke(context.WithoutCancel(ctx), db, p.Gen, p.Carrier, p.Disposer, p.Regulator, unitTok)

	fmt.Fprintln(log, "bench: start-up, three times")
	srv, err := startups(ctx, o, &s.Startup)
	if err != nil {
		return s, err
	}
	defer srv.Stop()
	s.Startup.SettleMS = ms(srv.Settle(ctx, time.Minute))
	fmt.Fprintf(log, "bench: the server settled %.1f s after it answered\n", s.Startup.SettleMS/1000)
	rss, _ := srv.Memory()
	s.Memory.IdleMiB = mib(rss)
	sampler := srv.Sample(100 * time.Millisecond)
	defer sampler.Stop()

	c := NewClient(srv.URL, max(o.Clients, s.ReadClients))
	r := reader{ctx: ctx, c: c, q: db.Reader(), n: o.Reads, clients: s.ReadClients, p: p, unitTok: unitTok, sm: sm}
	fmt.Fprintf(log, "bench: reads, %d each, %d callers, over HTTP and raw\n", o.Reads, s.ReadClients)
	if err := r.all(&s); err != nil {
		return s, err
	}
	s.Memory.ReadsPeakMiB = mib(slices.Max(append(sampler.Take(), rss)))

	if o.Lifecycles > 0 {
		fmt.Fprintf(log, "bench: server memory under %d lifecycles, %d clients\n", o.Lifecycles, o.Clients)
		if err := underLoad(ctx, c, p, o, sampler, &s.Memory); err != nil {
			return s, err
		}
	}
	_, hwm := srv.Memory()
	s.Memory.HighWaterMiB = mib(hwm)
	if err := srv.Stop(); err != nil {
		return s, err
	}

	fmt.Fprintln(log, "bench: audit verify")
	if s.AuditVerify, err = verifyRate(ctx, db); err != nil {
		return s, err
	}
	fmt.Fprintf(log, "bench: Excel export of %d's ledger\n", sm.year)
	if s.ExcelExport, err = exportLedger(ctx, db, sm.regulator, sm.year); err != nil {
		return s, err
	}
	fmt.Fprintf(log, "bench: Excel import of %d ledger rows into a scratch database\n", o.ImportRows)
	if s.ExcelImport, err = importLedger(ctx, db.Dialect, o.DB, o.ImportRows); err != nil {
		return s, err
	}
	s.Targets = targets(s)
	s.Seconds = round(time.Since(start).Seconds())
	return s, nil
}

// underLoad walks o.Lifecycles lifecycles and records the server's memory
// meanwhile: its highest, and its median over the load's second half.
func underLoad(ctx context.Context, c *Client, p Parties, o Options, sampler *Sampler, m *ServerMemory) error {
	sampler.Take()
	took, err := c.Concurrently(ctx, o.Lifecycles, o.Clients, func(ctx context.Context) error {
		_, err := c.Lifecycle(ctx, p)
		return err
	})
	if err != nil {
		return err
	}
	load := sampler.Take()
	m.Lifecycles, m.Clients, m.LifecyclesPerS = o.Lifecycles, o.Clients, perS(int64(o.Lifecycles), took)
	if len(load) > 0 {
		m.LoadPeakMiB = mib(slices.Max(load))
		steady := slices.Clone(load[len(load)/2:])
		slices.Sort(steady)
		m.LoadSteadyMiB = mib(steady[len(steady)/2])
	}
	return nil
}

func dataSize(ctx context.Context, db *store.DB) (DataSize, error) {
	var d DataSize
	for _, x := range []struct {
		n     *int64
		query string
	}{
		{&d.Units, `SELECT count(*) FROM units`},
		{&d.Manifests, `SELECT count(*) FROM manifests`},
		{&d.LedgerRecords, `SELECT count(*) FROM ledger_records`},
		{&d.AuditEntries, `SELECT seq FROM audit_head WHERE id = 1`},
		{&d.IndicatorValues, `SELECT count(*) FROM indicator_values`},
	} {
		if err := store.Get(ctx, db.Reader(), x.n, x.query); err != nil {
			return d, err
		}
	}
	return d, nil
}

// discover finds what the reads ask for by querying the database: it knows
// nothing of how the data was made.
func discover(ctx context.Context, db *store.DB, p Parties) (sample, error) {
	q := db.Reader()
	sm := sample{regulator: auth.Principal{UserID: "bench", Username: regulatorUser, Role: auth.Regulator,
		RegionCode: auth.CityCode}}
	var years []int
	sm.year = time.Now().In(calendar.Zone).Year()
	// Not beyond this year: the raw baseline of `wufei bench` writes manifests of 2099.
	if err := store.Select(ctx, q, &years, `SELECT year FROM manifests WHERE status <> 'draft' AND year <= ?
		ORDER BY year DESC LIMIT 1`, sm.year); err != nil {
		return sm, err
	}
	if len(years) > 0 {
		sm.year = years[0]
	}
	if err := store.Select(ctx, q, &sm.numbers, `SELECT number FROM manifests WHERE status <> 'draft'
		ORDER BY random() LIMIT 2000`); err != nil {
		return sm, err
	}
	var codes, units []string
	if err := store.Select(ctx, q, &codes, `SELECT l.waste_code FROM manifest_lines l JOIN manifests m ON m.id = l.manifest_id
		WHERE m.year = ? GROUP BY l.waste_code ORDER BY count(*) DESC LIMIT 1`, sm.year); err != nil {
		return sm, err
	}
	sm.code = "900-249-08"
	if len(codes) > 0 {
		sm.code = codes[0]
	}
	if err := store.Select(ctx, q, &units, `SELECT consignor_unit_id FROM manifests GROUP BY consignor_unit_id
		ORDER BY count(*) DESC LIMIT 1`); err != nil {
		return sm, err
	}
	sm.unit = p.GenUnit
	if len(units) > 0 {
		sm.unit = units[0]
	}
	// The regions and years indicator values are kept for, a few of each.
	var regions []string
	if err := store.Select(ctx, q, &regions, `SELECT DISTINCT region_code FROM indicator_values ORDER BY region_code LIMIT 20`); err != nil {
		return sm, err
	}
	if !slices.Contains(regions, auth.CityCode) {
		regions = append(regions, auth.CityCode)
	}
	for _, r := range regions {
		for _, y := range []int{sm.year - 1, sm.year} {
			sm.areas = append(sm.areas, [2]string{r, strconv.Itoa(y)})
		}
	}
	return sm, nil
}

// startups starts the server three times, keeps the last one running and
// records the median time to a healthy answer beside the raw engine's.
func startups(ctx context.Context, o Options, st *Startup) (*Server, error) {
	var srv *Server
	var runs, raws []float64
	for range 3 {
		if srv != nil {
			if err := srv.Stop(); err != nil {
				return nil, err
			}
		}
		var err error
		if srv, err = StartServer(ctx, o.Server, o.DB, o.KeyFile); err != nil {
			return nil, err
		}
		runs = append(runs, ms(srv.Startup))
		t := time.Now()
		raw, err := store.Open(ctx, o.DB)
		if err != nil {
			srv.Stop()
			return nil, err
		}
		var one int
		err = store.Get(ctx, raw.Reader(), &one, `SELECT 1`)
		raws = append(raws, ms(time.Since(t)))
		raw.Close()
		if err != nil {
			srv.Stop()
			return nil, err
		}
	}
	st.Runs = slices.Clone(runs)
	slices.Sort(runs)
	slices.Sort(raws)
	st.MS, st.RawMS = runs[1], raws[1]
	st.Ratio = ratio(st.MS, st.RawMS)
	return srv, nil
}

func targets(s ReadsSummary) []Target {
	t := func(figure, limit string, v float64, met bool) Target {
		return Target{Figure: figure, Limit: limit, Value: v, Met: met}
	}
	list := max(s.ManifestList.P99MS, s.ManifestListFiltered.P99MS, s.ManifestListRare.P99MS, s.UnitManifestList.P99MS,
		s.UnitManifestListFiltered.P99MS)
	return []Target{
		t("trace p99 ms", "< 10", s.Trace.P99MS, s.Trace.P99MS < 10),
		t("manifest list p99 ms (slowest of the five)", "< 50", list, list < 50),
		t("indicators p99 ms", "< 100", s.Indicators.P99MS, s.Indicators.P99MS < 100),
		t("audit verify entries/s", ">= 200000", s.AuditVerify.PerS, s.AuditVerify.PerS >= 200000),
		t("server RSS under load MiB", "< 200", s.Memory.LoadPeakMiB, s.Memory.LoadPeakMiB < 200),
		t("start-up ms", "< 1000", s.Startup.MS, s.Startup.MS < 1000),
	}
}

// query builds a path with its query string.
func query(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return path + "?" + v.Encode()
}
