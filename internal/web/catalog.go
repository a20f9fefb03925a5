package web

import (
	"net/http"
	"slices"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/catalog"
)

type catalogData struct {
	Filter     catalog.Filter
	Categories []catalog.Category
	Codes      []catalog.WasteCode
	Subset     bool // the built-in excerpt is loaded, not the full official list
	Methods    []catalog.Method
	List       listing
}

// catalog searches the hazardous-waste catalogue by category and text, and
// lists the utilisation and disposal methods. An htmx request from the form
// or the pager gets only the codes table.
func (s *server) catalog(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	ctx, db := r.Context(), s.DB.Reader()
	q := r.URL.Query()
	d := catalogData{Filter: catalog.Filter{Category: q.Get("category"), Query: strings.TrimSpace(q.Get("q")),
		After: q.Get("cursor"), Limit: pageSize}}
	var next string
	var err error
	if d.Codes, next, err = catalog.ListWasteCodes(ctx, db, d.Filter); err != nil {
		s.fail(w, r, err)
		return
	}
	d.List = pager(r, next)
	d.Subset = slices.ContainsFunc(d.Codes, func(c catalog.WasteCode) bool { return c.Edition == catalog.EditionSubset })
	if !isHTMX(r) {
		if d.Categories, err = catalog.ListCategories(ctx, db); err != nil {
			s.fail(w, r, err)
			return
		}
		if d.Methods, err = catalog.ListMethods(ctx, db); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.page(w, r, http.StatusOK, "catalog", "catalog_table", s.view(r, "catalog", d))
}
