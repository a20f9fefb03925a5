package registry

import (
	"context"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
)

// auditScope is the condition (over audit_entries) limiting the audit trail
// and change feed to what the principal may follow: everything for admins
// and city-wide regulators, a region's or park's entries for its regulators,
// a unit's own entries for its accounts.
func auditScope(p auth.Principal) (string, []any) {
	switch {
	case p.SeesAllRegions():
		return "", nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		return "region_code = ? OR unit_id IN (SELECT id FROM units WHERE park_code = ?)", []any{p.RegionCode, p.RegionCode}
	case p.Role.BoundToUnit():
		return "unit_id = ?", []any{p.UnitID}
	}
	return "1 = 0", nil
}

// Events returns the audit entries after seq that the principal may follow,
// the change feed other departments' systems poll.
func (s *Service) Events(ctx context.Context, p auth.Principal, after int64, limit int) ([]audit.Entry, error) {
	where, args := auditScope(p)
	return audit.ReadEntries(ctx, s.db.Reader(), audit.Filter{After: after, Limit: limit, Where: where, Args: args})
}

// CanSeeEntry reports whether the principal may read audit entry seq; the
// proof endpoint checks it before serving the entry.
func (s *Service) CanSeeEntry(ctx context.Context, p auth.Principal, seq int64) error {
	where, args := auditScope(p)
	if where == "" {
		where = "1 = 1"
	}
	es, err := audit.ReadEntries(ctx, s.db.Reader(), audit.Filter{After: seq - 1, Limit: 1,
		Where: "seq = ? AND (" + where + ")", Args: append([]any{seq}, args...)})
	if err != nil {
		return err
	}
	if len(es) == 0 {
		return errs.E(errs.NotFound, "audit_entry_not_found", "审计记录不存在或无权查看")
	}
	return nil
}

// History returns the audit trail of a registry record the principal may
// see: every change with who made it and the values before and after, as far
// as auditScope lets the principal read audit entries.
func (s *Service) History(ctx context.Context, p auth.Principal, entity, id string) ([]audit.Entry, error) {
	var unitID string
	switch entity {
	case "unit":
		unitID = id
	case "licence":
		l, err := s.GetLicence(ctx, p, id)
		if err != nil {
			return nil, err
		}
		unitID = l.UnitID
	default:
		return nil, errs.Field("entity", "entity_unknown", "未知记录类型")
	}
	if _, err := s.GetUnit(ctx, p, unitID); err != nil {
		return nil, err
	}
	// Seeing a record is not enough: its entries are audit entries, and
	// auditScope decides who may read those (a unit's accounts may look up a
	// carrier in the directory, but not read the carrier's audit trail).
	where, args := auditScope(p)
	cond := "entity = ? AND entity_id = ?"
	if where != "" {
		cond += " AND (" + where + ")"
	}
	args = append([]any{entity, id}, args...)
	out := []audit.Entry{}
	for after := int64(0); ; {
		es, err := audit.ReadEntries(ctx, s.db.Reader(), audit.Filter{After: after, Limit: audit.MaxLimit, Where: cond, Args: args})
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
		if len(es) < audit.MaxLimit {
			return out, nil
		}
		after = es[len(es)-1].Seq
	}
}
