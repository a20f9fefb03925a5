package web

import (
	"net/http"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
)

// containerStatuses are a container's statuses for the filter and the list.
var containerStatuses = []option{
	{Value: ledger.StatusGenerated, Label: "container_status.generated"}, {Value: ledger.StatusStored, Label: "container_status.stored"},
	{Value: ledger.StatusWithdrawn, Label: "container_status.withdrawn"}, {Value: ledger.StatusShipped, Label: "container_status.shipped"},
	{Value: ledger.StatusReceived, Label: "container_status.received"}, {Value: ledger.StatusTreated, Label: "container_status.treated"},
	{Value: ledger.StatusCancelled, Label: "container_status.cancelled"},
}

type containerRow struct {
	ledger.Container
	StatusKey, Generated string
}

// generationForm is the generate form as typed.
type generationForm struct {
	WasteCode, Name, Form, Packaging, VolumeL, Count, QuantityT, FacilityCode, Components, Precautions, Remark string
}

type containersData struct {
	Status     string
	Statuses   []option
	Items      []containerRow
	List       listing
	Flash      string
	Own        bool // the caller's unit's containers: labels and the generate form
	Form       generationForm
	Err        formError
	Forms      []option
	Facilities []option
	Codes      []catalog.WasteCode
	SheetIDs   string // the listed containers not yet labelled out: stored or shipped ones have theirs
}

// containers lists the caller's containers, newest first, with their labels,
// and for a unit's staff the form that records generation into containers.
func (s *server) containers(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderContainers(w, r, p, http.StatusOK, generationForm{Form: "S", Count: "1"}, formError{})
}

func (s *server) renderContainers(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, f generationForm, fe formError) {
	ctx := r.Context()
	q := r.URL.Query()
	d := containersData{Status: q.Get("status"), Statuses: containerStatuses, Own: signer(p), Form: f, Err: fe, Forms: physicalForms}
	if r.Method == http.MethodGet {
		d.Flash = s.flash(w, r)
	}
	var err error
	if d.Status != "" && optionLabel(containerStatuses, d.Status) == "" {
		err = errs.Field("status", "status_unknown", "容器状态无效")
	}
	var page ledger.Page[ledger.Container]
	if err == nil {
		page, err = s.Ledger.ListContainers(ctx, p, ledger.ContainerFilter{UnitID: p.UnitID, Status: d.Status,
			After: q.Get("cursor"), Limit: pageSize})
	}
	var fresh []string
	for _, c := range page.Items {
		d.Items = append(d.Items, containerRow{Container: c, StatusKey: optionLabel(containerStatuses, c.Status),
			Generated: minute(c.GeneratedAt)})
		if c.Status == ledger.StatusGenerated {
			fresh = append(fresh, c.DigitalID)
		}
	}
	d.SheetIDs = strings.Join(fresh, ",")
	if d.Own && !isHTMX(r) && (err == nil || refused(err)) {
		fs, ferr := s.Registry.ListFacilities(ctx, p, p.UnitID)
		if ferr != nil {
			s.fail(w, r, ferr)
			return
		}
		for _, f := range fs {
			if f.Kind == "generation" && f.Status == "active" {
				d.Facilities = append(d.Facilities, option{Value: f.Code, Label: f.Name})
			}
		}
		if d.Codes, ferr = s.wasteCodes(ctx); ferr != nil {
			s.fail(w, r, ferr)
			return
		}
	}
	if err == nil && status != http.StatusOK { // a refused generate form
		d.List = pager(r, page.Next)
		s.page(w, r, status, "containers", "content", s.view(r, "containers", &d))
		return
	}
	s.list(w, r, err, page.Next, &d.List, "containers", &d)
}

// containerGenerate records generated waste into containers, each with its
// digital id and label.
func (s *server) containerGenerate(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
		return
	}
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := generationForm{WasteCode: v("waste_code"), Name: v("name"), Form: v("form"), Packaging: v("packaging"),
		VolumeL: v("volume_l"), Count: v("count"), QuantityT: v("quantity_t"), FacilityCode: v("facility_code"),
		Components: v("components"), Precautions: v("precautions"), Remark: v("remark")}
	var val errs.Validation
	in := ledger.NewGeneration{WasteCode: f.WasteCode, Name: f.Name, Form: f.Form, Packaging: f.Packaging,
		Count: parseCount(&val, "count", f.Count), FacilityCode: f.FacilityCode, Components: f.Components,
		Precautions: f.Precautions, Remark: f.Remark}
	if t := parseTonnes(&val, "quantity_t", f.QuantityT); t != nil {
		in.QuantityT = *t
	}
	if l := parseTonnes(&val, "volume_l", f.VolumeL); l != nil {
		in.VolumeL = *l
	}
	if in.Count == 0 {
		in.Count = 1 // this form always makes containers
	}
	err := val.Err()
	if err == nil {
		if _, err = s.Ledger.RecordGeneration(r.Context(), p, in); err == nil {
			s.done(w, r, "/containers", "flash.generated")
			return
		}
	}
	fe, status, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	r.URL.Path, r.URL.RawQuery = "/containers", ""
	s.renderContainers(w, r, p, status, f, fe)
}
