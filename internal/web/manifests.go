package web

import (
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/hw/label"
	"wufei/internal/hw/manifest"
	"wufei/internal/qty"
	"wufei/internal/registry"
)

// manifestStatusKeys are the statuses' names (the badge on every manifest).
var (
	manifestStatusKeys = map[manifest.Status]string{
		manifest.Draft: "manifest_status.draft", manifest.Submitted: "manifest_status.submitted",
		manifest.InTransit: "manifest_status.in_transit", manifest.Received: "manifest_status.received",
		manifest.Completed: "manifest_status.completed", manifest.Cancelled: "manifest_status.cancelled",
		manifest.Refused: "manifest_status.refused",
	}
	// stepKeys name the signed steps of a manifest and the links of a trace.
	stepKeys = map[string]string{
		"create": "step.create", "update": "step.update", "submit": "step.submit", "cancel": "step.cancel",
		"pickup": "step.pickup", "handover": "step.handover", "deliver": "step.deliver", "receive": "step.receive",
		"complete": "step.complete", "generation": "step.generation", "storage_in": "step.storage_in",
		"storage_out": "step.storage_out", "in_house": "step.in_house", "outsourced": "step.outsourced",
		"adjustment": "step.adjustment", "cancellation": "step.cancellation",
	}
	// stepFlash is the message after each action succeeds.
	stepFlash = map[string]string{
		"submit": "flash.submitted", "cancel": "flash.cancelled", "pickup": "flash.picked_up",
		"handover": "flash.handed_over", "deliver": "flash.delivered", "receive": "flash.received",
		"complete": "flash.completed", "revise": "flash.revision_requested", "approve-revision": "flash.revision_approved",
		"refuse-revision": "flash.revision_refused",
	}
	partyKeys = map[string]string{"consignor": "party.consignor", "carrier": "party.carrier", "receiver": "party.receiver",
		"generator": "party.generator"}
)

// option is one choice of a select.
type option struct {
	Value, Label, Hint string
}

type manifestRow struct {
	manifest.Manifest
	StatusKey string
	TotalT    float64
	Codes     []string
	Created   string
}

type manifestsData struct {
	Status, Role, Number string
	Statuses             []option
	Party                bool // the caller works for a unit: the role filter applies
	CanCreate            bool
	Items                []manifestRow
	List                 listing
	Flash                string
}

var numberRe = regexp.MustCompile(`^[0-9]{14}$`)

// manifests lists the caller's manifests, newest first; htmx gets the table.
func (s *server) manifests(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	q := r.URL.Query()
	d := manifestsData{Status: q.Get("status"), Role: q.Get("role"), Number: strings.TrimSpace(q.Get("number")),
		Party: p.UnitID != "", Flash: s.flash(w, r)}
	for _, st := range manifest.Statuses {
		d.Statuses = append(d.Statuses, option{Value: string(st), Label: manifestStatusKeys[st]})
	}
	var err error
	switch {
	case d.Status != "" && manifestStatusKeys[manifest.Status(d.Status)] == "":
		err = errs.Field("status", "status_unknown", "联单状态无效")
	case d.Role != "" && (!d.Party || partyKeys[d.Role] == "" || d.Role == "generator"):
		err = errs.Field("role", "role_unknown", "角色无效")
	case d.Number != "" && !numberRe.MatchString(d.Number):
		err = errs.Field("number", "number_format", "联单编号为 14 位数字")
	}
	var next string
	if err == nil {
		var ms []manifest.Manifest
		ms, next, err = s.Manifests.List(ctx, p, manifest.Filter{Status: d.Status, Role: d.Role, Number: d.Number,
			After: q.Get("cursor"), Limit: pageSize})
		for _, m := range ms {
			row := manifestRow{Manifest: m, StatusKey: manifestStatusKeys[m.Status], Created: minute(m.CreatedAt)}
			var g int64
			for _, l := range m.Lines {
				g += l.QuantityG
				if !slices.Contains(row.Codes, l.WasteCode) {
					row.Codes = append(row.Codes, l.WasteCode)
				}
			}
			row.TotalT = qty.Tonnes(g)
			d.Items = append(d.Items, row)
		}
	}
	if !isHTMX(r) && (err == nil || refused(err)) {
		var cerr error
		if d.CanCreate, cerr = s.consignor(r, p); cerr != nil {
			s.fail(w, r, cerr)
			return
		}
	}
	s.list(w, r, err, next, &d.List, "manifests", &d)
}

