package indicator

import (
	"context"
	"errors"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// Who may do what with indicators:
//   - every signed-in user reads the indicator table, the effective values
//     and the approved versions (the work team publishes them);
//   - pending and returned versions, their comments' history and evidence
//     are read by admins and regulators over the region (city-wide
//     regulators: every region; a county's: its county and its parks);
//   - a reported value is submitted by a regulator of the indicator's lead
//     department — the city department for any region, its county branch
//     (code lead-…, e.g. sthjj-xs) for its own region — or an admin;
//   - the work team (a regulator of department wfzb) or an admin approves or
//     returns it, and configures the indicators;
//   - the records behind a computed value are listed only as far as the
//     caller may see them (regulators: their region; a unit: its own).

// department returns the code of the principal's department, "" if none.
func department(ctx context.Context, q store.Querier, p auth.Principal) (string, error) {
	if p.Role != auth.Regulator || p.DepartmentID == "" {
		return "", nil
	}
	var code string
	err := store.Get(ctx, q, &code, `SELECT code FROM departments WHERE id = ?`, p.DepartmentID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return code, err
}

// workTeam reports whether p approves reports and configures indicators.
func workTeam(ctx context.Context, q store.Querier, p auth.Principal) (bool, error) {
	if p.Role == auth.Admin {
		return true, nil
	}
	d, err := department(ctx, q, p)
	return d == WorkTeamDepartment, err
}

// oversees reports whether regulator p's region covers area a.
func oversees(ctx context.Context, q store.Querier, p auth.Principal, a Area) (bool, error) {
	switch {
	case p.Role == auth.Admin || (p.Role == auth.Regulator && p.SeesAllRegions()):
		return true, nil
	case p.Role != auth.Regulator:
		return false, nil
	}
	own, err := LoadArea(ctx, q, "region", p.RegionCode)
	if errs.KindOf(err) == errs.Invalid {
		return false, nil
	}
	return err == nil && own.covers(a.Code), err
}

// mayReport reports whether p submits values of in for area a.
func mayReport(ctx context.Context, q store.Querier, p auth.Principal, in Indicator, a Area) (bool, error) {
	if p.Role == auth.Admin {
		return true, nil
	}
	d, err := department(ctx, q, p)
	if err != nil || d == "" {
		return false, err
	}
	switch {
	case d == in.LeadDepartment:
		return oversees(ctx, q, p, a)
	case strings.HasPrefix(d, in.LeadDepartment+"-") && !p.SeesAllRegions():
		return oversees(ctx, q, p, a)
	}
	return false, nil
}

// rowFilter returns which drill-down rows p may see.
func rowFilter(ctx context.Context, q store.Querier, p auth.Principal) (func(DrillRow) bool, error) {
	switch {
	case p.Role == auth.Admin || (p.Role == auth.Regulator && p.SeesAllRegions()):
		return func(DrillRow) bool { return true }, nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		own, err := LoadArea(ctx, q, "region", p.RegionCode)
		if errs.KindOf(err) == errs.Invalid {
			return func(DrillRow) bool { return false }, nil
		}
		if err != nil {
			return nil, err
		}
		return func(r DrillRow) bool { return own.covers(r.RegionCode) }, nil
	case p.Role.BoundToUnit():
		return func(r DrillRow) bool { return r.UnitID != "" && r.UnitID == p.UnitID }, nil
	}
	return func(DrillRow) bool { return false }, nil
}

// CanReport reports whether p submits values of indicator id for a region
// (the city when region is ""), so that a page offers the form.
func (s *Service) CanReport(ctx context.Context, p auth.Principal, id, region string) (bool, error) {
	q := s.db.Reader()
	in, err := getIndicator(ctx, q, id)
	if err != nil || in.Kind != Reported {
		return false, err
	}
	if region == "" {
		region = cityCode
	}
	a, err := LoadArea(ctx, q, "region", region)
	if err != nil {
		return false, err
	}
	return mayReport(ctx, q, p, in, a)
}

// WorkTeam reports whether p approves reports and configures indicators.
func (s *Service) WorkTeam(ctx context.Context, p auth.Principal) (bool, error) {
	return workTeam(ctx, s.db.Reader(), p)
}

// Regions lists the areas indicators are kept for, for a page's filter.
func (s *Service) Regions(ctx context.Context) ([]Area, error) { return Areas(ctx, s.db.Reader()) }
