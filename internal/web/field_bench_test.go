package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"wufei/internal/auth"
	"wufei/internal/demo"
	"wufei/internal/hw/manifest"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// benchPickups is how many manifests wait for the carrier in the benchmark:
// a busy day of a city carrier.
const benchPickups = 60

// BenchmarkFieldHome measures a carrier's field home (the day's pickups
// with their lines, legs and pickup addresses, rendered) over HTTP on the
// demo data, against the raw engine running the same reads: the scoped
// list, its lines, its legs and the addresses.
//
//	go test ./internal/web/ -run '^$' -bench BenchmarkFieldHome -benchtime 200x
func BenchmarkFieldHome(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) { benchFieldHome(b, e) })
	}
}

func benchFieldHome(b *testing.B, e storetest.Engine) {
	db, _ := e.Open(b)
	ctx := context.Background()
	app, err := server.New(ctx, db, server.Config{Demo: true, Version: "bench",
		KeyFile: filepath.Join(b.TempDir(), "audit.key")})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler)
	b.Cleanup(srv.Close)
	as := auth.NewService(db)
	login := func(user string) auth.Principal {
		s, err := as.Login(ctx, user, demo.Password)
		if err != nil {
			b.Fatal(err)
		}
		return s.User.Principal()
	}
	gen, carrier, disposer := login("gen"), login("carrier"), login("disposer")
	ms := manifest.NewService(db)
	for range benchPickups {
		ids := generate(b, db, gen, 2)
		m, err := ms.Create(ctx, gen, manifest.Input{ReceiverUnitID: disposer.UnitID,
			Carriers: []manifest.LegInput{{CarrierUnitID: carrier.UnitID, VehiclePlate: "皖F3A721"}},
			Lines: []manifest.LineInput{{WasteCode: "900-249-08", QuantityT: 0.4, Form: "L", Packaging: "铁桶", PackageCount: 2,
				ContainerIDs: ids}}})
		if err == nil {
			_, err = ms.Submit(ctx, gen, m.ID, m.Version)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(srv.URL+"/login", url.Values{"username": {"carrier"}, "password": {demo.Password},
		"next": {"/field"}})
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Count(string(body), `class="trip"`) != benchPickups {
		b.Fatalf("field home after log-in: %d, %d trips", resp.StatusCode, strings.Count(string(body), `class="trip"`))
	}
	b.Logf("field home with %d pickups: %d bytes", benchPickups, len(body))

	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			resp, err := c.Get(srv.URL + "/field")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET /field: %d", resp.StatusCode)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			var ids []string
			if err := store.Select(ctx, db.Reader(), &ids, `SELECT m.id FROM manifests m JOIN units cu ON cu.id = m.consignor_unit_id
				JOIN units ru ON ru.id = m.receiver_unit_id WHERE m.status = 'submitted' AND EXISTS (SELECT 1 FROM manifest_carriers mc
				WHERE mc.manifest_id = m.id AND mc.carrier_unit_id = ?) ORDER BY m.id DESC LIMIT 101`, carrier.UnitID); err != nil {
				b.Fatal(err)
			}
			for _, q := range []string{
				`SELECT manifest_id, line_no, waste_code, quantity_g, container_ids FROM manifest_lines WHERE manifest_id IN (?)`,
				`SELECT mc.manifest_id, mc.leg, u.name FROM manifest_carriers mc JOIN units u ON u.id = mc.carrier_unit_id
					WHERE mc.manifest_id IN (?)`,
				`SELECT m.id, u.address, u.contact_phone FROM manifests m JOIN units u ON u.id = m.consignor_unit_id WHERE m.id IN (?)`,
			} {
				query, args, err := store.In(q, ids)
				if err != nil {
					b.Fatal(err)
				}
				rows, err := db.Reader().QueryxContext(ctx, db.Reader().Rebind(query), args...)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				rows.Close()
			}
		}
	})
}
