-- Retention of regulated records, enforced by the database itself: the
-- ledger (HJ 1259) is kept five years and never changed in place; a
-- manifest, its lines, legs, steps and revisions are kept ten years, and a
-- manifest in a final status (completed, cancelled, refused) changes only
-- by an approved revision; containers that left with a completed manifest
-- or were cancelled, decided revisions and closed approvals are final.
-- Every refusal raises "wufei: retention: …", which the store maps to
-- ErrRetained. The rules are the SQLite migration's, table for table.

-- +goose Up

-- +goose StatementBegin
CREATE FUNCTION retention_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'wufei: retention: %', TG_ARGV[0];
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION retention_ledger_kept(TEXT) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM ledger_records r WHERE r.id = $1 AND r.occurred_at >= now() - interval '5 years')
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION retention_manifest_final(TEXT) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM manifests m WHERE m.id = $1 AND m.status IN ('completed', 'cancelled', 'refused'))
$$;
-- +goose StatementEnd
-- A final manifest changes only when an approved revision is applied: the
-- revision is marked approved, then the lines and the manifest's version
-- change, then its "revise" step is written, all in one transaction; so
-- while approved revisions outnumber revise steps, one is being applied.
-- +goose StatementBegin
CREATE FUNCTION retention_manifest_revising(TEXT) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT (SELECT count(*) FROM manifest_revisions WHERE manifest_id = $1 AND status = 'approved')
        > (SELECT count(*) FROM manifest_steps WHERE manifest_id = $1 AND action = 'revise')
$$;
-- +goose StatementEnd
-- Whether manifest $1 is within its ten years; a draft counts only with $2.
-- +goose StatementBegin
CREATE FUNCTION retention_manifest_kept(TEXT, boolean) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM manifests m WHERE m.id = $1 AND ($2 OR m.status <> 'draft')
        AND m.created_at >= now() - interval '10 years')
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION retention_revision_kept(TEXT) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM manifest_revisions r JOIN manifests m ON m.id = r.manifest_id
        WHERE r.id = $1 AND m.created_at >= now() - interval '10 years')
$$;
-- +goose StatementEnd
-- Whether approval (or, with $2, whitelist route) $1 is revoked or expired;
-- with $3, also still within ten years of lapsing.
-- +goose StatementBegin
CREATE FUNCTION retention_approval_closed(TEXT, boolean, boolean) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN $2
        THEN EXISTS (SELECT 1 FROM whitelist_routes w WHERE w.id = $1 AND w.status IN ('revoked', 'expired')
            AND (NOT $3 OR w.valid_to >= to_char(now() - interval '10 years', 'YYYY-MM-DD')))
        ELSE EXISTS (SELECT 1 FROM approvals a WHERE a.id = $1 AND a.status IN ('revoked', 'expired')
            AND (NOT $3 OR a.valid_to >= to_char(now() - interval '10 years', 'YYYY-MM-DD')))
    END
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_records_no_update BEFORE UPDATE ON ledger_records FOR EACH ROW
    EXECUTE FUNCTION retention_refuse('ledger_records are never changed; a correction is a new record');
CREATE TRIGGER ledger_records_kept BEFORE DELETE ON ledger_records FOR EACH ROW
    WHEN (OLD.occurred_at >= now() - interval '5 years')
    EXECUTE FUNCTION retention_refuse('ledger_records are kept 5 years');
CREATE TRIGGER ledger_containers_no_update BEFORE UPDATE ON ledger_containers FOR EACH ROW
    EXECUTE FUNCTION retention_refuse('ledger_containers are never changed');
CREATE TRIGGER ledger_containers_kept BEFORE DELETE ON ledger_containers FOR EACH ROW
    WHEN (retention_ledger_kept(OLD.record_id))
    EXECUTE FUNCTION retention_refuse('ledger_containers are kept with their record');

-- A container that left with a completed manifest (received) or was
-- cancelled moves no further.
CREATE TRIGGER containers_final BEFORE UPDATE ON containers FOR EACH ROW
    WHEN (OLD.status IN ('received', 'cancelled'))
    EXECUTE FUNCTION retention_refuse('a received or cancelled container is final');
