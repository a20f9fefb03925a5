package web

import (
	"context"
	"net/http"
	"slices"
	"time"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/hw/manifest"
	"wufei/internal/qty"
	"wufei/internal/registry"
)

// The field pages (现场作业) are what drivers, storekeepers and receivers use
// on a phone: short pages, big targets, plain forms that work without
// JavaScript, and a camera scan of the label's QR code where the browser can.

func (s *server) fieldRoutes(mux *routeMux) {
	mux.HandleFunc("GET /field", s.authed(s.fieldHome))
	mux.HandleFunc("GET /field/{kind}/{id}", s.authed(s.fieldManifest))
	mux.HandleFunc("POST /field/{kind}/{id}", s.authed(s.fieldCheck))
	mux.HandleFunc("POST /field/pickup/{id}/confirm", s.authed(s.fieldPickup))
	mux.HandleFunc("GET /field/storage/{dir}", s.authed(s.fieldStorage))
	mux.HandleFunc("POST /field/storage/{dir}", s.authed(s.fieldStorageCheck))
	mux.HandleFunc("POST /field/storage/{dir}/confirm", s.authed(s.fieldStorageConfirm))
}

// fieldLimit bounds the manifests one list of the field home shows.
const fieldLimit = 100

// fieldTrip is a manifest as a field list shows it.
type fieldTrip struct {
	manifest.Manifest
	Address    string // the consignor's address, where the carrier picks up
	Contact    string
	Phone      string
	Containers int
	Packages   int
	TotalT     float64
	When       string // submitted, picked up or due, by list
	Overdue    bool
}

type fieldHomeData struct {
	Unit      *registry.Unit
	Carrier   bool // the unit carries: pickups
	Receiver  bool // the unit receives: arrivals
	Storekeep bool // the unit generates and the user keeps its ledger
	Pickups   []fieldTrip
	OnRoad    []fieldTrip
	Arrivals  []fieldTrip
	Flash     string
}

// fieldHome is the phone's start page: what the user's unit has to do in
// the field now, by the unit's roles.
func (s *server) fieldHome(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	d := fieldHomeData{Flash: s.flash(w, r)}
	if p.UnitID == "" || !p.Role.BoundToUnit() {
		s.page(w, r, http.StatusOK, "field", "content", s.view(r, "field", d))
		return
	}
	u, err := s.Registry.GetUnit(ctx, p, p.UnitID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Unit = &u
	d.Carrier = u.HasRole(registry.Carrier)
	d.Receiver = p.Role != auth.Driver && (u.HasRole(registry.Collector) || u.HasRole(registry.Utiliser) ||
		u.HasRole(registry.Disposer))
	d.Storekeep = signer(p) && u.HasRole(registry.Generator)
	if d.Carrier {
		ms, _, err := s.Manifests.List(ctx, p, manifest.Filter{Status: string(manifest.Submitted), Role: "carrier", Limit: fieldLimit})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, m := range ms {
			if manifest.Can(p, m, "pickup") {
				d.Pickups = append(d.Pickups, newFieldTrip(m, minuteOf(m.SubmittedAt)))
			}
		}
		// Oldest first: the consignor who has waited longest.
		slices.SortFunc(d.Pickups, func(a, b fieldTrip) int { return cmpTime(a.SubmittedAt, b.SubmittedAt) })
		if err := s.pickupAddresses(ctx, p, d.Pickups); err != nil {
			s.fail(w, r, err)
			return
		}
		ms, _, err = s.Manifests.List(ctx, p, manifest.Filter{Status: string(manifest.InTransit), Role: "carrier", Limit: fieldLimit})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, m := range ms {
			d.OnRoad = append(d.OnRoad, newFieldTrip(m, minuteOf(m.PickedUpAt)))
		}
	}
	if d.Receiver {
		ms, _, err := s.Manifests.List(ctx, p, manifest.Filter{Status: string(manifest.InTransit), Role: "receiver", Limit: fieldLimit})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		now := time.Now()
		for _, m := range ms {
			t := newFieldTrip(m, minuteOf(m.ReceiptDueAt))
			t.Overdue = m.ReceiptDueAt != nil && now.After(*m.ReceiptDueAt)
			d.Arrivals = append(d.Arrivals, t)
		}
		// The nearest deadline first.
		slices.SortFunc(d.Arrivals, func(a, b fieldTrip) int { return cmpTime(a.ReceiptDueAt, b.ReceiptDueAt) })
	}
	s.page(w, r, http.StatusOK, "field", "content", s.view(r, "field", d))
}

func newFieldTrip(m manifest.Manifest, when string) fieldTrip {
	t := fieldTrip{Manifest: m, When: when}
	var g int64
	for _, l := range m.Lines {
		t.Containers += len(l.ContainerIDs)
		t.Packages += l.PackageCount
		g += l.QuantityG
	}
	t.TotalT = qty.Tonnes(g)
	return t
}

// cmpTime orders optional times, missing ones last.
func cmpTime(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}

// pickupAddresses fills in where each trip is picked up (manifest.Pickups).
func (s *server) pickupAddresses(ctx context.Context, p auth.Principal, trips []fieldTrip) error {
	ids := make([]string, len(trips))
	for i, t := range trips {
		ids[i] = t.ID
	}
	at, err := s.Manifests.Pickups(ctx, p, ids)
	for i := range trips {
		a := at[trips[i].ID]
		trips[i].Address, trips[i].Contact, trips[i].Phone = a.Address, a.Contact, a.Phone
	}
	return err
}

// fieldKinds are the manifest checks the field pages run: the carrier's at
// pickup and the receiver's on arrival, each with the step it leads to.
var fieldKinds = map[string]string{"pickup": "pickup", "arrival": "receive"}

// fieldManifestFor loads the manifest of a field check and makes sure the
// user's party may take the step the check leads to now.
func (s *server) fieldManifestFor(r *http.Request, p auth.Principal) (string, manifest.Manifest, error) {
	kind := r.PathValue("kind")
	action, ok := fieldKinds[kind]
	if !ok {
		return "", manifest.Manifest{}, errs.E(errs.NotFound, "not_found", "页面不存在")
	}
	m, err := s.Manifests.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return "", m, err
	}
	if !manifest.Can(p, m, action) {
		if kind == "pickup" {
			return "", m, errs.E(errs.Conflict, "field_not_pickup", "本联单当前不能由您起运：须为已提交的联单，且您的单位为第一程承运单位")
		}
		return "", m, errs.E(errs.Conflict, "field_not_arrival", "本联单当前不能由您接收：须为运输中的联单，且您的单位为接受单位")
	}
	return kind, m, nil
}

