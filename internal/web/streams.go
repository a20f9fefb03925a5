package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/registry"
	"wufei/internal/streams/sheet"
)

// The pages of the solid-waste streams other than hazardous waste: two
// indexes of their record kinds (industry: general industrial solid waste,
// sludge, construction and medical waste; living: agricultural and
// household waste), and for each kind a list with filters, a form to enter
// one record, an edit page, and links to its workbook template, import and
// export.

// streamSection is one index page and the streams it shows.
type streamSection struct {
	Nav, Title, Intro string
	Groups            []option
}

var streamSections = map[string]streamSection{
	"industry": {Nav: "streams_industry", Title: "streams.title", Intro: "streams.intro", Groups: []option{
		{Value: "industrial", Label: "streams.group_industrial"}, {Value: "sludge", Label: "streams.group_sludge"},
		{Value: "construction", Label: "streams.group_construction"}, {Value: "medical", Label: "streams.group_medical"}}},
	"living": {Nav: "streams_living", Title: "living.title", Intro: "living.intro", Groups: []option{
		{Value: "agri", Label: "living.group_agri"}, {Value: "household", Label: "living.group_household"}}},
}

// sectionOf is the index a kind's group is shown on.
func sectionOf(group string) (string, streamSection) {
	for name, sec := range streamSections {
		if slices.ContainsFunc(sec.Groups, func(o option) bool { return o.Value == group }) {
			return name, sec
		}
	}
	return "industry", streamSections["industry"]
}

// streamRoutes adds the indexes and each kind's pages (explicit paths, so
// that the indexes may sit under /streams/ too).
func (s *server) streamRoutes(mux *routeMux) {
	for name := range streamSections {
		mux.HandleFunc("GET /streams/"+name, s.authed(func(w http.ResponseWriter, r *http.Request, p auth.Principal) {
			s.streamsIndex(w, r, p, name)
		}))
	}
	for _, svc := range s.Streams {
		base := "/streams/" + svc.Spec.Name
		mux.HandleFunc("GET "+base, s.authed(func(w http.ResponseWriter, r *http.Request, p auth.Principal) {
			s.sheetList(w, r, p, svc, http.StatusOK, nil, formError{})
		}))
		mux.HandleFunc("POST "+base, s.authed(func(w http.ResponseWriter, r *http.Request, p auth.Principal) {
			s.sheetCreate(w, r, p, svc)
		}))
		mux.HandleFunc("GET "+base+"/{id}", s.authed(func(w http.ResponseWriter, r *http.Request, p auth.Principal) {
			s.sheetEdit(w, r, p, svc)
		}))
		mux.HandleFunc("POST "+base+"/{id}", s.authed(func(w http.ResponseWriter, r *http.Request, p auth.Principal) {
			s.sheetUpdate(w, r, p, svc)
		}))
	}
}

// sheetKind is a kind as the pages show it.
type sheetKind struct {
	Name, Title, TitleEN, Group, Lead string
	Section                           string // the index it is listed on
	Writes                            bool   // the caller may enter records of it
}

func kindOf(sp *sheet.Spec, p auth.Principal) sheetKind {
	sec, _ := sectionOf(sp.Group)
	return sheetKind{Name: sp.Name, Title: sp.Title, TitleEN: sp.TitleEN, Group: sp.Group, Lead: sp.Lead, Section: sec,
		Writes: regulates(p) || (sp.UnitWrites && (p.Role == auth.UnitAdmin || p.Role == auth.UnitMember))}
}

type streamsIndexData struct {
	streamSection
	Kinds []sheetKind
	Year  int
}

func (s *server) streamsIndex(w http.ResponseWriter, r *http.Request, p auth.Principal, section string) {
	d := streamsIndexData{streamSection: streamSections[section], Year: thisYear()}
	for _, svc := range s.Streams {
		if k := kindOf(svc.Spec, p); k.Section == section {
			d.Kinds = append(d.Kinds, k)
		}
	}
	s.page(w, r, http.StatusOK, "streams_index", "content", s.view(r, d.Nav, d))
}

// sheetField is one field of a form or a column of the list.
type sheetField struct {
	sheet.Field
	Input   string // HTML input type, "select" or "counties"
	Options []option
	Value   string // in the form
	Own     bool   // the unit of a unit account: may be left empty
}

// Checked reports whether a county is among a list field's values.
func (f sheetField) Checked(code string) bool {
	return slices.Contains(strings.Split(f.Value, ","), code)
}

type sheetListData struct {
	Kind      sheetKind
	Fields    []sheetField
	Derived   []sheet.Field
	Regions   []registry.Region
	Counties  []option
	HasRegion bool // the kind names its region itself, so the list needs no column of it
	Region    string
	Year      string
	Rows      []sheetRow
	List      listing
	Err       formError
	Flash     string
	Export    int        // the year the export link asks for
	Edit      *sheetEdit // the record the page edits, instead of the list
}

// sheetEdit is the record an edit page shows.
type sheetEdit struct {
	ID      string
	Version int64
	Unit    string
	Derived []sheetDerived
}

type sheetRow struct {
	ID, Unit, Region string
	Cells            []string
	Derived          []string
}