// consignor reports whether p may raise manifests: a signing account of a
// unit that is more than a carrier.
func (s *server) consignor(r *http.Request, p auth.Principal) (bool, error) {
	if !signer(p) {
		return false, nil
	}
	u, err := s.Registry.GetUnit(r.Context(), p, p.UnitID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(u.Roles, func(role registry.UnitRole) bool { return role != registry.Carrier }), nil
}

// lineRows is how many waste lines the new-manifest form offers.
const lineRows = 5

type lineForm struct {
	Index, No                                                         int
	WasteCode, QuantityT, Form, Packaging, PackageCount, ContainerIDs string
}

// legForm is one leg of the carriage: the carrier and its vehicle, in the
// order they hand the waste over.
type legForm struct {
	Index, No                   int
	CarrierUnitID, VehiclePlate string
}

// legRows is how many legs the form offers; the API takes up to five.
const legRows = 3

type manifestForm struct {
	ReceiverUnitID, EmergencyMeasures string
	Legs                              []legForm
	Lines                             []lineForm
	// ID and Version are set when the form edits a draft.
	ID      string
	Version int64
}

type manifestNewData struct {
	Form      manifestForm
	Err       formError
	Receivers []option
	Carriers  []option
	Vehicles  []option
	Codes     []catalog.WasteCode
	Forms     []option
}

// physicalForms are the physical forms of a waste (物理性状).
var physicalForms = []option{{Value: "S", Label: "form.solid"}, {Value: "SS", Label: "form.semi_solid"},
	{Value: "L", Label: "form.liquid"}, {Value: "G", Label: "form.gas"}}

// manifestEdit is the draft form filled with a draft, for its consignor to
// correct before submitting it.
func (s *server) manifestEdit(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.Manifests.Get(r.Context(), p, r.PathValue("id"))
	if err == nil && (m.Status != manifest.Draft || !actionsFor(p, m).Submit) {
		err = errs.E(errs.Conflict, "invalid_transition", "只有移出单位可以修改草稿")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := manifestForm{ID: m.ID, Version: m.Version, ReceiverUnitID: m.ReceiverUnitID, EmergencyMeasures: m.EmergencyMeasures}
	f.Legs = emptyLegs(max(legRows, len(m.Carriers)))
	for i, c := range m.Carriers {
		f.Legs[i].CarrierUnitID, f.Legs[i].VehiclePlate = c.CarrierUnitID, c.VehiclePlate
	}
	f.Lines = make([]lineForm, lineRows)
	for i := range f.Lines {
		f.Lines[i] = lineForm{Index: i, No: i + 1, Form: "S"}
		if i < len(m.Lines) {
			l := m.Lines[i]
			f.Lines[i] = lineForm{Index: i, No: i + 1, WasteCode: l.WasteCode, Form: l.Form, Packaging: l.Packaging,
				QuantityT: strconv.FormatFloat(l.QuantityT, 'f', -1, 64), PackageCount: strconv.Itoa(l.PackageCount),
				ContainerIDs: strings.Join(l.ContainerIDs, " ")}
		}
	}
	s.renderManifestNew(w, r, p, http.StatusOK, f, formError{})
}

// manifestUpdate saves the corrected draft and goes back to its page.
func (s *server) manifestUpdate(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
		return
	}
	f, in, rows, v := parseManifestForm(r)
	f.ID, f.Version = r.PathValue("id"), postVersion(r)
	err := v.Err()
	if err == nil {
		if _, err = s.Manifests.Update(r.Context(), p, f.ID, f.Version, in); err == nil {
			s.done(w, r, "/manifests/"+f.ID, "flash.draft_saved")
			return
		}
	}
	fe, status, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	if v.Err() == nil {
		rows.remap(fe)
	}
	s.renderManifestNew(w, r, p, status, f, fe)
}

// manifestNew is the form a consignor fills; a receiver, code and quantity
// may come from the matching page.
func (s *server) manifestNew(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	q := r.URL.Query()
	f := manifestForm{ReceiverUnitID: q.Get("receiver"), Legs: emptyLegs(legRows)}
	f.Lines = make([]lineForm, lineRows)
	for i := range f.Lines {
		f.Lines[i] = lineForm{Index: i, No: i + 1, Form: "S"}
	}
	f.Lines[0].WasteCode, f.Lines[0].QuantityT = q.Get("waste_code"), q.Get("quantity_t")
	s.renderManifestNew(w, r, p, http.StatusOK, f, formError{})
}

func (s *server) renderManifestNew(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, f manifestForm, fe formError) {
	ctx := r.Context()
	ok, err := s.consignor(r, p)
	if err == nil && !ok {
		err = errs.E(errs.Forbidden, "forbidden", "只有移出单位的人员可以填写联单")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := manifestNewData{Form: f, Err: fe, Forms: physicalForms}
	if d.Receivers, err = s.receivers(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	carriers, err := s.Registry.ListUnits(ctx, p, registry.UnitFilter{Role: registry.Carrier, Limit: 500})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[string]string{}
	for _, u := range carriers.Items {
		if u.Status == "active" {
			d.Carriers = append(d.Carriers, option{Value: u.ID, Label: u.Name})
			names[u.ID] = u.Name
		}
	}
	vs, err := s.Registry.ListVehicles(ctx, p, registry.VehicleFilter{Limit: 500})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, v := range vs.Items {
		if n, ok := names[v.UnitID]; ok && v.Status == "active" {
			d.Vehicles = append(d.Vehicles, option{Value: v.Plate, Label: n + " · " + v.Kind})
		}
	}
	if d.Codes, err = s.wasteCodes(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, status, "manifest_new", "content", s.view(r, "manifests", d))
}

// receivers are the units holding a licence in force, for the receiver
// select: collection, utilisation and disposal units.
func (s *server) receivers(r *http.Request, p auth.Principal) ([]option, error) {
	ctx := r.Context()
	ls, err := s.Registry.ListLicences(ctx, p, registry.LicenceFilter{Limit: 500})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	numbers := map[string]string{}
	var ids []string
	for _, l := range ls.Items {
		if l.Status != "valid" || now.Before(l.ValidFrom) || now.After(l.ValidTo) || l.UnitID == p.UnitID {
			continue
		}
		if _, ok := numbers[l.UnitID]; !ok {
			ids = append(ids, l.UnitID)
			numbers[l.UnitID] = l.Number
		}
	}
	names, err := s.Registry.UnitNames(ctx, p, ids)
	if err != nil {
		return nil, err
	}
	out := make([]option, 0, len(ids))
	for _, id := range ids {
		out = append(out, option{Value: id, Label: names[id], Hint: numbers[id]})
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return out, nil
}

func emptyLegs(n int) []legForm {
	legs := make([]legForm, n)
	for i := range legs {
		legs[i] = legForm{Index: i, No: i + 1}
	}
	return legs
}

// formRows maps the legs and lines sent to the service back to the form
// rows they came from, so that an error lands beside its row.
type formRows struct{ legs, lines []int }

func (r formRows) remap(fe formError) {
	fe.remapRows("carriers", r.legs)
	fe.remapRows("lines", r.lines)
	for i, f := range fe.Fields {
		if f.Field == "carrier_unit_id" { // no leg at all: the first row is the one to fill
			fe.Fields[i].Field = "carriers[0].carrier_unit_id"
		}
	}
}

// parseManifestForm reads the draft form: the form as typed (to show it
// again), the service input, the form row of each leg and line sent, and
// the errors in the figures themselves.
func parseManifestForm(r *http.Request) (manifestForm, manifest.Input, formRows, *errs.Validation) {
	f := manifestForm{ReceiverUnitID: r.PostFormValue("receiver_unit_id"), EmergencyMeasures: strings.TrimSpace(r.PostFormValue("emergency_measures"))}
	in := manifest.Input{ReceiverUnitID: f.ReceiverUnitID, EmergencyMeasures: f.EmergencyMeasures}
	var rows formRows
	f.Legs = emptyLegs(max(legRows, len(r.PostForm["carrier_unit_id"])))
	for i := range f.Legs {
		l := &f.Legs[i]
		l.CarrierUnitID, l.VehiclePlate = formValue(r, "carrier_unit_id", i), formValue(r, "vehicle_plate", i)
		if l.CarrierUnitID == "" && l.VehiclePlate == "" {
			continue
		}
		in.Carriers = append(in.Carriers, manifest.LegInput{CarrierUnitID: l.CarrierUnitID, VehiclePlate: l.VehiclePlate})
		rows.legs = append(rows.legs, i)
	}
	var v errs.Validation
	for i := range lineRows {
		l := lineForm{Index: i, No: i + 1, WasteCode: formValue(r, "waste_code", i), QuantityT: formValue(r, "quantity_t", i),
			Form: formValue(r, "form", i), Packaging: formValue(r, "packaging", i), PackageCount: formValue(r, "package_count", i),
			ContainerIDs: formValue(r, "container_ids", i)}
		f.Lines = append(f.Lines, l)
		if l.WasteCode == "" && l.QuantityT == "" && l.Packaging == "" && l.PackageCount == "" && l.ContainerIDs == "" {
			continue
		}
		path := "lines[" + strconv.Itoa(i) + "]"
		line := manifest.LineInput{WasteCode: l.WasteCode, Form: l.Form, Packaging: l.Packaging,
			PackageCount: parseCount(&v, path+".package_count", l.PackageCount), ContainerIDs: splitIDs(l.ContainerIDs)}
		if t := parseTonnes(&v, path+".quantity_t", l.QuantityT); t != nil {
			line.QuantityT = *t
		}
		in.Lines = append(in.Lines, line)
		rows.lines = append(rows.lines, i)
	}
	return f, in, rows, &v
}

// manifestCreate creates the draft from the form and goes to its page; a
// refused form comes back with each error beside its field.
func (s *server) manifestCreate(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
		return
	}
	f, in, rows, v := parseManifestForm(r)
	err := v.Err()
	if err == nil {
		var m manifest.Manifest
		if m, err = s.Manifests.Create(r.Context(), p, in); err == nil {
			s.done(w, r, "/manifests/"+m.ID, "flash.created")
			return
		}
	}
	fe, status, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	if v.Err() == nil {
		rows.remap(fe)
	}
	s.renderManifestNew(w, r, p, status, f, fe)
}

// manifestActions are the steps the current user's party may take now.
type manifestActions struct {
	Submit, Cancel, Pickup, Handover, Deliver, Receive, Complete bool
}

// Any reports whether there is any step to offer.
func (a manifestActions) Any() bool {
	return a.Submit || a.Cancel || a.Pickup || a.Handover || a.Deliver || a.Receive || a.Complete
}

// actionsFor asks the manifest package which steps the user may take now.
func actionsFor(p auth.Principal, m manifest.Manifest) manifestActions {
	can := func(action string) bool { return manifest.Can(p, m, action) }
	return manifestActions{Submit: can("submit"), Cancel: can("cancel"), Pickup: can("pickup"), Handover: can("handover"),
		Deliver: can("deliver"), Receive: can("receive"), Complete: can("complete")}
}

type stepView struct {
	manifest.Step
	Key  string
	When string
	Unit string
}

type lineView struct {
	manifest.Line
	Index                                       int
	InReceived, InAccepted, InRefused, InReason string
	InMethod                                    string
	Methods                                     []string
	HasAccepted                                 bool // the receiver accepted some of it: it needs a method
	HasRefused                                  bool
	FormKey                                     string
}

// newLineView is a line as the pages show it.
func newLineView(l manifest.Line, i int) lineView {
	return lineView{Line: l, Index: i, HasAccepted: l.AcceptedG != nil && *l.AcceptedG > 0,
		HasRefused: l.RefusedG != nil && *l.RefusedG > 0, FormKey: optionLabel(physicalForms, l.Form)}
}

// optionLabel is the label of the option with value v, or "".
func optionLabel(os []option, v string) string {
	for _, o := range os {
		if o.Value == v {
			return o.Label
		}
	}
	return ""
}

type manifestData struct {
	M         manifest.Manifest
	Revisions []revisionView
	CanRevise bool // the user's unit is a party and no request is pending
	StatusKey string
	Flash     string
	Err       formError
	Act       manifestActions
	Steps     []stepView
	Lines     []lineView
	Due       string
	Overdue   bool
	Reason    string // the cancel reason typed, on a refused cancel
	Created   string
}

// manifest shows a manifest and the steps the user's party may take now.
func (s *server) manifest(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderManifest(w, r, p, http.StatusOK, formError{})
}

func (s *server) renderManifest(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, fe formError) {
	ctx := r.Context()
	m, err := s.Manifests.Get(ctx, p, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := manifestData{M: m, StatusKey: manifestStatusKeys[m.Status], Err: fe, Act: actionsFor(p, m),
		Reason: r.PostFormValue("reason"), Due: minuteOf(m.ReceiptDueAt), Created: minute(m.CreatedAt)}
	if r.Method == http.MethodGet {
		d.Flash = s.flash(w, r)
	}
	d.Overdue = m.Status == manifest.InTransit && m.ReceiptDueAt != nil && time.Now().After(*m.ReceiptDueAt)
	d.Steps = manifestSteps(m)
	if d.Revisions, d.CanRevise, err = s.revisions(r, p, m); err != nil {
		s.fail(w, r, err)
		return
	}
	var licences []registry.Licence
	if d.Act.Complete {
		ls, err := s.Registry.ListLicences(ctx, p, registry.LicenceFilter{UnitID: m.ReceiverUnitID, Limit: 100})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		licences = ls.Items
	}
	now := time.Now()
	for i, l := range m.Lines {
		lv := newLineView(l, i)
		lv.InReceived, lv.InAccepted, lv.InRefused = formValue(r, "received_t", i), formValue(r, "accepted_t", i), formValue(r, "refused_t", i)
		lv.InReason, lv.InMethod = formValue(r, "refusal_reason", i), formValue(r, "method", i)
		for _, lc := range licences {
			for _, sc := range lc.Scopes {
				if !slices.Contains(lv.Methods, sc.Method) && lc.Covers(l.WasteCode, sc.Method, now) {
					lv.Methods = append(lv.Methods, sc.Method)
				}
			}
		}
		slices.Sort(lv.Methods)
		d.Lines = append(d.Lines, lv)
	}
	s.page(w, r, status, "manifest", "content", s.view(r, "manifests", d))
}

// manifestSteps are a manifest's signed steps with the party that signed.
func manifestSteps(m manifest.Manifest) []stepView {
	units := map[string]string{m.ConsignorUnitID: m.ConsignorName, m.ReceiverUnitID: m.ReceiverName}
	for _, c := range m.Carriers {
		units[c.CarrierUnitID] = c.CarrierName
	}
	out := make([]stepView, 0, len(m.Steps))
	for _, st := range m.Steps {
		out = append(out, stepView{Step: st, Key: stepKeys[st.Action], When: minute(st.At), Unit: units[st.ActorUnitID]})
	}
	return out
}

// manifestAction runs one step from the manifest page: back to the page
// with a message, or the page again with what was refused.
func (s *server) manifestAction(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
		return
	}
	id, action, version := r.PathValue("id"), r.PathValue("action"), postVersion(r)
	var err error
	switch action {
	case "submit":
		_, err = s.Manifests.Submit(ctx, p, id, version)
	case "pickup":
		_, err = s.Manifests.Pickup(ctx, p, id, version)
	case "handover":
		_, err = s.Manifests.Handover(ctx, p, id, version)
	case "deliver":
		_, err = s.Manifests.Deliver(ctx, p, id, version)
	case "cancel":
		_, err = s.Manifests.Cancel(ctx, p, id, version, r.PostFormValue("reason"))
	case "receive":
		var lines []manifest.ReceiptLine
		if lines, err = receiptLines(r); err == nil {
			_, err = s.Manifests.Receive(ctx, p, id, version, lines)
		}
	case "complete":
		_, err = s.Manifests.Complete(ctx, p, id, version, completionLines(r))
	case "revise":
		var c manifest.Changes
		if c, err = revisionChanges(r); err == nil {
			_, err = s.Manifests.RequestRevision(ctx, p, id, r.PostFormValue("revision_reason"), c)
		}
	case "approve-revision", "refuse-revision":
		_, err = s.Manifests.DecideRevision(ctx, p, id, r.PostFormValue("revision_id"), action == "approve-revision",
			r.PostFormValue("comment"))
	default:
		s.fail(w, r, errs.E(errs.NotFound, "not_found", "页面不存在"))
		return
	}
	if err == nil {
		s.done(w, r, "/manifests/"+id, stepFlash[action])
		return
	}
	fe, status, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	s.renderManifest(w, r, p, status, fe)
}

// receiptLines reads the receiver's weighing of every line: received, and
// optionally accepted or refused tonnes with a reason. Field paths are the
// service's, lines[i] in the order of the page.
func receiptLines(r *http.Request) ([]manifest.ReceiptLine, error) {
	var v errs.Validation
	var out []manifest.ReceiptLine
	for i, no := range r.PostForm["line_no"] {
		n, _ := strconv.Atoi(no)
		path := "lines[" + strconv.Itoa(i) + "]"
		rl := manifest.ReceiptLine{LineNo: n, Reason: formValue(r, "refusal_reason", i)}
		if t := parseTonnes(&v, path+".received_t", formValue(r, "received_t", i)); t != nil {
			rl.ReceivedT = *t
		} else if formValue(r, "received_t", i) == "" {
			v.Add(path+".received_t", "required", "须填写实收量（吨）")
		}
		rl.AcceptedT = parseTonnes(&v, path+".accepted_t", formValue(r, "accepted_t", i))
		rl.RefusedT = parseTonnes(&v, path+".refused_t", formValue(r, "refused_t", i))
		out = append(out, rl)
	}
	return out, v.Err()
}

// revisionView is a correction request as the manifest page shows it.
type revisionView struct {
	manifest.Revision
	When    string
	Decide  bool // the user's unit is an approver still to decide
	Summary []string
}

// revisions lists a manifest's correction requests and says whether the
// user may ask for one now: a party's signer, after submission, with none
// pending. The service has the final say.
func (s *server) revisions(r *http.Request, p auth.Principal, m manifest.Manifest) ([]revisionView, bool, error) {
	rs, err := s.Manifests.Revisions(r.Context(), p, m.ID)
	if err != nil {
		return nil, false, err
	}
	party := p.UnitID == m.ConsignorUnitID || p.UnitID == m.ReceiverUnitID
	for _, c := range m.Carriers {
		party = party || p.UnitID == c.CarrierUnitID
	}
	can := signer(p) && party && m.Status != manifest.Draft && m.Status != manifest.Cancelled
	var out []revisionView
	for _, rv := range rs {
		v := revisionView{Revision: rv, When: minute(rv.CreatedAt)}
		if rv.Status == "pending" {
			can = false
			for _, a := range rv.Approvals {
				v.Decide = v.Decide || (a.UnitID == p.UnitID && a.Status == "pending" && signer(p))
			}
		}
		if rv.Changes.Cancel {
			v.Summary = append(v.Summary, "cancel")
		}
		for _, lc := range rv.Changes.Lines {
			v.Summary = append(v.Summary, revisionLine(lc))
		}
		out = append(out, v)
	}
	return out, can, nil
}

// revisionLine spells out one line's proposed change.
func revisionLine(lc manifest.LineChange) string {
	parts := []string{"#" + strconv.Itoa(lc.LineNo)}
	add := func(k string, v *float64) {
		if v != nil {
			parts = append(parts, k+"="+strconv.FormatFloat(*v, 'f', -1, 64))
		}
	}
	if lc.WasteCode != nil {
		parts = append(parts, *lc.WasteCode)
	}
	add("quantity_t", lc.QuantityT)
	add("received_t", lc.ReceivedT)
	add("accepted_t", lc.AcceptedT)
	add("refused_t", lc.RefusedT)
	if lc.Method != nil {
		parts = append(parts, "method="+*lc.Method)
	}
	return strings.Join(parts, " ")
}

// revisionChanges reads a correction request: per line, only the fields
// filled in change; "cancel" asks to void the manifest.
func revisionChanges(r *http.Request) (manifest.Changes, error) {
	var v errs.Validation
	c := manifest.Changes{Cancel: r.PostFormValue("revision_cancel") == "1"}
	for i, no := range r.PostForm["revision_line_no"] {
		n, _ := strconv.Atoi(no)
		path := "changes.lines[" + strconv.Itoa(len(c.Lines)) + "]"
		lc := manifest.LineChange{LineNo: n,
			QuantityT: parseTonnes(&v, path+".quantity_t", formValue(r, "revision_quantity_t", i)),
			ReceivedT: parseTonnes(&v, path+".received_t", formValue(r, "revision_received_t", i)),
			AcceptedT: parseTonnes(&v, path+".accepted_t", formValue(r, "revision_accepted_t", i)),
			RefusedT:  parseTonnes(&v, path+".refused_t", formValue(r, "revision_refused_t", i))}
		if m := strings.TrimSpace(formValue(r, "revision_method", i)); m != "" {
			lc.Method = &m
		}
		if lc.QuantityT != nil || lc.ReceivedT != nil || lc.AcceptedT != nil || lc.RefusedT != nil || lc.Method != nil {
			c.Lines = append(c.Lines, lc)
		}
	}
	return c, v.Err()
}

// completionLines reads the method used for every line.
func completionLines(r *http.Request) []manifest.CompletionLine {
	var out []manifest.CompletionLine
	for i, no := range r.PostForm["line_no"] {
		n, _ := strconv.Atoi(no)
		out = append(out, manifest.CompletionLine{LineNo: n, Method: formValue(r, "method", i)})
	}
	return out
}

type manifestPrintData struct {
	manifestData
	Nonce string
	QR    template.HTML
	URL   string
}

// manifestPrint is the manifest on one A4 sheet, with a QR code that opens
// its page.
func (s *server) manifestPrint(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	m, err := s.Manifests.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := manifestPrintData{manifestData: manifestData{M: m, StatusKey: manifestStatusKeys[m.Status], Steps: manifestSteps(m),
		Due: minuteOf(m.ReceiptDueAt)}}
	for i, l := range m.Lines {
		d.Lines = append(d.Lines, newLineView(l, i))
	}
	d.URL = label.BaseOf(r) + "/manifests/" + m.ID
	if d.QR, err = qrSVG(d.URL, "联单 "+m.Number); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Nonce = nonceCSP(w, false) // only the print button's script is inline
	s.render(w, r, http.StatusOK, "manifest_print", "print", s.view(r, "manifests", d))
}
