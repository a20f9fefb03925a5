package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/errs"
	"wufei/internal/hw/volumes"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// maxSerial is the last batch serial of a unit, kind and day.
const maxSerial = 999999

// futureSlack tolerates clocks a little ahead of the server's.
const futureSlack = 5 * time.Minute

// occurredAt is when a record happened: the given time, or the
// transaction's. A time in the future is refused.
func occurredAt(t *time.Time, now time.Time) (time.Time, error) {
	if t == nil || t.IsZero() {
		return now, nil
	}
	if t.After(now.Add(futureSlack)) {
		return time.Time{}, errs.Field("occurred_at", "occurred_in_future", "发生时间不能晚于当前时间")
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// insert writes a record and its container links, with its audit entry.
// It assigns the id and the batch code; change is what the entry records
// besides the record itself.
func insert(ctx context.Context, tx *store.Tx, actor audit.Actor, r *Record, change map[string]any) error {
	r.ID = uuid.Must(uuid.NewV7()).String()
	if r.OriginID == "" {
		r.OriginID, r.EffectKind, r.DeltaG = r.ID, r.Kind, r.QuantityG
	}
	codeDay := r.OccurredAt
	if r.OriginID != r.ID {
		codeDay = tx.Now // a correction is numbered on the day it is made
	}
	pfx := prefix[r.Kind] + day(codeDay)
	n, err := next(ctx, tx, "B|"+r.UnitID+"|"+pfx, 1)
	if err != nil {
		return err
	}
	if n > maxSerial {
		return errs.E(errs.Conflict, "batch_serial_exhausted", "本单位当日该环节的批次编号已用完")
	}
	r.BatchCode = fmt.Sprintf("%s%06d", pfx, n)
	r.CreatedAt = tx.Now
	if r.ContainerIDs == nil {
		r.ContainerIDs = []string{}
	}
	r.QuantityT, r.EffectiveT, r.Status = qty.Tonnes(r.QuantityG), qty.Tonnes(r.QuantityG), "active"
	if r.OriginID != r.ID {
		r.CorrectsID = r.OriginID
	}
	if change == nil {
		change = map[string]any{}
	}
	change["record"] = r
	seq, err := audit.Append(ctx, tx, actor, audit.Record{Action: "ledger." + string(r.Kind), Entity: "ledger_record",
		EntityID: r.ID, UnitID: r.UnitID, RegionCode: r.RegionCode, Change: change})
	if err != nil {
		return err
	}
	r.AuditSeq = seq
	if _, err := store.Exec(ctx, tx, `INSERT INTO ledger_records (id, origin_id, unit_id, region_code, kind, effect_kind,
		batch_code, prev_batch, corrects_batch, occurred_at, waste_code, category, name, official_name, quantity_g, delta_g,
		packaging, facility_code, handler, method, receiver_unit_id, receiver_name, licence_number, manifest_id,
		manifest_number, line_no, destination, note, audit_seq, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.OriginID, r.UnitID, r.RegionCode, string(r.Kind), string(r.EffectKind), r.BatchCode, r.PrevBatch,
		r.CorrectsBatch, r.OccurredAt, r.WasteCode, r.Category, r.Name, r.OfficialName, r.QuantityG, r.DeltaG, r.Packaging,
		r.FacilityCode, r.Handler, r.Method, r.ReceiverUnitID, r.ReceiverName, r.LicenceNumber, r.ManifestID,
		r.ManifestNumber, r.LineNo, r.Destination, r.Note, r.AuditSeq, r.CreatedAt); err != nil {
		return err
	}
	volumes.Ledger(ctx, tx, string(r.EffectKind), r.OccurredAt, r.RegionCode, r.Category, r.Method, r.DeltaG)
	return linkContainers(ctx, tx, r.ID, r.ContainerIDs)
}

// linkContainers records which containers a record names, many rows per
// statement.
func linkContainers(ctx context.Context, tx *store.Tx, recordID string, ids []string) error {
	const chunk = 400
	for len(ids) > 0 {
		n := min(len(ids), chunk)
		args := make([]any, 0, 2*n)
		for _, id := range ids[:n] {
			args = append(args, recordID, id)
		}
		if _, err := store.Exec(ctx, tx, `INSERT INTO ledger_containers (record_id, digital_id) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?), ", n), ", "), args...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

const recordColumns = `r.id, r.origin_id, r.unit_id, r.region_code, r.kind, r.effect_kind, r.batch_code, r.prev_batch,
	r.corrects_batch, r.occurred_at, r.waste_code, r.category, r.name, r.official_name, r.quantity_g, r.delta_g,
	r.packaging, r.facility_code, r.handler, r.method, r.receiver_unit_id, r.receiver_name, r.licence_number,
	r.manifest_id, r.manifest_number, r.line_no, r.destination, r.note, r.audit_seq, r.created_at`

// batchRecord returns the original (not a correction) record of a unit with
// a batch code, with its effective quantity; field names the input.
func batchRecord(ctx context.Context, q store.Querier, unitID, batch, field string) (Record, error) {
	var r Record
	err := store.Get(ctx, q, &r, `SELECT `+recordColumns+` FROM ledger_records r
		WHERE r.unit_id = ? AND r.batch_code = ? AND r.origin_id = r.id`, unitID, batch)
	if errors.Is(err, store.ErrNotFound) {
		return r, errs.Field(field, "batch_unknown", "本单位没有批次 "+clip(batch))
	}
	if err != nil {
		return r, err
	}
	return r, fill(ctx, q, []*Record{&r})
}

// fill completes records with what corrections made of them and the
// containers they name, in one query each.
func fill(ctx context.Context, q store.Querier, rs []*Record) error {
	if len(rs) == 0 {
		return nil
	}
	ids := make([]string, len(rs))
	at := make(map[string]*Record, len(rs))
	for i, r := range rs {
		ids[i], at[r.ID] = r.ID, r
		r.ContainerIDs = []string{}
		r.EffectiveG, r.Corrections, r.Cancelled = r.DeltaG, 0, 0
		if r.OriginID != r.ID {
			r.EffectiveG, r.CorrectsID = r.QuantityG, r.OriginID
		}
	}
	query, args, err := store.In(`SELECT origin_id, kind, delta_g FROM ledger_records WHERE origin_id IN (?) AND id <> origin_id`, ids)
	if err != nil {
		return err
	}
	var cs []struct {
		OriginID string `db:"origin_id"`
		Kind     Kind   `db:"kind"`
		DeltaG   int64  `db:"delta_g"`
	}
	if err := store.Select(ctx, q, &cs, query, args...); err != nil {
		return err
	}
	for _, c := range cs {
		r := at[c.OriginID]
		r.EffectiveG += c.DeltaG
		r.Corrections++
		if c.Kind == KindCancellation {
			r.Cancelled++
		}
	}
	query, args, err = store.In(`SELECT record_id, digital_id FROM ledger_containers WHERE record_id IN (?) ORDER BY digital_id`, ids)
	if err != nil {
		return err
	}
	var links []struct {
		RecordID  string `db:"record_id"`
		DigitalID string `db:"digital_id"`
	}
	if err := store.Select(ctx, q, &links, query, args...); err != nil {
		return err
	}
	for _, l := range links {
		at[l.RecordID].ContainerIDs = append(at[l.RecordID].ContainerIDs, l.DigitalID)
	}
	for _, r := range rs {
		r.QuantityT, r.EffectiveT = qty.Tonnes(r.QuantityG), qty.Tonnes(r.EffectiveG)
		switch {
		case r.Cancelled > 0:
			r.Status = "cancelled"
		case r.Corrections > 0:
			r.Status = "adjusted"
		default:
			r.Status = "active"
		}
	}
	return nil
}

// downstream lists the kinds that take from a batch of kind k: what
// links to it as the stage before.
func downstream(k Kind) []string {
	switch k {
	case KindGeneration:
		return []string{string(KindStorageIn), string(KindInHouse), string(KindOutsourced)}
	case KindStorageIn:
		return []string{string(KindStorageOut)}
	case KindStorageOut:
		return []string{string(KindInHouse), string(KindOutsourced)}
	}
	return nil
}

// taken is how much later records (with their corrections) took from a
// batch.
func taken(ctx context.Context, q store.Querier, r Record) (int64, error) {
	kinds := downstream(r.Kind)
	if len(kinds) == 0 {
		return 0, nil
	}
	query, args, err := store.In(`SELECT COALESCE(SUM(delta_g), 0) FROM ledger_records
		WHERE unit_id = ? AND prev_batch = ? AND effect_kind IN (?)`, r.UnitID, r.BatchCode, kinds)
	if err != nil {
		return 0, err
	}
	var n int64
	err = store.Get(ctx, q, &n, query, args...)
	return n, err
}

// remaining is what is left of a batch for the stages after it.
func remaining(ctx context.Context, q store.Querier, r Record) (int64, error) {
	if r.Kind == KindStorageIn {
		var g int64
		err := store.Get(ctx, q, &g, `SELECT remaining_g FROM ledger_stock WHERE record_id = ?`, r.ID)
		return g, err
	}
	t, err := taken(ctx, q, r)
	return r.EffectiveG - t, err
}

// takeStock removes g grams (or returns them, if negative) from what is
// left in storage of an into-storage record; it refuses to go below zero.
func takeStock(ctx context.Context, tx *store.Tx, recordID string, g int64, field string) error {
	n, err := store.Exec(ctx, tx, `UPDATE ledger_stock SET remaining_g = remaining_g - ? WHERE record_id = ? AND remaining_g >= ?`,
		g, recordID, g)
	if err != nil {
		return err
	}
	if n != 1 {
		return errs.Field(field, "quantity_exceeds_stock", "数量超过该入库批次的剩余贮存量")
	}
	return nil
}

// clip shortens user input quoted in a message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
