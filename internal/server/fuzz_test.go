package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"wufei/internal/bench"
	"wufei/internal/server"
	"wufei/internal/store/storetest"
)

// fuzzServer is a demo server for the body fuzz targets, and the
// generator's token.
func fuzzServer(f *testing.F) (*httptest.Server, string) {
	ctx := context.Background()
	db, _ := storetest.SQLite(f)
	app, err := server.New(ctx, db, server.Config{Demo: true, DemoUnits: 0, KeyFile: filepath.Join(f.TempDir(), "k")})
	if err != nil {
		f.Fatal(err)
	}
	ts := httptest.NewServer(app.Handler)
	f.Cleanup(ts.Close)
	p, err := bench.NewClient(ts.URL, 2).Parties(ctx)
	if err != nil {
		f.Fatal(err)
	}
	return ts, p.Gen
}

// fuzzBody posts body to path and fails on a 5xx answer: hostile JSON gets
// a problem+json refusal, never a server error.
func fuzzBody(t *testing.T, ts *httptest.Server, token, path string, body []byte) {
	req, _ := http.NewRequest("POST", ts.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 500 {
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		t.Fatalf("%s %q: %d %s", path, body, res.StatusCode, b.String())
	}
}

func FuzzManifestBody(f *testing.F) {
	for _, s := range []string{
		`{"carrier_unit_id":"x","receiver_unit_id":"y","vehicle_plate":"皖F3A721","lines":[{"waste_code":"900-249-08","quantity_t":1.2,"form":"L","packaging":"桶","package_count":6}]}`,
		`{"lines":[{"waste_code":"900-249-08","quantity_t":1e308,"form":"L","packaging":"桶","package_count":-1}]}`,
		`{"carriers":[{"carrier_unit_id":"","vehicle_plate":"          "}],"lines":[]}`,
		`{"lines":[{"waste_code":"\u0000","quantity_t":-0,"container_ids":["` + string(make([]byte, 40)) + `"]}]}`,
		`[]`, `null`, `{"lines":null}`, `{`,
	} {
		f.Add([]byte(s))
	}
	ts, gen := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzBody(t, ts, gen, "/api/v1/manifests", body) })
}

func FuzzLedgerBody(f *testing.F) {
	for _, s := range []string{
		`{"kind":"generation","waste_code":"900-249-08","quantity_t":0.5,"form":"L","containers":2,"packaging":"桶"}`,
		`{"kind":"storage_out","prev_batch":"` + string(make([]byte, 300)) + `","quantity_t":"1"}`,
		`{"kind":"in_house","method":"R9","quantity_t":1e-9}`,
		`{"kind":"","occurred_at":"9999-99-99"}`, `{}`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	ts, gen := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzBody(t, ts, gen, "/api/v1/ledger", body) })
}
