package ledger

import (
	"context"
	"errors"
	"time"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/hw/label"
	"wufei/internal/store"
)

// Step is one ledger record in a container's or batch's history.
type Step struct {
	Kind         string
	At           time.Time
	UnitID       string
	Ref          string // the record's batch code
	QuantityG    int64
	FacilityCode string
	Handler      string
	AuditSeq     int64
}

// Chain is a container and the ledger records that name it, with their
// corrections, in the order they were recorded.
type Chain struct {
	Container Container
	Steps     []Step
}

// ContainerChains returns the chains of the containers with the given
// digital ids, in three queries: the containers, the records naming them
// (from the index alone) and those records with their corrections, each read
// once however many of the containers it names. An unknown id is left out. It
// does not scope: the trace checks that the caller may see each container's
// unit.
func ContainerChains(ctx context.Context, q store.Querier, ids []string) (map[string]Chain, error) {
	cs, err := unitContainers(ctx, q, "", ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Chain, len(cs))
	for id, c := range cs {
		out[id] = Chain{Container: c}
	}
	if len(out) == 0 {
		return out, nil
	}
	query, args, err := store.In(`SELECT record_id, digital_id FROM ledger_containers WHERE digital_id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var pairs []struct {
		RecordID  string `db:"record_id"`
		DigitalID string `db:"digital_id"`
	}
	if err := store.Select(ctx, q, &pairs, query, args...); err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return out, nil
	}
	names := map[string][]string{} // record id → the digital ids it names, of those asked
	for _, p := range pairs {
		names[p.RecordID] = append(names[p.RecordID], p.DigitalID)
	}
	records := make([]string, 0, len(names))
	for id := range names {
		records = append(records, id)
	}
	var rows []struct {
		ID           string    `db:"id"`
		OriginID     string    `db:"origin_id"`
		Kind         string    `db:"kind"`
		OccurredAt   time.Time `db:"occurred_at"`
		CreatedAt    time.Time `db:"created_at"`
		UnitID       string    `db:"unit_id"`
		BatchCode    string    `db:"batch_code"`
		QuantityG    int64     `db:"quantity_g"`
		FacilityCode string    `db:"facility_code"`
		Handler      string    `db:"handler"`
		AuditSeq     int64     `db:"audit_seq"`
	}
	query, args, err = store.In(`SELECT id, origin_id, kind, occurred_at, created_at, unit_id, batch_code, quantity_g,
		facility_code, handler, audit_seq FROM ledger_records WHERE origin_id IN (?) ORDER BY audit_seq`, records)
	if err != nil {
		return nil, err
	}
	if err := store.Select(ctx, q, &rows, query, args...); err != nil {
		return nil, err
	}
	for _, r := range rows {
		at := r.OccurredAt
		if r.ID != r.OriginID {
			at = r.CreatedAt // a correction happened when it was made
		}
		st := Step{Kind: r.Kind, At: at, UnitID: r.UnitID, Ref: r.BatchCode, QuantityG: r.QuantityG,
			FacilityCode: r.FacilityCode, Handler: r.Handler, AuditSeq: r.AuditSeq}
		for _, id := range names[r.OriginID] {
			if ch, ok := out[id]; ok {
				ch.Steps = append(ch.Steps, st)
				out[id] = ch
			}
		}
	}
	return out, nil
}

// BatchContainers returns the digital ids of the containers the records
// with a batch code name. Batch codes are unique within a unit, so a code
// two units happen to share gives both units' containers; the trace keeps
// those the caller may see.
func BatchContainers(ctx context.Context, q store.Querier, batchCode string) ([]string, error) {
	var n int
	if err := store.Get(ctx, q, &n, `SELECT count(*) FROM ledger_records WHERE batch_code = ?`, batchCode); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errs.E(errs.NotFound, "batch_not_found", "没有批次 "+clip(batchCode))
	}
	ids := []string{}
	err := store.Select(ctx, q, &ids, `SELECT DISTINCT lc.digital_id FROM ledger_containers lc
		JOIN ledger_records r ON r.id = lc.record_id WHERE r.batch_code = ? ORDER BY lc.digital_id`, batchCode)
	return ids, err
}

// LabelFacts are what a container's label and its public page show.
type LabelFacts struct {
	Container
	UnitName     string `db:"unit_name" json:"unit_name"`
	ContactName  string `db:"contact_name" json:"contact_name"`
	ContactPhone string `db:"contact_phone" json:"contact_phone"`
	RegionName   string `db:"region_name" json:"region_name"`
}

// Label is the container's label, its QR code pointing at base + /l/{id}.
func (f LabelFacts) Label(base string) label.Label {
	return label.Label{DigitalID: f.DigitalID, Name: f.Name, Category: f.Category, WasteCode: f.WasteCode, Form: f.Form,
		Characteristics: f.Characteristics, Components: f.Components, HazardousComponents: f.HazardousComponents,
		Precautions: f.Precautions, UnitName: f.UnitName, ContactName: f.ContactName, ContactPhone: f.ContactPhone,
		GeneratedAt: f.GeneratedAt, QuantityG: f.QuantityG, Remark: f.Remark, VolumeL: f.VolumeL,
		URL: label.URL(base, f.DigitalID)}
}

// PublicFacts returns a container's label facts to anyone who holds its
// digital id, as printed on the label: the page its QR code opens.
func (s *Service) PublicFacts(ctx context.Context, digitalID string) (LabelFacts, error) {
	if _, err := ParseDigitalID("digital_id", digitalID); err != nil {
		return LabelFacts{}, errs.E(errs.NotFound, "container_not_found", "没有这个数字识别码")
	}
	return facts(ctx, s.db.Reader(), `c.digital_id = ?`, digitalID)
}

// Facts returns the label facts of a container the principal may see.
func (s *Service) Facts(ctx context.Context, p auth.Principal, digitalID string) (LabelFacts, error) {
	cond, args := scope(p, "c")
	return facts(ctx, s.db.Reader(), `c.digital_id = ? AND `+cond, append([]any{digitalID}, args...)...)
}

func facts(ctx context.Context, q store.Querier, where string, args ...any) (LabelFacts, error) {
	var f LabelFacts
	err := store.Get(ctx, q, &f, `SELECT `+containerColumns+`, u.name AS unit_name, u.contact_name, u.contact_phone,
		COALESCE(g.name, '') AS region_name FROM containers c JOIN units u ON u.id = c.unit_id
		LEFT JOIN regions g ON g.code = u.region_code WHERE `+where, args...)
	if errors.Is(err, store.ErrNotFound) {
		return f, errs.E(errs.NotFound, "container_not_found", "容器不存在或无权查看")
	}
	f.derive()
	return f, err
}

// ManifestParty reports whether the principal's unit is a party to a
// manifest — its consignor, a carrier or its receiver — so that the page a
// label's QR code opens may link to it.
func (s *Service) ManifestParty(ctx context.Context, p auth.Principal, manifestID string) (bool, error) {
	if manifestID == "" || p.UnitID == "" {
		return false, nil
	}
	var n int
	err := store.Get(ctx, s.db.Reader(), &n, `SELECT count(*) FROM manifests m WHERE m.id = ? AND (m.consignor_unit_id = ?
		OR m.receiver_unit_id = ? OR EXISTS (SELECT 1 FROM manifest_carriers mc WHERE mc.manifest_id = m.id AND mc.carrier_unit_id = ?))`,
		manifestID, p.UnitID, p.UnitID, p.UnitID)
	return n > 0, err
}
