package dashboard

import (
	"context"
	"errors"
	"sort"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
	"wufei/internal/program/task"
	"wufei/internal/settings"
	"wufei/internal/store"
)

// Sections of a workbench, each a kind of thing to do.
const (
	SectionDrafts     = "drafts"      // a consignor's manifests not yet submitted
	SectionStorage    = "storage"     // storage near or past its time limit
	SectionPickups    = "pickups"     // a carrier's legs not yet picked up
	SectionArrivals   = "arrivals"    // a receiver's manifests to confirm before their deadline
	SectionCompletion = "completion"  // received, waiting for the method of utilisation or disposal
	SectionRevisions  = "revisions"   // correction requests awaiting the viewer
	SectionAlerts     = "alerts"      // open alerts
	SectionIndicators = "indicators"  // reported indicator values awaiting the work team
	SectionTaskReview = "task_review" // task progress reports awaiting the work team
	SectionTasksDue   = "tasks_due"   // a department's task reports owed
)

// Item is one thing to do, with where it is done.
type Item struct {
	Title  string     `json:"title"`
	Detail string     `json:"detail,omitempty"`
	Due    *time.Time `json:"due,omitempty"`
	Late   bool       `json:"late" doc:"已过期限"`
	URL    string     `json:"url"`
}

// Section is one kind of work: how many are waiting, the most pressing
// first, and the list with all of them.
type Section struct {
	Key   string `json:"key"`
	Total int    `json:"total"`
	Items []Item `json:"items"`
	URL   string `json:"url"`
}

// Workbench is what needs doing now, for the viewer's role.
type Workbench struct {
	Sections []Section `json:"sections"`
}

// shown is how many items a section lists.
const shown = 10

// Workbench answers the viewer's workbench at now.
func (s *Service) Workbench(ctx context.Context, p auth.Principal, now time.Time) (Workbench, error) {
	if !p.Role.Valid() {
		return Workbench{}, errs.E(errs.Unauthorized, "unauthenticated", "请先登录")
	}
	now = now.UTC()
	w := &bench{ctx: ctx, db: s.db, q: s.db.Reader(), p: p, now: now}
	switch {
	case p.Role.BoundToUnit() && p.UnitID != "":
		if p.Role != auth.Driver {
			w.drafts()
			w.storage()
		}
		w.pickups()
		if p.Role != auth.Driver {
			w.arrivals()
			w.revisions()
		}
		w.alerts()
	case p.Role == auth.Admin || p.Role == auth.Regulator:
		w.alerts()
		team, err := s.indicators.WorkTeam(ctx, p)
		if err != nil {
			return Workbench{}, err
		}
		if team {
			w.indicatorReports()
			w.taskReviews()
		}
		w.revisions()
		w.tasksDue()
	}
	if w.err != nil {
		return Workbench{}, w.err
	}
	return Workbench{Sections: w.out}, nil
}

// bench collects sections, carrying the first error.
type bench struct {
	ctx context.Context
	db  *store.DB
	q   store.Querier
	p   auth.Principal
	now time.Time
	out []Section
	err error
}

func (w *bench) sel(dest any, query string, args ...any) bool {
	if w.err == nil {
		w.err = store.Select(w.ctx, w.q, dest, query, args...)
	}
	return w.err == nil
}

// add keeps a section that has work in it.
func (w *bench) add(key, url string, total int, items []Item) {
	if total == 0 {
		return
	}
	if len(items) > shown {
		items = items[:shown]
	}
	w.out = append(w.out, Section{Key: key, Total: total, Items: items, URL: url})
}

type manifestRow struct {
	ID     string     `db:"id"`
	Number string     `db:"number"`
	Other  string     `db:"other"`
	Due    *time.Time `db:"due"`
}

func (w *bench) manifests(key, url, query string, args ...any) {
	var rows []manifestRow
	if !w.sel(&rows, query, args...) {
		return
	}
	items := make([]Item, 0, len(rows))
	for _, r := range rows {
		it := Item{Title: r.Number, Detail: r.Other, Due: r.Due, URL: "/manifests/" + r.ID}
		if r.Due != nil && r.Due.Before(w.now) {
			it.Late = true
		}
		items = append(items, it)
	}
	w.add(key, url, len(rows), items)
}

// drafts are the unit's manifests it has not submitted.
func (w *bench) drafts() {
	w.manifests(SectionDrafts, "/manifests?status=draft", `SELECT m.id, m.number, ru.name AS other, NULL AS due
		FROM manifests m JOIN units ru ON ru.id = m.receiver_unit_id
		WHERE m.status = 'draft' AND m.consignor_unit_id = ? ORDER BY m.updated_at DESC LIMIT 200`, w.p.UnitID)
}

