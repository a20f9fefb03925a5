package web

import (
	"net/http"
	"time"

	"wufei/internal/auth"
	"wufei/internal/dashboard"
)

// afterLogin is where a successful log-in goes: the page that sent the user
// to it, else the workbench.
func afterLogin(next string) string {
	if next == "" {
		return "/workbench"
	}
	return safeNext(next)
}

// workbenchSections are the message keys of each section's heading and
// hint.
var workbenchSections = map[string][2]string{
	dashboard.SectionDrafts:     {"workbench.drafts", "workbench.drafts.hint"},
	dashboard.SectionStorage:    {"workbench.storage", "workbench.storage.hint"},
	dashboard.SectionPickups:    {"workbench.pickups", "workbench.pickups.hint"},
	dashboard.SectionArrivals:   {"workbench.arrivals", "workbench.arrivals.hint"},
	dashboard.SectionCompletion: {"workbench.completion", "workbench.completion.hint"},
	dashboard.SectionRevisions:  {"workbench.revisions", "workbench.revisions.hint"},
	dashboard.SectionAlerts:     {"workbench.alerts", "workbench.alerts.hint"},
	dashboard.SectionIndicators: {"workbench.indicators", "workbench.indicators.hint"},
	dashboard.SectionTaskReview: {"workbench.task_review", "workbench.task_review.hint"},
	dashboard.SectionTasksDue:   {"workbench.tasks_due", "workbench.tasks_due.hint"},
}

type wbSection struct {
	dashboard.Section
	TitleKey, HintKey string
}

type workbenchData struct {
	Unit     string // the viewer's unit, department or region, for the greeting
	Sections []wbSection
	Now      time.Time
	// What the role's work starts from when nothing is waiting.
	Start []option
}

// workbench is the first page after log-in: what needs doing now for the
// viewer's role, each item linked to where it is done.
func (s *server) workbench(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	now := time.Now()
	wb, err := s.Dashboard.Workbench(ctx, p, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := workbenchData{Now: now}
	for _, sec := range wb.Sections {
		keys := workbenchSections[sec.Key]
		d.Sections = append(d.Sections, wbSection{Section: sec, TitleKey: keys[0], HintKey: keys[1]})
	}
	switch {
	case p.UnitID != "":
		if u, err := s.Registry.GetUnit(ctx, p, p.UnitID); err == nil {
			d.Unit = u.Name
		}
		d.Start = []option{{Value: "/manifests", Label: "nav.manifests"}, {Value: "/alerts", Label: "nav.alerts"}}
		if p.Role != auth.Driver {
			d.Start = append(d.Start, option{Value: "/containers", Label: "nav.containers"}, option{Value: "/plans", Label: "nav.plans"})
		}
	default:
		if p.RegionCode != "" {
			if _, names, err := s.regions(ctx); err == nil {
				d.Unit = names[p.RegionCode]
			}
		}
		d.Start = []option{{Value: "/dashboard", Label: "nav.dashboard"}, {Value: "/alerts", Label: "nav.alerts"},
			{Value: "/indicators", Label: "nav.indicators"}, {Value: "/tasks", Label: "nav.tasks"}}
	}
	s.page(w, r, http.StatusOK, "workbench", "content", s.view(r, "workbench", d))
}