// fieldManifest is the check page of one manifest: its lines with their
// containers, and the form to scan or type each one.
func (s *server) fieldManifest(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	kind, m, err := s.fieldManifestFor(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderFieldManifest(w, r, p, http.StatusOK, newManifestScan(kind, m, nil))
}

// fieldCheck checks one scanned or typed digital id against the manifest.
// What is checked so far travels in the form, so the page needs no state
// of its own on the server and works the same without JavaScript.
func (s *server) fieldCheck(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
		return
	}
	kind, m, err := s.fieldManifestFor(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := newManifestScan(kind, m, r.PostForm["checked"])
	status := d.check(r.PostFormValue("digital_id"))
	s.renderFieldManifest(w, r, p, status, d)
}

// fieldPickup confirms the pickup once every container on the manifest has
// been checked, through the manifest's own pickup step.
func (s *server) fieldPickup(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
		return
	}
	r.SetPathValue("kind", "pickup")
	_, m, err := s.fieldManifestFor(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := newManifestScan("pickup", m, r.PostForm["checked"])
	if d.Done < d.Total {
		d.Problem = "field.unchecked_left"
		s.renderFieldManifest(w, r, p, http.StatusUnprocessableEntity, d)
		return
	}
	if _, err := s.Manifests.Pickup(r.Context(), p, m.ID, postVersion(r)); err != nil {
		fe, status, ok := userError(err)
		if !ok {
			s.fail(w, r, err)
			return
		}
		d.Err = fe
		s.renderFieldManifest(w, r, p, status, d)
		return
	}
	s.done(w, r, "/field", "flash.picked_up")
}

// renderFieldManifest shows a check page; a pickup's shows where to go.
func (s *server) renderFieldManifest(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, d manifestScan) {
	if d.Kind == "pickup" {
		trips := []fieldTrip{{Manifest: d.M}}
		if err := s.pickupAddresses(r.Context(), p, trips); err != nil {
			s.fail(w, r, err)
			return
		}
		d.Address, d.Contact, d.Phone = trips[0].Address, trips[0].Contact, trips[0].Phone
	}
	s.page(w, r, status, "field_manifest", "content", s.view(r, "field", d))
}
