-- Retention of regulated records, enforced by the database itself: the
-- ledger (HJ 1259) is kept five years and never changed in place; a
-- manifest, its lines, legs, steps and revisions are kept ten years, and a
-- manifest in a final status (completed, cancelled, refused) changes only
-- by an approved revision; containers that left with a completed manifest
-- or were cancelled, decided revisions and closed approvals are final.
-- Every refusal raises "wufei: retention: …", which the store maps to
-- ErrRetained. Times are compared through julianday(), which reads the
-- stored '2006-01-02 15:04:05.999999-07:00'; a time it cannot read counts
-- as recent, so the row is kept.

-- +goose Up

-- +goose StatementBegin
CREATE TRIGGER ledger_records_no_update BEFORE UPDATE ON ledger_records
BEGIN SELECT RAISE(ABORT, 'wufei: retention: ledger_records are never changed; a correction is a new record'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_records_kept BEFORE DELETE ON ledger_records
WHEN coalesce(julianday(OLD.occurred_at) >= julianday('now', '-5 years'), 1)
BEGIN SELECT RAISE(ABORT, 'wufei: retention: ledger_records are kept 5 years'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_containers_no_update BEFORE UPDATE ON ledger_containers
BEGIN SELECT RAISE(ABORT, 'wufei: retention: ledger_containers are never changed'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_containers_kept BEFORE DELETE ON ledger_containers
WHEN EXISTS (SELECT 1 FROM ledger_records r WHERE r.id = OLD.record_id
    AND coalesce(julianday(r.occurred_at) >= julianday('now', '-5 years'), 1))
BEGIN SELECT RAISE(ABORT, 'wufei: retention: ledger_containers are kept with their record'); END;
-- +goose StatementEnd

-- A container that left with a completed manifest (received) or was
-- cancelled moves no further.
-- +goose StatementBegin
CREATE TRIGGER containers_final BEFORE UPDATE ON containers
WHEN OLD.status IN ('received', 'cancelled')
BEGIN SELECT RAISE(ABORT, 'wufei: retention: a received or cancelled container is final'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER containers_kept BEFORE DELETE ON containers
WHEN coalesce(julianday(OLD.generated_at) >= julianday('now', '-5 years'), 1)
BEGIN SELECT RAISE(ABORT, 'wufei: retention: containers are kept 5 years'); END;
-- +goose StatementEnd

-- A final manifest changes only when an approved revision is applied: the
-- revision is marked approved, then the lines and the manifest's version
-- change, then its "revise" step is written, all in one transaction; so
-- while approved revisions outnumber revise steps, one is being applied.
-- +goose StatementBegin
CREATE TRIGGER manifests_final BEFORE UPDATE ON manifests
WHEN OLD.status IN ('completed', 'cancelled', 'refused') AND (
    NEW.id IS NOT OLD.id OR NEW.number IS NOT OLD.number OR NEW.year IS NOT OLD.year
    OR NEW.status IS NOT OLD.status OR NEW.consignor_unit_id IS NOT OLD.consignor_unit_id
    OR NEW.receiver_unit_id IS NOT OLD.receiver_unit_id OR NEW.region_code IS NOT OLD.region_code
    OR NEW.receiver_region_code IS NOT OLD.receiver_region_code OR NEW.cross_province IS NOT OLD.cross_province
    OR NEW.approval_id IS NOT OLD.approval_id OR NEW.route_id IS NOT OLD.route_id
    OR NEW.previous_id IS NOT OLD.previous_id OR NEW.emergency_measures IS NOT OLD.emergency_measures
    OR NEW.note IS NOT OLD.note OR NEW.warnings IS NOT OLD.warnings OR NEW.submitted_at IS NOT OLD.submitted_at
    OR NEW.picked_up_at IS NOT OLD.picked_up_at OR NEW.arrived_at IS NOT OLD.arrived_at
    OR NEW.receipt_due_at IS NOT OLD.receipt_due_at OR NEW.received_at IS NOT OLD.received_at
    OR NEW.completed_at IS NOT OLD.completed_at OR NEW.closed_at IS NOT OLD.closed_at
    OR NEW.created_at IS NOT OLD.created_at
    OR (SELECT count(*) FROM manifest_revisions WHERE manifest_id = OLD.id AND status = 'approved')
        <= (SELECT count(*) FROM manifest_steps WHERE manifest_id = OLD.id AND action = 'revise'))
BEGIN SELECT RAISE(ABORT, 'wufei: retention: a completed, cancelled or refused manifest changes only by revision'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER manifests_kept BEFORE DELETE ON manifests
WHEN coalesce(julianday(OLD.created_at) >= julianday('now', '-10 years'), 1)
BEGIN SELECT RAISE(ABORT, 'wufei: retention: manifests are kept 10 years'); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER manifest_lines_final BEFORE UPDATE ON manifest_lines
WHEN EXISTS (SELECT 1 FROM manifests m WHERE m.id = OLD.manifest_id AND m.status IN ('completed', 'cancelled', 'refused'))
    AND (SELECT count(*) FROM manifest_revisions WHERE manifest_id = OLD.manifest_id AND status = 'approved')
        <= (SELECT count(*) FROM manifest_steps WHERE manifest_id = OLD.manifest_id AND action = 'revise')
BEGIN SELECT RAISE(ABORT, 'wufei: retention: the lines of a completed, cancelled or refused manifest change only by revision'); END;
-- +goose StatementEnd
-- A draft's lines and legs are replaced when it is edited; once submitted
-- they are kept with the manifest.
-- +goose StatementBegin
CREATE TRIGGER manifest_lines_kept BEFORE DELETE ON manifest_lines
WHEN EXISTS (SELECT 1 FROM manifests m WHERE m.id = OLD.manifest_id AND m.status <> 'draft'
    AND coalesce(julianday(m.created_at) >= julianday('now', '-10 years'), 1))
BEGIN SELECT RAISE(ABORT, 'wufei: retention: manifest_lines are kept with their manifest'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER manifest_carriers_final BEFORE UPDATE ON manifest_carriers
WHEN EXISTS (SELECT 1 FROM manifests m WHERE m.id = OLD.manifest_id AND m.status IN ('completed', 'cancelled', 'refused'))
BEGIN SELECT RAISE(ABORT, 'wufei: retention: the legs of a completed, cancelled or refused manifest are final'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER manifest_carriers_kept BEFORE DELETE ON manifest_carriers
WHEN EXISTS (SELECT 1 FROM manifests m WHERE m.id = OLD.manifest_id AND m.status <> 'draft'
    AND coalesce(julianday(m.created_at) >= julianday('now', '-10 years'), 1))
BEGIN SELECT RAISE(ABORT, 'wufei: retention: manifest_carriers are kept with their manifest'); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER manifest_steps_no_update BEFORE UPDATE ON manifest_steps
BEGIN SELECT RAISE(ABORT, 'wufei: retention: manifest_steps are never changed'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER manifest_steps_kept BEFORE DELETE ON manifest_steps
WHEN coalesce(julianday(OLD.at) >= julianday('now', '-10 years'), 1)
BEGIN SELECT RAISE(ABORT, 'wufei: retention: manifest_steps are kept 10 years'); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER manifest_revisions_final BEFORE UPDATE ON manifest_revisions
WHEN OLD.status <> 'pending'
BEGIN SELECT RAISE(ABORT, 'wufei: retention: a decided revision is final'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER manifest_revisions_kept BEFORE DELETE ON manifest_revisions
WHEN EXISTS (SELECT 1 FROM manifests m WHERE m.id = OLD.manifest_id
    AND coalesce(julianday(m.created_at) >= julianday('now', '-10 years'), 1))
BEGIN SELECT RAISE(ABORT, 'wufei: retention: manifest_revisions are kept with their manifest'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER manifest_revision_approvals_final BEFORE UPDATE ON manifest_revision_approvals
WHEN OLD.status <> 'pending'
BEGIN SELECT RAISE(ABORT, 'wufei: retention: a decided revision approval is final'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER manifest_revision_approvals_kept BEFORE DELETE ON manifest_revision_approvals
WHEN EXISTS (SELECT 1 FROM manifest_revisions r JOIN manifests m ON m.id = r.manifest_id WHERE r.id = OLD.revision_id
    AND coalesce(julianday(m.created_at) >= julianday('now', '-10 years'), 1))
BEGIN SELECT RAISE(ABORT, 'wufei: retention: manifest_revision_approvals are kept with their manifest'); END;
-- +goose StatementEnd

-- Approvals and whitelist routes are kept as long as the manifests that
-- may cite them: ten years after they lapse (valid_to, a YYYY-MM-DD day).
-- Revoked or expired, they are final; what manifests used of an approval
-- still goes down when refused waste is released.
-- +goose StatementBegin
CREATE TRIGGER approvals_final BEFORE UPDATE ON approvals
WHEN OLD.status IN ('revoked', 'expired')
BEGIN SELECT RAISE(ABORT, 'wufei: retention: a revoked or expired approval is final'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER approvals_kept BEFORE DELETE ON approvals
WHEN OLD.valid_to >= date('now', '-10 years')
BEGIN SELECT RAISE(ABORT, 'wufei: retention: approvals are kept 10 years after they lapse'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER approval_items_final BEFORE UPDATE ON approval_items
WHEN EXISTS (SELECT 1 FROM approvals a WHERE a.id = OLD.approval_id AND a.status IN ('revoked', 'expired'))
    AND (NEW.approval_id IS NOT OLD.approval_id OR NEW.waste_code IS NOT OLD.waste_code
        OR NEW.category IS NOT OLD.category OR NEW.quantity_g IS NOT OLD.quantity_g)
BEGIN SELECT RAISE(ABORT, 'wufei: retention: the items of a revoked or expired approval are final'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER approval_items_kept BEFORE DELETE ON approval_items
WHEN EXISTS (SELECT 1 FROM approvals a WHERE a.id = OLD.approval_id AND a.status IN ('revoked', 'expired')
    AND a.valid_to >= date('now', '-10 years'))
BEGIN SELECT RAISE(ABORT, 'wufei: retention: the items of a revoked or expired approval are kept with it'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER whitelist_routes_final BEFORE UPDATE ON whitelist_routes
WHEN OLD.status IN ('revoked', 'expired')
BEGIN SELECT RAISE(ABORT, 'wufei: retention: a revoked or expired whitelist route is final'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER whitelist_routes_kept BEFORE DELETE ON whitelist_routes
WHEN OLD.valid_to >= date('now', '-10 years')
BEGIN SELECT RAISE(ABORT, 'wufei: retention: whitelist routes are kept 10 years after they lapse'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER whitelist_route_codes_kept BEFORE DELETE ON whitelist_route_codes
WHEN EXISTS (SELECT 1 FROM whitelist_routes w WHERE w.id = OLD.route_id AND w.status IN ('revoked', 'expired')
    AND w.valid_to >= date('now', '-10 years'))
BEGIN SELECT RAISE(ABORT, 'wufei: retention: the codes of a revoked or expired whitelist route are kept with it'); END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER whitelist_route_codes_kept;
DROP TRIGGER whitelist_routes_kept;
DROP TRIGGER whitelist_routes_final;
DROP TRIGGER approval_items_kept;
DROP TRIGGER approval_items_final;
DROP TRIGGER approvals_kept;
DROP TRIGGER approvals_final;
DROP TRIGGER manifest_revision_approvals_kept;
DROP TRIGGER manifest_revision_approvals_final;
DROP TRIGGER manifest_revisions_kept;
DROP TRIGGER manifest_revisions_final;
DROP TRIGGER manifest_steps_kept;
DROP TRIGGER manifest_steps_no_update;
DROP TRIGGER manifest_carriers_kept;
DROP TRIGGER manifest_carriers_final;
DROP TRIGGER manifest_lines_kept;
DROP TRIGGER manifest_lines_final;
DROP TRIGGER manifests_kept;
DROP TRIGGER manifests_final;
DROP TRIGGER containers_kept;
DROP TRIGGER containers_final;
DROP TRIGGER ledger_containers_kept;
DROP TRIGGER ledger_containers_no_update;
DROP TRIGGER ledger_records_kept;
DROP TRIGGER ledger_records_no_update;