// pickups are the legs the unit carries that are not picked up yet.
func (w *bench) pickups() {
	w.manifests(SectionPickups, "/manifests?role=carrier", `SELECT m.id, m.number, cu.name AS other, NULL AS due
		FROM manifests m JOIN units cu ON cu.id = m.consignor_unit_id
		WHERE m.status IN ('submitted', 'in_transit') AND EXISTS (SELECT 1 FROM manifest_carriers mc
			WHERE mc.manifest_id = m.id AND mc.carrier_unit_id = ? AND mc.picked_up_at IS NULL)
		ORDER BY m.submitted_at, m.id LIMIT 200`, w.p.UnitID)
}

// arrivals are the manifests on their way to the unit, by deadline, and
// those received that wait for the method.
func (w *bench) arrivals() {
	w.manifests(SectionArrivals, "/manifests?role=receiver&status=in_transit", `SELECT m.id, m.number, cu.name AS other,
		m.receipt_due_at AS due FROM manifests m JOIN units cu ON cu.id = m.consignor_unit_id
		WHERE m.status = 'in_transit' AND m.receiver_unit_id = ? ORDER BY m.receipt_due_at, m.id LIMIT 200`, w.p.UnitID)
	w.manifests(SectionCompletion, "/manifests?role=receiver&status=received", `SELECT m.id, m.number, cu.name AS other,
		NULL AS due FROM manifests m JOIN units cu ON cu.id = m.consignor_unit_id
		WHERE m.status = 'received' AND m.receiver_unit_id = ? ORDER BY m.received_at, m.id LIMIT 200`, w.p.UnitID)
}

// revisions are correction requests waiting: for a unit, those it must
// decide; for a regulator, those pending on manifests it oversees.
func (w *bench) revisions() {
	if w.p.UnitID != "" {
		w.manifests(SectionRevisions, "/manifests", `SELECT m.id, m.number, r.reason AS other, NULL AS due
			FROM manifest_revision_approvals ra JOIN manifest_revisions r ON r.id = ra.revision_id
			JOIN manifests m ON m.id = r.manifest_id
			WHERE ra.unit_id = ? AND ra.status = 'pending' AND r.status = 'pending' ORDER BY r.created_at LIMIT 200`, w.p.UnitID)
		return
	}
	scope, args := manifestScope(w.p)
	w.manifests(SectionRevisions, "/manifests", `SELECT m.id, m.number, r.reason AS other, NULL AS due
		FROM manifest_revisions r JOIN manifests m ON m.id = r.manifest_id
		WHERE r.status = 'pending' AND `+scope+` ORDER BY r.created_at LIMIT 200`, args...)
}

// storage lists the unit's storage facilities whose oldest batch is within
// the warning days of the storage limit, or past it.
func (w *bench) storage() {
	if w.err != nil {
		return
	}
	rules, err := settings.Load(w.ctx, w.q)
	if err != nil {
		w.err = err
		return
	}
	stock, err := ledger.NewService(w.db).Stock(w.ctx, w.p, w.p.UnitID, w.now)
	if err != nil {
		w.err = err
		return
	}
	var items []Item
	limit := time.Duration(rules.StorageLimitDays) * 24 * time.Hour
	warn := time.Duration(rules.StorageWarnDays) * 24 * time.Hour
	for _, f := range stock {
		if f.OldestAt == nil {
			continue
		}
		due := f.OldestAt.Add(limit).UTC()
		if w.now.Before(due.Add(-warn)) {
			continue
		}
		items = append(items, Item{Title: f.FacilityName, Detail: f.FacilityCode, Due: &due, Late: !w.now.Before(due),
			URL: "/containers?status=stored"})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Due.Before(*items[j].Due) })
	w.add(SectionStorage, "/containers?status=stored", len(items), items)
}