CREATE TRIGGER containers_kept BEFORE DELETE ON containers FOR EACH ROW
    WHEN (OLD.generated_at >= now() - interval '5 years')
    EXECUTE FUNCTION retention_refuse('containers are kept 5 years');

CREATE TRIGGER manifests_final BEFORE UPDATE ON manifests FOR EACH ROW
    WHEN (OLD.status IN ('completed', 'cancelled', 'refused') AND (
        to_jsonb(OLD) - 'updated_at' - 'version' IS DISTINCT FROM to_jsonb(NEW) - 'updated_at' - 'version'
        OR NOT retention_manifest_revising(OLD.id)))
    EXECUTE FUNCTION retention_refuse('a completed, cancelled or refused manifest changes only by revision');
CREATE TRIGGER manifests_kept BEFORE DELETE ON manifests FOR EACH ROW
    WHEN (OLD.created_at >= now() - interval '10 years')
    EXECUTE FUNCTION retention_refuse('manifests are kept 10 years');

CREATE TRIGGER manifest_lines_final BEFORE UPDATE ON manifest_lines FOR EACH ROW
    WHEN (retention_manifest_final(OLD.manifest_id) AND NOT retention_manifest_revising(OLD.manifest_id))
    EXECUTE FUNCTION retention_refuse('the lines of a completed, cancelled or refused manifest change only by revision');
-- A draft's lines and legs are replaced when it is edited; once submitted
-- they are kept with the manifest.
CREATE TRIGGER manifest_lines_kept BEFORE DELETE ON manifest_lines FOR EACH ROW
    WHEN (retention_manifest_kept(OLD.manifest_id, false))
    EXECUTE FUNCTION retention_refuse('manifest_lines are kept with their manifest');
CREATE TRIGGER manifest_carriers_final BEFORE UPDATE ON manifest_carriers FOR EACH ROW
    WHEN (retention_manifest_final(OLD.manifest_id))
    EXECUTE FUNCTION retention_refuse('the legs of a completed, cancelled or refused manifest are final');
CREATE TRIGGER manifest_carriers_kept BEFORE DELETE ON manifest_carriers FOR EACH ROW
    WHEN (retention_manifest_kept(OLD.manifest_id, false))
    EXECUTE FUNCTION retention_refuse('manifest_carriers are kept with their manifest');

CREATE TRIGGER manifest_steps_no_update BEFORE UPDATE ON manifest_steps FOR EACH ROW
    EXECUTE FUNCTION retention_refuse('manifest_steps are never changed');
CREATE TRIGGER manifest_steps_kept BEFORE DELETE ON manifest_steps FOR EACH ROW
    WHEN (OLD.at >= now() - interval '10 years')
    EXECUTE FUNCTION retention_refuse('manifest_steps are kept 10 years');

CREATE TRIGGER manifest_revisions_final BEFORE UPDATE ON manifest_revisions FOR EACH ROW
    WHEN (OLD.status <> 'pending')
    EXECUTE FUNCTION retention_refuse('a decided revision is final');
CREATE TRIGGER manifest_revisions_kept BEFORE DELETE ON manifest_revisions FOR EACH ROW
    WHEN (retention_manifest_kept(OLD.manifest_id, true))
    EXECUTE FUNCTION retention_refuse('manifest_revisions are kept with their manifest');
CREATE TRIGGER manifest_revision_approvals_final BEFORE UPDATE ON manifest_revision_approvals FOR EACH ROW
    WHEN (OLD.status <> 'pending')
    EXECUTE FUNCTION retention_refuse('a decided revision approval is final');
CREATE TRIGGER manifest_revision_approvals_kept BEFORE DELETE ON manifest_revision_approvals FOR EACH ROW
    WHEN (retention_revision_kept(OLD.revision_id))
    EXECUTE FUNCTION retention_refuse('manifest_revision_approvals are kept with their manifest');

-- Approvals and whitelist routes are kept as long as the manifests that
-- may cite them: ten years after they lapse (valid_to, a YYYY-MM-DD day).
-- Revoked or expired, they are final; what manifests used of an approval
-- still goes down when refused waste is released.
CREATE TRIGGER approvals_final BEFORE UPDATE ON approvals FOR EACH ROW
    WHEN (OLD.status IN ('revoked', 'expired'))
    EXECUTE FUNCTION retention_refuse('a revoked or expired approval is final');
