package trace_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/demo"
	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
	"wufei/internal/hw/trace"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// TestTraceFromContainerAndBatch follows waste generated into labelled
// containers, shipped on a manifest and treated: the same chain is found
// from the container's digital id, the generation batch and the manifest
// number, and none of it from another generator.
func TestTraceFromContainerAndBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := server.Prepare(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := demo.Seed(ctx, db, 0); err != nil {
			t.Fatal(err)
		}
		as := auth.NewService(db)
		login := func(u string) auth.Principal {
			s, err := as.Login(ctx, u, demo.Password)
			if err != nil {
				t.Fatal(err)
			}
			return s.User.Principal()
		}
		gen, gen2, carrier, disposer, sthjj := login("gen"), login("gen2"), login("carrier"), login("disposer"), login("sthjj")

		g, err := ledger.NewService(db).RecordGeneration(ctx, gen, ledger.NewGeneration{WasteCode: "900-249-08", Form: "L",
			Packaging: "铁桶", VolumeL: 200, Count: 2, QuantityT: 0.4, FacilityCode: "SC001", Handler: "王工"})
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{g.Items[0].DigitalID, g.Items[1].DigitalID}
		ms := manifest.NewService(db)
		m, err := ms.Create(ctx, gen, manifest.Input{CarrierUnitID: carrier.UnitID, VehiclePlate: "皖F3A721",
			ReceiverUnitID: disposer.UnitID, Lines: []manifest.LineInput{{WasteCode: "900-249-08", QuantityT: 0.4, Form: "L",
				Packaging: "铁桶", PackageCount: 2, ContainerIDs: ids}}})
		if err == nil {
			_, err = ms.Submit(ctx, gen, m.ID, 0)
		}
		if err == nil {
			_, err = ms.Pickup(ctx, carrier, m.ID, 0)
		}
		if err == nil {
			_, err = ms.Receive(ctx, disposer, m.ID, 0, []manifest.ReceiptLine{{LineNo: 1, ReceivedT: 0.4}})
		}
		if err == nil {
			_, err = ms.Complete(ctx, disposer, m.ID, 0, []manifest.CompletionLine{{LineNo: 1, Method: "R9"}})
		}
		if err != nil {
			t.Fatal(err)
		}
		lg, err := audit.LoadOrCreateSigner(ctx, db, filepath.Join(t.TempDir(), "k"), "test")
		if err != nil {
			t.Fatal(err)
		}
		svc := trace.NewService(db, ms, lg)
		for _, ref := range []string{ids[0], g.Record.BatchCode, m.Number} {
			tr, err := svc.Trace(ctx, gen, ref, true)
			if err != nil {
				t.Fatalf("%s: %v", ref, err)
			}
			var kinds []string
			seqs := map[int64]bool{} // a record naming both containers is one step of the chain
			for i, l := range tr.Steps {
				kinds = append(kinds, l.Kind)
				if l.AuditSeq == 0 || l.Proof == nil || (i > 0 && l.At.Before(tr.Steps[i-1].At)) || seqs[l.AuditSeq] {
					t.Fatalf("%s: step %d %+v", ref, i, l)
				}
				seqs[l.AuditSeq] = true
			}
			joined := strings.Join(kinds, " ")
			for _, want := range []string{"generation", "manifest.submit", "manifest.pickup", "manifest.receive", "manifest.complete"} {
				if !strings.Contains(joined, want) {
					t.Fatalf("%s: chain %q lacks %s", ref, joined, want)
				}
			}
			if len(tr.Manifests) != 1 || tr.Manifests[0].Number != m.Number {
				t.Fatalf("%s: manifests %v", ref, tr.Manifests)
			}
			roles := map[string]bool{}
			for _, p := range tr.Parties {
				if roles[p.Role] = true; p.Name == "" {
					t.Fatalf("%s: party without a name: %+v", ref, p)
				}
			}
			if len(roles) != 4 {
				t.Fatalf("%s: parties %+v", ref, tr.Parties)
			}
			if _, err := svc.Trace(ctx, sthjj, ref, false); err != nil {
				t.Fatalf("%s as the regulator: %v", ref, err)
			}
			if _, err := svc.Trace(ctx, gen2, ref, false); errs.KindOf(err) != errs.NotFound {
				t.Fatalf("%s as gen2: %v", ref, err)
			}
		}
		if _, err := svc.Trace(ctx, gen, "CS20990101999999", false); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("unknown batch: %v", err)
		}
		// A well-formed digital id of no container.
		var e *errs.Error
		if _, err := svc.Trace(ctx, gen, "91340600MA2TEST0010900241202601010001", false); !errors.As(err, &e) || e.Code != "container_not_found" {
			t.Fatalf("unknown container: %v", err)
		}
	})
}
