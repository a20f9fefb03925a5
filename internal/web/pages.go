package web

import (
	"context"
	"net/http"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/registry"
)

// pageSize is the rows per page of a list.
const pageSize = 50

// listing is what every paged list shows besides its rows.
type listing struct {
	Next  string // URL of the next page, if any
	First string // URL of the first page, when not on it
	Error string // message key of a filter the service refused
}

// pager builds the next and first page links of a keyset-paged list from
// the request's query, keeping its filters.
func pager(r *http.Request, next string) listing {
	var l listing
	q := r.URL.Query()
	if q.Get("cursor") != "" {
		q.Del("cursor")
		l.First = r.URL.Path + "?" + q.Encode()
	}
	if next != "" {
		q.Set("cursor", next)
		l.Next = r.URL.Path + "?" + q.Encode()
	}
	return l
}

// refused reports whether err is the service refusing a filter (a bad
// cursor or code), which the list shows beside its form instead of failing.
func refused(err error) bool { return errs.KindOf(err) == errs.Invalid }

// regions returns the regions and a code → name map.
func (s *server) regions(ctx context.Context) ([]registry.Region, map[string]string, error) {
	rs, err := s.Registry.ListRegions(ctx, "")
	names := make(map[string]string, len(rs))
	for _, r := range rs {
		names[r.Code] = r.Name
	}
	return rs, names, err
}

type unitsData struct {
	Filter  registry.UnitFilter
	Roles   []registry.UnitRole
	Regions []regionGroup
	Names   map[string]string // region code → name
	Page    registry.Page[registry.Unit]
	List    listing
}

// units lists units. An htmx request from the filter form or the pager gets
// only the table.
func (s *server) units(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	q := r.URL.Query()
	d := unitsData{Roles: registry.UnitRoles, Filter: registry.UnitFilter{Query: strings.TrimSpace(q.Get("q")),
		Role: registry.UnitRole(q.Get("role")), Region: q.Get("region"), After: q.Get("cursor"), Limit: pageSize}}
	rs, names, err := s.regions(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Regions, d.Names = groupRegions(rs), names
	d.Page, err = s.Registry.ListUnits(r.Context(), p, d.Filter)
	s.list(w, r, err, d.Page.Next, &d.List, "units", &d)
}

// list renders a list page, or only its table for htmx. A filter the
// service refuses is shown on the page; other errors fail the request.
func (s *server) list(w http.ResponseWriter, r *http.Request, err error, next string, l *listing, name string, d any) {
	status := http.StatusOK
	switch {
	case refused(err):
		status, l.Error = http.StatusUnprocessableEntity, "list.refused"
	case err != nil:
		s.fail(w, r, err)
		return
	default:
		*l = pager(r, next)
	}
	s.page(w, r, status, name, name+"_table", s.view(r, name, d))
}

// regionGroup is one level of regions in the filter's select.
type regionGroup struct {
	Level   string
	Regions []registry.Region
}

func groupRegions(rs []registry.Region) []regionGroup {
	gs := []regionGroup{{Level: "county"}, {Level: "park"}, {Level: "township"}}
	for _, r := range rs {
		for i := range gs {
			if r.Level == gs[i].Level {
				gs[i].Regions = append(gs[i].Regions, r)
			}
		}
	}
	return gs
}

type unitData struct {
	Unit       registry.Unit
	Names      map[string]string
	Licences   []registry.Licence
	Vehicles   []registry.Vehicle
	Facilities []registry.Facility
}

func (s *server) unit(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	var d unitData
	var err error
	if d.Unit, err = s.Registry.GetUnit(ctx, p, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	id := d.Unit.ID
	_, d.Names, err = s.regions(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ls, err := s.Registry.ListLicences(ctx, p, registry.LicenceFilter{UnitID: id, Limit: 500})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	vs, err := s.Registry.ListVehicles(ctx, p, registry.VehicleFilter{UnitID: id, Limit: 500})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Facilities, err = s.Registry.ListFacilities(ctx, p, id); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Licences, d.Vehicles = ls.Items, vs.Items
	s.page(w, r, http.StatusOK, "unit", "content", s.view(r, "units", d))
}

type licencesData struct {
	WasteCode string
	Method    string
	Page      registry.Page[registry.Licence]
	Units     map[string]string // unit id → name
	List      listing
}

// licences lists licences, optionally those covering a waste code (and
// method): who may take this waste.
func (s *server) licences(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	q := r.URL.Query()
	d := licencesData{WasteCode: strings.TrimSpace(q.Get("waste_code")), Method: strings.TrimSpace(q.Get("method"))}
	var err error
	d.Page, err = s.Registry.ListLicences(r.Context(), p, registry.LicenceFilter{WasteCode: d.WasteCode,
		Method: d.Method, After: q.Get("cursor"), Limit: pageSize})
	if err == nil {
		ids := make([]string, len(d.Page.Items))
		for i, l := range d.Page.Items {
			ids[i] = l.UnitID
		}
		d.Units, err = s.Registry.UnitNames(r.Context(), p, ids)
	}
	s.list(w, r, err, d.Page.Next, &d.List, "licences", &d)
}

type vehiclesData struct {
	Plate string
	Page  registry.Page[registry.Vehicle]
	Units map[string]string
	List  listing
}

func (s *server) vehicles(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	q := r.URL.Query()
	d := vehiclesData{Plate: strings.TrimSpace(q.Get("plate"))}
	var err error
	d.Page, err = s.Registry.ListVehicles(r.Context(), p, registry.VehicleFilter{Plate: d.Plate, After: q.Get("cursor"),
		Limit: pageSize})
	if err == nil {
		ids := make([]string, len(d.Page.Items))
		for i, v := range d.Page.Items {
			ids[i] = v.UnitID
		}
		d.Units, err = s.Registry.UnitNames(r.Context(), p, ids)
	}
	s.list(w, r, err, d.Page.Next, &d.List, "vehicles", &d)
}

// docsCSP loosens the page policy for the API reference only: Redoc injects
// its styles at run time and builds its search index in a blob: worker.
const docsCSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// docs is the API reference, rendered offline from /openapi.json by the
// vendored Redoc.
func (s *server) docs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", docsCSP)
	s.render(w, r, http.StatusOK, "docs", "layout", s.view(r, "docs", nil))
}