CREATE TRIGGER approvals_kept BEFORE DELETE ON approvals FOR EACH ROW
    WHEN (OLD.valid_to >= to_char(now() - interval '10 years', 'YYYY-MM-DD'))
    EXECUTE FUNCTION retention_refuse('approvals are kept 10 years after they lapse');
CREATE TRIGGER approval_items_final BEFORE UPDATE ON approval_items FOR EACH ROW
    WHEN (retention_approval_closed(OLD.approval_id, false, false)
        AND (NEW.approval_id, NEW.waste_code, NEW.category, NEW.quantity_g)
            IS DISTINCT FROM (OLD.approval_id, OLD.waste_code, OLD.category, OLD.quantity_g))
    EXECUTE FUNCTION retention_refuse('the items of a revoked or expired approval are final');
CREATE TRIGGER approval_items_kept BEFORE DELETE ON approval_items FOR EACH ROW
    WHEN (retention_approval_closed(OLD.approval_id, false, true))
    EXECUTE FUNCTION retention_refuse('the items of a revoked or expired approval are kept with it');
CREATE TRIGGER whitelist_routes_final BEFORE UPDATE ON whitelist_routes FOR EACH ROW
    WHEN (OLD.status IN ('revoked', 'expired'))
    EXECUTE FUNCTION retention_refuse('a revoked or expired whitelist route is final');
CREATE TRIGGER whitelist_routes_kept BEFORE DELETE ON whitelist_routes FOR EACH ROW
    WHEN (OLD.valid_to >= to_char(now() - interval '10 years', 'YYYY-MM-DD'))
    EXECUTE FUNCTION retention_refuse('whitelist routes are kept 10 years after they lapse');
CREATE TRIGGER whitelist_route_codes_kept BEFORE DELETE ON whitelist_route_codes FOR EACH ROW
    WHEN (retention_approval_closed(OLD.route_id, true, true))
    EXECUTE FUNCTION retention_refuse('the codes of a revoked or expired whitelist route are kept with it');

-- +goose Down
DROP TRIGGER whitelist_route_codes_kept ON whitelist_route_codes;
DROP TRIGGER whitelist_routes_kept ON whitelist_routes;
DROP TRIGGER whitelist_routes_final ON whitelist_routes;
DROP TRIGGER approval_items_kept ON approval_items;
DROP TRIGGER approval_items_final ON approval_items;
DROP TRIGGER approvals_kept ON approvals;
DROP TRIGGER approvals_final ON approvals;
DROP TRIGGER manifest_revision_approvals_kept ON manifest_revision_approvals;
DROP TRIGGER manifest_revision_approvals_final ON manifest_revision_approvals;
DROP TRIGGER manifest_revisions_kept ON manifest_revisions;
DROP TRIGGER manifest_revisions_final ON manifest_revisions;
DROP TRIGGER manifest_steps_kept ON manifest_steps;
DROP TRIGGER manifest_steps_no_update ON manifest_steps;
DROP TRIGGER manifest_carriers_kept ON manifest_carriers;
DROP TRIGGER manifest_carriers_final ON manifest_carriers;
DROP TRIGGER manifest_lines_kept ON manifest_lines;
DROP TRIGGER manifest_lines_final ON manifest_lines;
DROP TRIGGER manifests_kept ON manifests;
DROP TRIGGER manifests_final ON manifests;
DROP TRIGGER containers_kept ON containers;
DROP TRIGGER containers_final ON containers;
DROP TRIGGER ledger_containers_kept ON ledger_containers;
DROP TRIGGER ledger_containers_no_update ON ledger_containers;
DROP TRIGGER ledger_records_kept ON ledger_records;
DROP TRIGGER ledger_records_no_update ON ledger_records;
DROP FUNCTION retention_approval_closed(TEXT, boolean, boolean);
DROP FUNCTION retention_revision_kept(TEXT);
DROP FUNCTION retention_manifest_kept(TEXT, boolean);
DROP FUNCTION retention_manifest_revising(TEXT);
DROP FUNCTION retention_manifest_final(TEXT);
DROP FUNCTION retention_ledger_kept(TEXT);
DROP FUNCTION retention_refuse();