// formFields lays out a kind's fields as inputs, filled from in.
func formFields(sp *sheet.Spec, p auth.Principal, rs []registry.Region, in sheet.Input) []sheetField {
	out := make([]sheetField, len(sp.Fields))
	for i, f := range sp.Fields {
		sf := sheetField{Field: f, Input: "text", Value: in[f.Key]}
		switch f.Type {
		case sheet.Choice:
			sf.Input = "select"
			for _, c := range f.Choices {
				sf.Options = append(sf.Options, option{Value: c, Label: c})
			}
		case sheet.Region:
			sf.Input = "select"
			for _, r := range rs {
				if (r.Level == "county" || r.Level == "park") && auth.InCity(r.Code) {
					sf.Options = append(sf.Options, option{Value: r.Code, Label: r.Name})
				}
			}
		case sheet.Regions:
			sf.Input = "counties"
		case sheet.Month:
			sf.Input = "month"
		case sheet.Date:
			sf.Input = "date"
		case sheet.Int, sheet.Year, sheet.MonthNum:
			sf.Input = "number"
		case sheet.Tonnes, sheet.Decimal:
			sf.Input = "decimal"
		case sheet.Unit:
			sf.Own = p.Role.BoundToUnit()
		}
		out[i] = sf
	}
	return out
}

// counties are Huaibei's counties and districts, for list fields and filters.
func counties(rs []registry.Region) []option {
	var out []option
	for _, r := range rs {
		if r.Level == "county" && auth.InCity(r.Code) {
			out = append(out, option{Value: r.Code, Label: r.Name})
		}
	}
	return out
}

func (s *server) sheetList(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *sheet.Service, status int,
	in sheet.Input, fe formError) {
	sp := svc.Spec
	q := r.URL.Query()
	d := sheetListData{Kind: kindOf(sp, p), Derived: sp.DerivedFields, Region: q.Get("region"), Year: q.Get("year"), Err: fe,
		Export: thisYear(), HasRegion: slices.ContainsFunc(sp.Fields, func(f sheet.Field) bool { return f.Type == sheet.Region })}
	if r.Method == http.MethodGet {
		d.Flash = s.flash(w, r)
	}
	rs, names, err := s.regions(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Regions, d.Counties = rs, counties(rs)
	if in == nil {
		in = sheet.Input{}
	}
	d.Fields = formFields(sp, p, rs, in)
	f := sheet.Filter{Region: d.Region, After: q.Get("cursor"), Limit: pageSize}
	if d.Year != "" {
		y, cerr := strconv.Atoi(d.Year)
		if cerr != nil || y < 2000 || y > 2100 {
			err = errs.Field("year", "year_format", "年度无效")
		}
		f.Year, d.Export = y, y
	}
	var next string
	if err == nil {
		var recs []*sheet.Record
		var cells [][]string
		recs, cells, next, err = svc.Rows(r.Context(), p, f)
		for i, rec := range recs {
			row := sheetRow{ID: rec.ID, Unit: rec.UnitName, Region: names[rec.RegionCode], Cells: cells[i]}
			for _, df := range sp.DerivedFields {
				row.Derived = append(row.Derived, strconv.FormatFloat(rec.Derived[df.Key], 'f', -1, 64))
			}
			d.Rows = append(d.Rows, row)
		}
	}
	if status != http.StatusOK && err == nil {
		d.List = pager(r, next)
		s.page(w, r, status, "streams_list", "content", s.view(r, "streams_"+d.Kind.Section, &d))
		return
	}
	s.list(w, r, err, next, &d.List, "streams_list", &d)
}

// formInput reads a kind's fields from a posted form; a list of counties
// comes as one checkbox each.
func formInput(r *http.Request, sp *sheet.Spec) sheet.Input {
	in := sheet.Input{}
	for _, f := range sp.Fields {
		in[f.Key] = strings.TrimSpace(r.PostFormValue(f.Key))
		if f.Type == sheet.Regions {
			in[f.Key] = strings.Join(r.PostForm[f.Key], ",")
		}
	}
	return in
}

func (s *server) sheetCreate(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *sheet.Service) {
	in := formInput(r, svc.Spec)
	if _, err := svc.Create(r.Context(), p, in); err != nil {
		fe, code, ok := userError(err)
		if !ok {
			s.fail(w, r, err)
			return
		}
		r.URL.RawQuery = ""
		s.sheetList(w, r, p, svc, code, in, fe)
		return
	}
	s.done(w, r, "/streams/"+svc.Spec.Name, "flash.stream_saved")
}

type sheetDerived struct {
	sheet.Field
	Value float64
}

func (s *server) sheetEdit(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *sheet.Service) {
	rec, err := svc.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderSheetEdit(w, r, p, svc, http.StatusOK, &rec, svc.Spec.Input(&rec), formError{})
}

func (s *server) renderSheetEdit(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *sheet.Service, status int,
	rec *sheet.Record, in sheet.Input, fe formError) {
	rs, _, err := s.regions(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := sheetListData{Kind: kindOf(svc.Spec, p), Fields: formFields(svc.Spec, p, rs, in), Counties: counties(rs), Err: fe,
		Edit: &sheetEdit{ID: rec.ID, Version: rec.Version, Unit: rec.UnitName}}
	for _, f := range svc.Spec.DerivedFields {
		d.Edit.Derived = append(d.Edit.Derived, sheetDerived{Field: f, Value: rec.Derived[f.Key]})
	}
	s.page(w, r, status, "streams_list", "content", s.view(r, "streams_"+d.Kind.Section, &d))
}

func (s *server) sheetUpdate(w http.ResponseWriter, r *http.Request, p auth.Principal, svc *sheet.Service) {
	id := r.PathValue("id")
	in := formInput(r, svc.Spec)
	if _, err := svc.Update(r.Context(), p, id, postVersion(r), in); err != nil {
		fe, code, ok := userError(err)
		if !ok {
			s.fail(w, r, err)
			return
		}
		rec, gerr := svc.Get(r.Context(), p, id)
		if gerr != nil {
			s.fail(w, r, gerr)
			return
		}
		s.renderSheetEdit(w, r, p, svc, code, &rec, in, fe)
		return
	}
	s.done(w, r, "/streams/"+svc.Spec.Name, "flash.stream_saved")
}
