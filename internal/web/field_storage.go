package web

import (
	"net/http"
	"slices"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
)

// maxStorageChecked bounds the containers one storage form carries; each is
// read again on every scan.
const maxStorageChecked = 200

// storageDirs are the storekeeper's two moves: the container status each
// takes and the batch a container leaves for it.
var storageDirs = map[string]struct {
	from         string
	batch        func(ledger.Container) string
	wrong, flash string // message keys: a container not where the move takes it from; done
}{
	"in": {ledger.StatusGenerated, func(c ledger.Container) string { return c.GenerationBatch },
		"field.not_generated", "flash.field_stored_in"},
	"out": {ledger.StatusStored, func(c ledger.Container) string { return c.StorageBatch },
		"field.not_stored", "flash.field_stored_out"},
}

// storageBox is a scanned container on the storekeeper's list.
type storageBox struct {
	ledger.Container
	StatusKey string
}

type storageScan struct {
	Dir         string // in or out
	Boxes       []storageBox
	TotalT      float64
	Facilities  []option // the unit's storage facilities, for into storage
	Facility    string
	Handler     string
	Destination string
	Last        string
	Again       bool
	Typed       string
	Problem     string // message key, formatted with Typed
	Recorded    []string
	Err         formError
	Flash       string
}

// storageFor checks the direction and that p keeps its unit's ledger.
func storageFor(r *http.Request, p auth.Principal) (string, error) {
	dir := r.PathValue("dir")
	if _, ok := storageDirs[dir]; !ok {
		return "", errs.E(errs.NotFound, "not_found", "页面不存在")
	}
	if !signer(p) {
		return "", errs.E(errs.Forbidden, "ledger_forbidden", "只有本单位的账号才能填写本单位的台账")
	}
	return dir, nil
}

// loadStorageScan reads the form's containers again, so that the list
// shows each one as it is now; those no longer movable are dropped.
func (s *server) loadStorageScan(r *http.Request, p auth.Principal, dir string, ids []string) (storageScan, error) {
	d := storageScan{Dir: dir, Facility: r.PostFormValue("facility_code"),
		Handler: strings.TrimSpace(r.PostFormValue("handler")), Destination: strings.TrimSpace(r.PostFormValue("destination"))}
	if d.Handler == "" {
		d.Handler = p.DisplayName
	}
	if dir == "in" {
		fs, err := s.Registry.ListFacilities(r.Context(), p, p.UnitID)
		if err != nil {
			return d, err
		}
		for _, f := range fs {
			if f.Kind == "storage" && f.Status == "active" {
				d.Facilities = append(d.Facilities, option{Value: f.Code, Label: f.Name})
			}
		}
		if d.Facility == "" && len(d.Facilities) > 0 {
			d.Facility = d.Facilities[0].Value
		}
	}
	for _, id := range ids {
		if len(d.Boxes) >= maxStorageChecked || slices.ContainsFunc(d.Boxes, func(b storageBox) bool { return b.DigitalID == id }) {
			continue
		}
		c, err := s.Ledger.GetContainer(r.Context(), p, id)
		if errs.KindOf(err) == errs.NotFound || (err == nil && (c.UnitID != p.UnitID || c.Status != storageDirs[dir].from)) {
			continue
		}
		if err != nil {
			return d, err
		}
		d.add(c)
	}
	return d, nil
}

func (d *storageScan) add(c ledger.Container) {
	d.Boxes = append(d.Boxes, storageBox{Container: c, StatusKey: containerStatusKeys[c.Status]})
	d.TotalT += c.QuantityT
}

