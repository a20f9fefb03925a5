package web

import (
	"net/http"
	"strings"

	"wufei/internal/alerts"
	"wufei/internal/auth"
	"wufei/internal/errs"
)

var (
	// alertKinds are the rules that raise alerts, for the filter and the list.
	alertKinds = []option{
		{Value: "weight_discrepancy", Label: "alert_kind.weight_discrepancy"},
		{Value: "waste_refused", Label: "alert_kind.waste_refused"},
		{Value: "receipt_overdue", Label: "alert_kind.receipt_overdue"},
		{Value: "storage_age_warning", Label: "alert_kind.storage_age_warning"},
		{Value: "storage_age_limit", Label: "alert_kind.storage_age_limit"},
		{Value: "storage_point_over", Label: "alert_kind.storage_point_over"},
		{Value: "plan_late", Label: "alert_kind.plan_late"},
		{Value: "declaration_overdue", Label: "alert_kind.declaration_overdue"},
		{Value: "task_report_overdue", Label: "alert_kind.task_report_overdue"},
		{Value: "task_milestone_overdue", Label: "alert_kind.task_milestone_overdue"},
	}
	alertStatuses = []option{{Value: "open", Label: "alert_status.open"},
		{Value: "acknowledged", Label: "alert_status.acknowledged"}, {Value: "closed", Label: "alert_status.closed"}}
	severityKeys = map[alerts.Severity]string{alerts.Info: "severity.info", alerts.Warning: "severity.warning",
		alerts.Critical: "severity.critical"}
)

type alertRow struct {
	alerts.Alert
	KindKey, StatusKey, SeverityKey string
	Created, Due, Link              string
	Acknowledge, Close              bool
}

type alertsData struct {
	Kind, Status string
	Kinds        []option
	Statuses     []option
	Items        []alertRow
	List         listing
	Flash        string
	Err          formError
	ErrID        string // the alert whose action was refused
	Note         string // the note typed, on a refused close
	Back         string // this list, to return to after an action
}

// alertsPage lists the alerts the caller may see, newest first, with
// acknowledge and close for those who handle them.
func (s *server) alertsPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderAlerts(w, r, p, http.StatusOK, alertsData{})
}

func (s *server) renderAlerts(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, d alertsData) {
	q := r.URL.Query()
	d.Kind, d.Status, d.Kinds, d.Statuses, d.Back = q.Get("kind"), q.Get("status"), alertKinds, alertStatuses, r.URL.RequestURI()
	if r.Method == http.MethodGet {
		d.Flash = s.flash(w, r)
	}
	var err error
	if d.Status != "" && optionLabel(alertStatuses, d.Status) == "" {
		err = errs.Field("status", "status_unknown", "预警状态无效")
	}
	var next string
	if err == nil {
		var items []alerts.Alert
		items, next, err = s.Alerts.List(r.Context(), p, alerts.Filter{Kind: d.Kind, Status: d.Status, After: q.Get("cursor"),
			Limit: pageSize})
		for _, a := range items {
			row := alertRow{Alert: a, KindKey: optionLabel(alertKinds, a.Kind), StatusKey: optionLabel(alertStatuses, a.Status),
				SeverityKey: severityKeys[a.Severity], Created: minute(a.CreatedAt), Due: minuteOf(a.DueAt),
				Acknowledge: p.Role != auth.Viewer && a.Status == "open", Close: p.Role != auth.Viewer && a.Status != "closed"}
			switch a.Subject {
			case "manifest":
				row.Link = "/manifests/" + a.SubjectID
			case "plan":
				row.Link = "/plans/" + a.SubjectID
			}
			d.Items = append(d.Items, row)
		}
	}
	if err == nil && status != http.StatusOK { // a refused action: the list, with its error
		d.List = pager(r, next)
		s.page(w, r, status, "alerts", "content", s.view(r, "alerts", &d))
		return
	}
	s.list(w, r, err, next, &d.List, "alerts", &d)
}

// alertAction acknowledges or closes an alert and goes back to the list.
func (s *server) alertAction(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	status := map[string]string{"acknowledge": "acknowledged", "close": "closed"}[r.PathValue("action")]
	if status == "" {
		s.fail(w, r, errs.E(errs.NotFound, "not_found", "页面不存在"))
		return
	}
	id, note := r.PathValue("id"), strings.TrimSpace(r.PostFormValue("note"))
	back := safeNext(r.PostFormValue("back"))
	if !strings.HasPrefix(back, "/alerts") {
		back = "/alerts"
	}
	_, err := s.Alerts.Handle(r.Context(), p, id, status, note, postVersion(r))
	if err == nil {
		s.done(w, r, back, map[string]string{"acknowledged": "flash.alert_acknowledged", "closed": "flash.alert_closed"}[status])
		return
	}
	fe, code, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	// Show the list the user came from, with the error beside the alert.
	r.URL.Path, r.URL.RawQuery = "/alerts", ""
	if u, perr := r.URL.Parse(back); perr == nil {
		r.URL.RawQuery = u.RawQuery
	}
	s.renderAlerts(w, r, p, code, alertsData{Err: fe, ErrID: id, Note: note})
}
