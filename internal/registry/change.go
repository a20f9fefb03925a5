package registry

import (
	"context"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// conflict is the error for a record someone else changed since it was read.
func conflict(what string) error {
	return errs.E(errs.Conflict, "version_conflict", what+"已被他人修改，请刷新后重试")
}

// owner loads the unit a record belongs to and checks, before a change, that
// the principal may make it and that the record is still at the version the
// client read.
func (s *Service) owner(ctx context.Context, tx *store.Tx, p auth.Principal, unitID string,
	may func(auth.Principal, Unit) bool, read, stored int64, what string) (Unit, error) {
	u, err := s.getUnit(ctx, tx, p, unitID)
	if err != nil {
		return u, err
	}
	if !may(p, u) {
		return u, errs.E(errs.Forbidden, "forbidden", "无权修改该"+what)
	}
	if read != stored {
		return u, conflict("该" + what)
	}
	return u, nil
}

// updated finishes an update: n is the rows the version-checked UPDATE
// touched, and the change is audited with the values before and after.
func updated(ctx context.Context, tx *store.Tx, p auth.Principal, n int64, entity, what, id string, u Unit, before, after any) error {
	if n != 1 {
		return conflict("该" + what)
	}
	_, err := audit.Append(ctx, tx, p.Actor(), audit.Record{Action: entity + ".update", Entity: entity, EntityID: id,
		UnitID: u.ID, RegionCode: u.RegionCode, Change: map[string]any{"before": before, "after": after}})
	return err
}