// fieldStorage is the storekeeper's scan list, into or out of storage.
func (s *server) fieldStorage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	dir, err := storageFor(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.loadStorageScan(r, p, dir, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Flash = s.flash(w, r)
	s.page(w, r, http.StatusOK, "field_storage", "content", s.view(r, "field", d))
}

// postedStorage reads a storage page's post: the move and the containers
// already on its list. On a bad post it has answered, and ok is false.
func (s *server) postedStorage(w http.ResponseWriter, r *http.Request, p auth.Principal) (d storageScan, dir string, ok bool) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
		return d, "", false
	}
	dir, err := storageFor(r, p)
	if err != nil {
		s.fail(w, r, err)
		return d, "", false
	}
	if d, err = s.loadStorageScan(r, p, dir, r.PostForm["checked"]); err != nil {
		s.fail(w, r, err)
		return d, "", false
	}
	return d, dir, true
}

// fieldStorageCheck adds one scanned or typed container to the list: one
// of the unit's, where this move takes it from.
func (s *server) fieldStorageCheck(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d, dir, ok := s.postedStorage(w, r, p)
	if !ok {
		return
	}
	status := http.StatusOK
	typed := r.PostFormValue("digital_id")
	id, err := digitalIDOf(typed)
	switch {
	case err != nil:
		fe, st, _ := userError(err)
		d.Typed, d.Err, status = typed, fe, st
	case slices.ContainsFunc(d.Boxes, func(b storageBox) bool { return b.DigitalID == id }):
		d.Last, d.Again = id, true
	case len(d.Boxes) >= maxStorageChecked:
		d.Typed, d.Problem, status = id, "field.storage_full", http.StatusUnprocessableEntity
	default:
		c, err := s.Ledger.GetContainer(r.Context(), p, id)
		switch {
		case errs.KindOf(err) == errs.NotFound || (err == nil && c.UnitID != p.UnitID):
			d.Typed, d.Problem, status = id, "field.not_ours", http.StatusUnprocessableEntity
		case err != nil:
			s.fail(w, r, err)
			return
		case c.Status != storageDirs[dir].from:
			d.Typed, d.Problem, status = id, storageDirs[dir].wrong, http.StatusUnprocessableEntity
		default:
			d.add(c)
			d.Last = id
		}
	}
	s.page(w, r, status, "field_storage", "content", s.view(r, "field", d))
}

// fieldStorageConfirm records the list in the ledger: one into-storage or
// out-of-storage record per batch the containers come from, since a
// record follows one batch of the stage before.
func (s *server) fieldStorageConfirm(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d, dir, ok := s.postedStorage(w, r, p)
	if !ok {
		return
	}
	if len(d.Boxes) == 0 {
		d.Problem = "field.storage_empty"
		s.page(w, r, http.StatusUnprocessableEntity, "field_storage", "content", s.view(r, "field", d))
		return
	}
	var batches []string
	groups := map[string][]string{}
	for _, b := range d.Boxes {
		k := storageDirs[dir].batch(b.Container)
		if _, ok := groups[k]; !ok {
			batches = append(batches, k)
		}
		groups[k] = append(groups[k], b.DigitalID)
	}
	for _, batch := range batches {
		in := ledger.Movement{PrevBatch: batch, ContainerIDs: groups[batch], Handler: d.Handler}
		var rec ledger.Record
		var err error
		if dir == "in" {
			in.FacilityCode = d.Facility
			rec, err = s.Ledger.StoreIn(r.Context(), p, in)
		} else {
			in.Destination = d.Destination
			rec, err = s.Ledger.StoreOut(r.Context(), p, in)
		}
		if err != nil {
			fe, status, ok := userError(err)
			if !ok {
				s.fail(w, r, err)
				return
			}
			// What was recorded stays recorded; the list keeps the rest.
			d.Err = fe
			d.Boxes, d.TotalT = nil, 0
			for _, b := range batches[slices.Index(batches, batch):] {
				for _, id := range groups[b] {
					c, err := s.Ledger.GetContainer(r.Context(), p, id)
					if err != nil {
						s.fail(w, r, err)
						return
					}
					d.add(c)
				}
			}
			s.page(w, r, status, "field_storage", "content", s.view(r, "field", d))
			return
		}
		d.Recorded = append(d.Recorded, rec.BatchCode)
	}
	s.done(w, r, "/field/storage/"+dir, storageDirs[dir].flash)
}