// alerts are the open alerts the viewer sees, those with the nearest
// deadline first.
func (w *bench) alerts() {
	if w.err != nil {
		return
	}
	scope, args := alertScope(w.p)
	var total int
	if w.err = store.Get(w.ctx, w.q, &total, `SELECT COUNT(*) FROM alerts a WHERE a.status = 'open' AND `+scope, args...); w.err != nil {
		return
	}
	var rows []struct {
		Kind      string     `db:"kind"`
		Title     string     `db:"title"`
		Subject   string     `db:"subject"`
		SubjectID string     `db:"subject_id"`
		Due       *time.Time `db:"due_at"`
	}
	if !w.sel(&rows, `SELECT a.kind, a.title, a.subject, a.subject_id, a.due_at FROM alerts a WHERE a.status = 'open' AND `+scope+`
		ORDER BY CASE WHEN a.due_at IS NULL THEN 1 ELSE 0 END, a.due_at, a.created_at DESC LIMIT `+itoa(shown), args...) {
		return
	}
	items := make([]Item, 0, len(rows))
	for _, r := range rows {
		it := Item{Title: r.Title, Due: r.Due, URL: link("/alerts", "kind", r.Kind, "status", "open")}
		if r.Subject == "manifest" {
			it.URL = "/manifests/" + r.SubjectID
		}
		it.Late = r.Due != nil && r.Due.Before(w.now)
		items = append(items, it)
	}
	w.add(SectionAlerts, "/alerts?status=open", total, items)
}

// indicatorReports are reported values waiting for the work team.
func (w *bench) indicatorReports() {
	var rows []struct {
		IndicatorID string `db:"indicator_id"`
		Name        string `db:"name"`
		Region      string `db:"region_code"`
		RegionName  string `db:"region_name"`
		Period      string `db:"period"`
	}
	if !w.sel(&rows, `SELECT r.indicator_id, i.name, r.region_code, COALESCE(g.name, r.region_code) AS region_name, r.period
		FROM indicator_reports r JOIN indicators i ON i.id = r.indicator_id LEFT JOIN regions g ON g.code = r.region_code
		WHERE r.status = 'pending' ORDER BY r.submitted_at LIMIT 200`) {
		return
	}
	items := make([]Item, 0, len(rows))
	for _, r := range rows {
		items = append(items, Item{Title: r.Name, Detail: r.RegionName + " " + r.Period,
			URL: link("/indicators/"+r.IndicatorID, "region", r.Region, "year", r.Period[:min(4, len(r.Period))])})
	}
	w.add(SectionIndicators, "/indicators", len(rows), items)
}

// taskReviews are progress reports waiting for the work team.
func (w *bench) taskReviews() {
	var rows []struct {
		TaskID string `db:"task_id"`
		Code   string `db:"code"`
		Title  string `db:"title"`
		Dept   string `db:"department_code"`
		Period string `db:"period"`
	}
	if !w.sel(&rows, `SELECT r.task_id, t.code, t.title, COALESCE(d.name, r.department_code) AS department_code, r.period
		FROM task_reports r JOIN tasks t ON t.id = r.task_id LEFT JOIN departments d ON d.code = r.department_code
		WHERE r.status = 'submitted' ORDER BY r.created_at LIMIT 200`) {
		return
	}
	items := make([]Item, 0, len(rows))
	for _, r := range rows {
		items = append(items, Item{Title: r.Code + " " + r.Title, Detail: r.Dept + " " + r.Period, URL: "/tasks/" + r.TaskID})
	}
	w.add(SectionTaskReview, "/tasks", len(rows), items)
}

// tasksDue are the progress reports the viewer's department owes: those of
// the period now being reported and of the last period already due.
func (w *bench) tasksDue() {
	if w.err != nil || w.p.DepartmentID == "" {
		return
	}
	var code string
	err := store.Get(w.ctx, w.q, &code, `SELECT code FROM departments WHERE id = ?`, w.p.DepartmentID)
	if errors.Is(err, store.ErrNotFound) {
		return
	}
	if err != nil {
		w.err = err
		return
	}
	rules, err := task.LoadRules(w.ctx, w.q)
	if err != nil {
		w.err = err
		return
	}
	today := task.Today(w.now)
	periods := []task.Period{rules.LastDue(today)}
	if cur := rules.ReportPeriod(today); cur != periods[0] {
		periods = append(periods, cur)
	}
	var items []Item
	for _, per := range periods {
		owed, err := task.OwedReports(w.ctx, w.q, rules, per)
		if err != nil {
			w.err = err
			return
		}
		for _, o := range owed {
			if o.DepartmentCode != code {
				continue
			}
			it := Item{Title: o.TaskCode + " " + o.TaskTitle, Detail: o.Period, URL: "/tasks/" + o.TaskID}
			if due, err := time.ParseInLocation(time.DateOnly, o.DueDate, calendar.Zone); err == nil {
				end := due.AddDate(0, 0, 1).UTC() // the due day is over
				d := end.Add(-time.Microsecond)
				it.Due, it.Late = &d, !w.now.Before(end)
			}
			items = append(items, it)
		}
	}
	w.add(SectionTasksDue, "/tasks", len(items), items)
}
