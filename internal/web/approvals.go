package web

import (
	"net/http"
	"strconv"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/hw/approval"
	"wufei/internal/registry"
)

// approvalStatuses name the statuses of approvals and whitelist routes.
var approvalStatuses = []option{{Value: approval.Valid, Label: "status.valid"},
	{Value: approval.Suspended, Label: "status.suspended"}, {Value: approval.Revoked, Label: "status.revoked"},
	{Value: approval.Expired, Label: "status.expired"}}

// itemRows is how many waste codes the approval form offers.
const itemRows = 3

type approvalItemForm struct {
	Index, No            int
	WasteCode, QuantityT string
}

type approvalForm struct {
	Number, ConsignorID, ReceiverID, Method, Issuer, ValidFrom, ValidTo, Note string
	Items                                                                     []approvalItemForm
}

// routeForm is the whitelist route form as typed.
type routeForm struct {
	Reference, ConsignorID, ReceiverID, WasteCodes, ValidFrom, ValidTo, Note string
}

type approvalsData struct {
	Route      routeForm
	RouteErr   formError
	Approvals  registry.Page[approval.TransferApproval]
	Routes     []approval.WhitelistRoute
	Units      map[string]string
	List       listing
	Flash      string
	CanCreate  bool
	Form       approvalForm
	Err        formError
	Consignors []option
	Receivers  []option
}

// approvals lists cross-province approvals and whitelist routes; regulators
// record new approvals here.
func (s *server) approvals(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	f := approvalForm{}
	for i := range itemRows {
		f.Items = append(f.Items, approvalItemForm{Index: i, No: i + 1})
	}
	s.renderApprovals(w, r, p, http.StatusOK, f, formError{})
}

func (s *server) renderApprovals(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, f approvalForm, fe formError) {
	s.renderApprovalsWith(w, r, p, status, f, fe, routeForm{}, formError{})
}

func (s *server) renderApprovalsWith(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, f approvalForm,
	fe formError, rf routeForm, rfe formError) {
	ctx := r.Context()
	d := approvalsData{CanCreate: regulates(p), Form: f, Err: fe, Route: rf, RouteErr: rfe}
	if r.Method == http.MethodGet {
		d.Flash = s.flash(w, r)
	}
	var err error
	d.Approvals, err = s.Approvals.List(ctx, p, approval.Filter{After: r.URL.Query().Get("cursor"), Limit: pageSize})
	if err != nil && !refused(err) {
		s.fail(w, r, err)
		return
	}
	routes, rerr := s.Approvals.ListRoutes(ctx, p, approval.Filter{Limit: pageSize})
	if rerr != nil {
		s.fail(w, r, rerr)
		return
	}
	d.Routes = routes.Items
	var ids []string
	for _, a := range d.Approvals.Items {
		ids = append(ids, a.ConsignorID, a.ReceiverID)
	}
	for _, rt := range d.Routes {
		ids = append(ids, rt.ConsignorID, rt.ReceiverID)
	}
	if d.Units, rerr = s.Registry.UnitNames(ctx, p, ids); rerr != nil {
		s.fail(w, r, rerr)
		return
	}
	if d.CanCreate && !isHTMX(r) {
		us, uerr := s.Registry.ListUnits(ctx, p, registry.UnitFilter{Role: registry.Generator, Limit: 500})
		if uerr == nil {
			for _, u := range us.Items {
				d.Consignors = append(d.Consignors, option{Value: u.ID, Label: u.Name})
			}
			d.Receivers, uerr = s.receivers(r, p)
		}
		if uerr != nil {
			s.fail(w, r, uerr)
			return
		}
	}
	if err == nil && status != http.StatusOK {
		d.List = pager(r, d.Approvals.Next)
		s.page(w, r, status, "approvals", "content", s.view(r, "approvals", &d))
		return
	}
	s.list(w, r, err, d.Approvals.Next, &d.List, "approvals", &d)
}

// approvalCreate records a cross-province approval.
func (s *server) approvalCreate(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
		return
	}
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := approvalForm{Number: v("number"), ConsignorID: v("consignor_unit_id"), ReceiverID: v("receiver_unit_id"),
		Method: strings.ToUpper(v("method")), Issuer: v("issuer"), ValidFrom: v("valid_from"), ValidTo: v("valid_to"), Note: v("note")}
	in := approval.NewTransferApproval{Number: f.Number, ConsignorID: f.ConsignorID, ReceiverID: f.ReceiverID, Method: f.Method,
		Issuer: f.Issuer, ValidFrom: f.ValidFrom, ValidTo: f.ValidTo, Note: f.Note}
	var val errs.Validation
	var rowOf []int
	for i := range itemRows {
		it := approvalItemForm{Index: i, No: i + 1, WasteCode: formValue(r, "waste_code", i), QuantityT: formValue(r, "quantity_t", i)}
		f.Items = append(f.Items, it)
		if it.WasteCode == "" && it.QuantityT == "" {
			continue
		}
		item := approval.NewApprovalItem{WasteCode: it.WasteCode}
		if t := parseTonnes(&val, "items["+strconv.Itoa(i)+"].quantity_t", it.QuantityT); t != nil {
			item.QuantityT = *t
		}
		in.Items = append(in.Items, item)
		rowOf = append(rowOf, i)
	}
	err := val.Err()
	if err == nil {
		if _, err = s.Approvals.Create(r.Context(), p, in); err == nil {
			s.done(w, r, "/approvals", "flash.approval_created")
			return
		}
	}
	fe, status, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	if val.Err() == nil {
		fe.remapRows("items", rowOf)
	}
	r.URL.Path, r.URL.RawQuery = "/approvals", ""
	s.renderApprovals(w, r, p, status, f, fe)
}

// routeCreate records a whitelist route; a refused form comes back with its
// errors under the route form.
func (s *server) routeCreate(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
		return
	}
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	rf := routeForm{Reference: v("reference"), ConsignorID: v("consignor_unit_id"), ReceiverID: v("receiver_unit_id"),
		WasteCodes: v("waste_codes"), ValidFrom: v("valid_from"), ValidTo: v("valid_to"), Note: v("note")}
	in := approval.NewWhitelistRoute{Reference: rf.Reference, ConsignorID: rf.ConsignorID, ReceiverID: rf.ReceiverID,
		WasteCodes: strings.FieldsFunc(rf.WasteCodes, func(c rune) bool { return c == ',' || c == '，' || c == ' ' || c == '、' }),
		ValidFrom:  rf.ValidFrom, ValidTo: rf.ValidTo, Note: rf.Note}
	_, err := s.Approvals.CreateRoute(r.Context(), p, in)
	if err == nil {
		s.done(w, r, "/approvals", "flash.route_created")
		return
	}
	fe, status, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	f := approvalForm{}
	for i := range itemRows {
		f.Items = append(f.Items, approvalItemForm{Index: i, No: i + 1})
	}
	r.URL.Path, r.URL.RawQuery = "/approvals", ""
	s.renderApprovalsWith(w, r, p, status, f, formError{}, rf, fe)
}

// StatusKey names an approval's or a route's status.
func (approvalsData) StatusKey(status string) string { return optionLabel(approvalStatuses, status) }
