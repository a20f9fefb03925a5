package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"wufei/internal/alerts"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/hw/approval"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/plan"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// transit runs one step: it checks the party and the status, lets fn change
// m, writes the manifest row (version-checked) and records the step.
//
// The manifest is read before the write transaction, from the reader pool,
// so that the one SQLite writer spends its time on writes. Every change to a
// manifest, its lines or its legs moves its version on, so the version check
// of the final update proves that what was read is still what is written;
// if the manifest moved in between and the caller named no version, the
// step runs again on the manifest read inside the transaction.
func (s *Service) transit(ctx context.Context, p auth.Principal, id string, version int64, action string,
	fn func(tx *store.Tx, m *Manifest) (change any, err error)) (Manifest, error) {
	return s.transitWith(ctx, p, id, version, action, nil, fn)
}

// transitWith is transit with pre, which reads what the step is checked
// against and that changes seldom (licences, vehicles, plans): it too runs
// before the write transaction, on the manifest as read, and again inside
// it when the manifest has moved. A change to those records racing the step
// is then as if it had come just after it.
func (s *Service) transitWith(ctx context.Context, p auth.Principal, id string, version int64, action string,
	pre func(q store.Querier, m Manifest) error, fn func(tx *store.Tx, m *Manifest) (change any, err error)) (Manifest, error) {
	read, err := s.load(ctx, s.db.Reader(), p, id)
	if err != nil {
		return read, err
	}
	if pre != nil {
		if err := pre(s.db.Reader(), read); err != nil {
			return read, err
		}
	}
	var m Manifest
	for fresh := false; ; fresh = true {
		err = s.db.Tx(ctx, func(tx *store.Tx) error {
			m = read
			if fresh {
				var err error
				if m, err = s.load(ctx, tx, p, id); err != nil {
					return err
				}
				if pre != nil {
					if err := pre(tx, m); err != nil {
						return err
					}
				}
			}
			err := s.apply(ctx, tx, p, &m, version, action, fn)
			if errors.Is(err, store.ErrRetained) && !fresh {
				// The database refused a line or leg of a manifest that
				// became final since it was read (and PostgreSQL has
				// aborted the transaction): run again on what it is now.
				return errMoved
			}
			if err != nil && !fresh && !errors.Is(err, errMoved) {
				// Refused on what was read: refuse it only if that is still so.
				var now int64
				if e := store.Get(ctx, tx, &now, `SELECT version FROM manifests WHERE id = ?`, id); e == nil && now != read.Version {
					return errMoved
				}
			}
			return err
		})
		if !errors.Is(err, errMoved) || fresh {
			break
		}
	}
	if errors.Is(err, errMoved) {
		err = conflict()
	}
	return m, err
}

// errMoved says the manifest changed between reading it and writing it.
var errMoved = errors.New("manifest: moved since read")

// apply is transit's work inside the transaction.
func (s *Service) apply(ctx context.Context, tx *store.Tx, p auth.Principal, m *Manifest, version int64, action string,
	fn func(tx *store.Tx, m *Manifest) (change any, err error)) error {
	if err := s.may(p, *m, action); err != nil {
		return err
	}
	if version != 0 && version != m.Version {
		return conflict()
	}
	before, was := m.Version, *m
	was.Lines = slices.Clone(m.Lines)
	m.Lines = slices.Clone(m.Lines)
	m.Carriers = slices.Clone(m.Carriers)
	m.Steps = slices.Clone(m.Steps)
	m.Warnings = slices.Clone(m.Warnings)
	change, err := fn(tx, m)
	if err != nil {
		return err
	}
	m.finish()
	if err := addUsage(ctx, tx, was, *m); err != nil {
		return err
	}
	moved(ctx, tx, was, *m)
	warnings, _ := json.Marshal(m.Warnings)
	m.UpdatedAt, m.Version = tx.Now, before+1
	n, err := store.Exec(ctx, tx, `UPDATE manifests SET status = ?, approval_id = ?, route_id = ?, warnings = ?,
		submitted_at = ?, picked_up_at = ?, arrived_at = ?, receipt_due_at = ?, received_at = ?, completed_at = ?,
		closed_at = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?`,
		string(m.Status), m.ApprovalID, m.RouteID, string(warnings), m.SubmittedAt, m.PickedUpAt, m.ArrivedAt,
		m.ReceiptDueAt, m.ReceivedAt, m.CompletedAt, m.ClosedAt, m.UpdatedAt, m.Version, m.ID, before)
	if err != nil {
		return err
	}
	if n != 1 {
		if version == 0 {
			return errMoved
		}
		return conflict()
	}
	return step(ctx, tx, p, m, action, change)
}

func at(t time.Time) *time.Time { return &t }

// Submit checks the manifest against the licences, permits, plan and
// approvals in force and, if it passes, hands it to the carrier.
func (s *Service) Submit(ctx context.Context, p auth.Principal, id string, version int64) (Manifest, error) {
	var ref references
	read := func(q store.Querier, m Manifest) (err error) {
		ref, err = readReferences(ctx, q, m, store.NowIn(ctx))
		return err
	}
	return s.transitWith(ctx, p, id, version, "submit", read, func(tx *store.Tx, m *Manifest) (any, error) {
		if err := s.checkSubmission(ctx, tx, m, ref); err != nil {
			return nil, err
		}
		m.Status, m.SubmittedAt = Submitted, at(tx.Now)
		return map[string]any{"warnings": m.Warnings, "approval_id": m.ApprovalID, "route_id": m.RouteID}, nil
	})
}

// references are the registry records a submission is checked against:
// the receiver's licences in force, each leg's vehicle and carrier, and
// whether the consignor's plan names each line's code.
type references struct {
	licences []licence
	vehicles []*vehicle // by leg; nil when the plate is not registered
	carriers []*unit    // by leg
	planned  []bool     // by line
}

type vehicle struct {
	UnitID        string     `db:"unit_id"`
	Status        string     `db:"status"`
	CapacityG     int64      `db:"capacity_g"`
	PermitValidTo *time.Time `db:"permit_valid_to"`
}

func readReferences(ctx context.Context, q store.Querier, m Manifest, day time.Time) (references, error) {
	var ref references
	var err error
	if ref.licences, err = receiverLicences(ctx, q, m.ReceiverUnitID, day); err != nil {
		return ref, err
	}
	ids := make([]string, len(m.Carriers))
	for i, c := range m.Carriers {
		ids[i] = c.CarrierUnitID
		var v vehicle
		switch err := store.Get(ctx, q, &v, `SELECT unit_id, status, capacity_g, permit_valid_to FROM vehicles WHERE plate = ?`,
			c.VehiclePlate); {
		case err == nil:
			ref.vehicles = append(ref.vehicles, &v)
		case errors.Is(err, store.ErrNotFound):
			ref.vehicles = append(ref.vehicles, nil)
		default:
			return ref, err
		}
	}
	carriers, err := units(ctx, q, ids...)
	if err != nil {
		return ref, err
	}
	for _, c := range m.Carriers {
		u, ok := carriers[c.CarrierUnitID]
		if !ok {
			return ref, store.ErrNotFound
		}
		ref.carriers = append(ref.carriers, &u)
	}
	for _, l := range m.Lines {
		ok, err := plan.Names(ctx, q, m.ConsignorUnitID, m.Year, l.WasteCode)
		if err != nil {
			return ref, err
		}
		ref.planned = append(ref.planned, ok)
	}
	return ref, nil
}

// checkSubmission collects every reason the manifest cannot go, each on its
// field; warnings (a missing plan when plan_check is warn) go on m. What
// needs the transaction — the receiver's capacity left and the approvals'
// quantities — is read in tx; the rest comes from ref.
func (s *Service) checkSubmission(ctx context.Context, tx *store.Tx, m *Manifest, ref references) error {
	r, _, err := rules(ctx, tx)
	if err != nil {
		return err
	}
	var v errs.Validation
	day := tx.Now
	m.Warnings = []string{}

	// The receiver's licence covers every code, with capacity left this year.
	licences := ref.licences
	var total int64
	for i, l := range m.Lines {
		total += l.QuantityG
		if !covers(licences, l.WasteCode, "") {
			v.Add(fmt.Sprintf("lines[%d].waste_code", i), "licence_not_covering",
				"接受单位的经营许可证不包含该废物代码: "+l.WasteCode)
		}
	}
	if len(licences) > 0 {
		var capacity int64
		for _, l := range licences {
			capacity = max(capacity, l.CapacityG)
		}
		used, err := UsedG(ctx, tx, m.ReceiverUnitID, m.Year)
		if err != nil {
			return err
		}
		if used+total > capacity {
			v.Add("receiver_unit_id", "licence_capacity_exceeded", fmt.Sprintf(
				"接受单位本年度剩余经营能力 %.3f 吨，不足本联单的 %.3f 吨", qty.Tonnes(max(capacity-used, 0)), qty.Tonnes(total)))
		}
	}

	// Every carrier is active and its vehicle registered to it with a valid permit.
	for i, c := range m.Carriers {
		f := fmt.Sprintf("carriers[%d].vehicle_plate", i)
		veh := ref.vehicles[i]
		switch {
		case veh == nil || veh.UnitID != c.CarrierUnitID:
			v.Add(f, "vehicle_not_registered", "车辆未登记在该承运单位名下: "+c.VehiclePlate)
		case veh.Status != "active":
			v.Add(f, "vehicle_not_active", "车辆已停用")
		case veh.PermitValidTo != nil && veh.PermitValidTo.Before(day):
			v.Add(f, "vehicle_permit_expired", "车辆道路运输证已过期")
		case i == 0 && total > veh.CapacityG:
			v.Add(f, "vehicle_capacity_exceeded", fmt.Sprintf("本联单 %.3f 吨超过车辆核定载质量 %.3f 吨",
				qty.Tonnes(total), qty.Tonnes(veh.CapacityG)))
		}
		if ref.carriers[i].Status != "active" {
			v.Add(fmt.Sprintf("carriers[%d].carrier_unit_id", i), "carrier_not_active", "承运单位已停业或注销")
		}
	}

	// The consignor's filed plan for the year names each code.
	for i, l := range m.Lines {
		if ref.planned[i] {
			continue
		}
		msg := fmt.Sprintf("移出单位 %d 年度已备案的管理计划中没有 %s", m.Year, l.WasteCode)
		if r.PlanCheck == "block" {
			v.Add(fmt.Sprintf("lines[%d].waste_code", i), "plan_missing", msg)
		} else {
			m.Warnings = append(m.Warnings, msg)
		}
	}

	// A receiver in another province needs an approval or a whitelist route.
	if m.CrossProvince {
		for i, l := range m.Lines {
			c, err := approval.Covering(ctx, tx, m.ConsignorUnitID, m.ReceiverUnitID, l.WasteCode, day, l.QuantityG)
			if err != nil {
				if errs.KindOf(err) != errs.Invalid && errs.KindOf(err) != errs.NotFound {
					return err
				}
				v.Add(fmt.Sprintf("lines[%d].waste_code", i), "cross_province_not_approved",
					"跨省转移须有有效的审批或白名单路线覆盖该废物代码和数量")
				continue
			}
			if c.ApprovalID != "" {
				if err := approval.Use(ctx, tx, c.ApprovalID, l.WasteCode, l.QuantityG); err != nil {
					if errs.KindOf(err) != errs.Invalid {
						return err
					}
					v.Add(fmt.Sprintf("lines[%d].quantity_t", i), "approval_quantity_exceeded", "超过跨省转移审批的剩余数量")
				}
				// Lines may draw on different approvals; each remembers its own.
				m.Lines[i].ApprovalID = c.ApprovalID
				if _, err := store.Exec(ctx, tx, `UPDATE manifest_lines SET approval_id = ? WHERE manifest_id = ? AND line_no = ?`,
					c.ApprovalID, m.ID, l.LineNo); err != nil {
					return err
				}
				if m.ApprovalID == "" {
					m.ApprovalID = c.ApprovalID
				}
			} else if m.RouteID == "" {
				m.RouteID = c.RouteID
			}
		}
	}
	return v.Err()
}

// release gives back to each line's approval the grams that did not go.
func release(ctx context.Context, tx *store.Tx, lines []Line, grams func(Line) int64) error {
	for _, l := range lines {
		if g := grams(l); l.ApprovalID != "" && g > 0 {
			if err := approval.Release(ctx, tx, l.ApprovalID, l.WasteCode, g); err != nil {
				return err
			}
		}
	}
	return nil
}

// Cancel voids a manifest before pickup; its number is not reused.
func (s *Service) Cancel(ctx context.Context, p auth.Principal, id string, version int64, reason string) (Manifest, error) {
	return s.transit(ctx, p, id, version, "cancel", func(tx *store.Tx, m *Manifest) (any, error) {
		if strings.TrimSpace(reason) == "" {
			return nil, errs.Field("reason", "required", "作废须说明原因")
		}
		if err := release(ctx, tx, m.Lines, func(l Line) int64 { return l.QuantityG }); err != nil {
			return nil, err
		}
		m.Status, m.ClosedAt = Cancelled, at(tx.Now)
		return map[string]string{"reason": strings.TrimSpace(reason)}, nil
	})
}

// Pickup is the first carrier taking the waste: the waste leaves the
// consignor, whose containers are shipped out of its ledger.
func (s *Service) Pickup(ctx context.Context, p auth.Principal, id string, version int64) (Manifest, error) {
	return s.transit(ctx, p, id, version, "pickup", func(tx *store.Tx, m *Manifest) (any, error) {
		if !legOK(p, *m, "pickup") {
			return nil, errs.E(errs.Forbidden, "not_the_party", "只有第一程承运单位可以起运")
		}
		r, cal, err := rules(ctx, tx)
		if err != nil {
			return nil, err
		}
		if _, err := store.Exec(ctx, tx, `UPDATE manifest_carriers SET picked_up_at = ? WHERE manifest_id = ? AND leg = 1`,
			tx.Now, m.ID); err != nil {
			return nil, err
		}
		m.Carriers[0].PickedUpAt = at(tx.Now)
		// Until the carrier reports arrival, the receipt deadline runs from pickup.
		m.Status, m.PickedUpAt, m.ReceiptDueAt = InTransit, at(tx.Now), at(cal.AddWorkingDays(tx.Now, r.ReceiptWorkingDays))
		sh := ledger.Shipment{UnitID: m.ConsignorUnitID, ManifestID: m.ID, ManifestNumber: m.Number, At: tx.Now, Actor: p.Actor()}
		for _, l := range m.Lines {
			sh.Lines = append(sh.Lines, ledger.ShipmentLine{LineNo: l.LineNo, WasteCode: l.WasteCode, QuantityG: l.QuantityG,
				ContainerIDs: l.ContainerIDs})
		}
		if err := ledger.Ship(ctx, tx, sh); err != nil {
			return nil, err
		}
		return map[string]any{"leg": 1, "vehicle_plate": m.Carriers[0].VehiclePlate}, nil
	})
}

// Handover is the next carrier of a multi-leg journey (联运) taking over.
func (s *Service) Handover(ctx context.Context, p auth.Principal, id string, version int64) (Manifest, error) {
	return s.transit(ctx, p, id, version, "handover", func(tx *store.Tx, m *Manifest) (any, error) {
		next := nextLeg(*m)
		if next < 0 {
			return nil, errs.E(errs.Conflict, "invalid_transition", "所有承运单位均已接运")
		}
		if !legOK(p, *m, "handover") {
			return nil, errs.E(errs.Forbidden, "not_the_party", "只有下一程承运单位可以接运")
		}
		if _, err := store.Exec(ctx, tx, `UPDATE manifest_carriers SET picked_up_at = ? WHERE manifest_id = ? AND leg = ?`,
			tx.Now, m.ID, m.Carriers[next].Leg); err != nil {
			return nil, err
		}
		m.Carriers[next].PickedUpAt = at(tx.Now)
		return map[string]any{"leg": m.Carriers[next].Leg, "vehicle_plate": m.Carriers[next].VehiclePlate}, nil
	})
}

// Deliver is the last carrier reporting arrival at the receiver; the
// receipt deadline runs from here.
func (s *Service) Deliver(ctx context.Context, p auth.Principal, id string, version int64) (Manifest, error) {
	return s.transit(ctx, p, id, version, "deliver", func(tx *store.Tx, m *Manifest) (any, error) {
		if m.ArrivedAt != nil {
			return nil, errs.E(errs.Conflict, "invalid_transition", "已报告运抵")
		}
		if !legOK(p, *m, "deliver") {
			return nil, errs.E(errs.Forbidden, "not_the_party", "只有最后一程已接运的承运单位可以报告运抵")
		}
		r, cal, err := rules(ctx, tx)
		if err != nil {
			return nil, err
		}
		m.ArrivedAt, m.ReceiptDueAt = at(tx.Now), at(cal.AddWorkingDays(tx.Now, r.ReceiptWorkingDays))
		return map[string]any{"receipt_due_at": m.ReceiptDueAt}, nil
	})
}

// ReceiptLine is the receiver's weighing and decision for one line. Without
// accepted_t and refused_t the line is accepted as weighed.
type ReceiptLine struct {
	LineNo    int      `json:"line_no" minimum:"1"`
	ReceivedT float64  `json:"received_t" minimum:"0" maximum:"100000"`
	AcceptedT *float64 `json:"accepted_t,omitempty" minimum:"0"`
	RefusedT  *float64 `json:"refused_t,omitempty" minimum:"0"`
	Reason    string   `json:"reason,omitempty" maxLength:"500" doc:"拒收原因（有拒收时必填）"`
}

// Receive records the receiver's weighing and acceptance, partial
// acceptance or refusal of every line. A weight off the declared one by more
// than the threshold raises weight_discrepancy; refused waste raises
// waste_refused. If nothing is accepted the manifest ends refused.
func (s *Service) Receive(ctx context.Context, p auth.Principal, id string, version int64, lines []ReceiptLine) (Manifest, error) {
	return s.transit(ctx, p, id, version, "receive", func(tx *store.Tx, m *Manifest) (any, error) {
		r, _, err := rules(ctx, tx)
		if err != nil {
			return nil, err
		}
		var v errs.Validation
		byNo := map[int]ReceiptLine{}
		for i, rl := range lines {
			if _, dup := byNo[rl.LineNo]; dup || rl.LineNo < 1 || rl.LineNo > len(m.Lines) {
				v.Add(fmt.Sprintf("lines[%d].line_no", i), "line_unknown", "行号不存在或重复")
				continue
			}
			byNo[rl.LineNo] = rl
		}
		var accepted, refused int64
		var discrepant []string
		for i := range m.Lines {
			l := &m.Lines[i]
			rl, ok := byNo[l.LineNo]
			f := fmt.Sprintf("lines[%d]", i)
			if !ok {
				v.Add("lines", "line_missing", fmt.Sprintf("第 %d 行缺少接收数量", l.LineNo))
				continue
			}
			rec, acc, ref, err := weigh(f, rl)
			if err != nil {
				var e *errs.Error
				if errors.As(err, &e) {
					for _, fe := range e.Fields {
						v.Add(fe.Field, fe.Code, fe.Message)
					}
					continue
				}
				return nil, err
			}
			l.ReceivedG, l.AcceptedG, l.RefusedG, l.RefusalReason = &rec, &acc, &ref, strings.TrimSpace(rl.Reason)
			accepted, refused = accepted+acc, refused+ref
			if diff := rec - l.QuantityG; float64(abs(diff)) > float64(l.QuantityG)*r.DiscrepancyPercent/100 {
				discrepant = append(discrepant, fmt.Sprintf("第 %d 行 %s 申报 %.3f 吨，实收 %.3f 吨（%+.1f%%）", l.LineNo,
					l.WasteCode, qty.Tonnes(l.QuantityG), qty.Tonnes(rec), float64(diff)*100/float64(l.QuantityG)))
			}
		}
		if err := v.Err(); err != nil {
			return nil, err
		}
		for _, l := range m.Lines {
			if _, err := store.Exec(ctx, tx, `UPDATE manifest_lines SET received_g = ?, accepted_g = ?, refused_g = ?,
				refusal_reason = ? WHERE manifest_id = ? AND line_no = ?`,
				*l.ReceivedG, *l.AcceptedG, *l.RefusedG, l.RefusalReason, m.ID, l.LineNo); err != nil {
				return nil, err
			}
		}
		if err := release(ctx, tx, m.Lines, func(l Line) int64 { return *l.RefusedG }); err != nil {
			return nil, err
		}
		m.Status, m.ReceivedAt = Received, at(tx.Now)
		if m.ArrivedAt == nil {
			m.ArrivedAt = at(tx.Now)
		}
		if accepted == 0 {
			m.Status, m.ClosedAt = Refused, at(tx.Now)
		}
		parties := []string{m.ConsignorUnitID, m.ReceiverUnitID}
		if len(discrepant) > 0 {
			if _, err := alerts.Raise(ctx, tx, alerts.Alert{Kind: "weight_discrepancy", Severity: alerts.Warning,
				Title: "联单 " + m.Number + " 实收重量与申报不符", Detail: strings.Join(discrepant, "；"), Subject: "manifest",
				SubjectID: m.ID, SubjectRef: m.Number, RegionCode: m.ReceiverRegionCode, UnitIDs: parties}); err != nil {
				return nil, err
			}
		}
		if refused > 0 {
			if _, err := alerts.Raise(ctx, tx, alerts.Alert{Kind: "waste_refused", Severity: alerts.Critical,
				Title: "联单 " + m.Number + " 有废物被拒收", Detail: fmt.Sprintf("拒收 %.3f 吨，须退回或另开联单转移", qty.Tonnes(refused)),
				Subject: "manifest", SubjectID: m.ID, SubjectRef: m.Number, RegionCode: m.RegionCode, UnitIDs: parties}); err != nil {
				return nil, err
			}
		}
		return map[string]any{"lines": m.Lines}, nil
	})
}

// weigh works out one line's received, accepted and refused grams.
func weigh(f string, rl ReceiptLine) (rec, acc, ref int64, err error) {
	if rec, err = qty.Grams(f+".received_t", rl.ReceivedT); err != nil {
		return
	}
	switch {
	case rl.AcceptedT == nil && rl.RefusedT == nil:
		acc = rec
	case rl.AcceptedT != nil:
		if acc, err = qty.Grams(f+".accepted_t", *rl.AcceptedT); err != nil {
			return
		}
		ref = rec - acc
		if rl.RefusedT != nil {
			var given int64
			if given, err = qty.Grams(f+".refused_t", *rl.RefusedT); err != nil {
				return
			}
			if given != ref {
				return 0, 0, 0, errs.Field(f+".refused_t", "quantities_mismatch", "接受量与拒收量之和须等于实收量")
			}
		}
	default:
		if ref, err = qty.Grams(f+".refused_t", *rl.RefusedT); err != nil {
			return
		}
		acc = rec - ref
	}
	if acc < 0 || ref < 0 {
		return 0, 0, 0, errs.Field(f+".accepted_t", "quantities_mismatch", "接受量与拒收量不能超过实收量")
	}
	if ref > 0 && strings.TrimSpace(rl.Reason) == "" {
		return 0, 0, 0, errs.Field(f+".reason", "required", "有拒收时须说明原因")
	}
	return rec, acc, ref, nil
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// CompletionLine is the method the receiver used for one line.
type CompletionLine struct {
	LineNo int    `json:"line_no" minimum:"1"`
	Method string `json:"method,omitempty" maxLength:"4" doc:"利用/处置方式代码，须在许可证范围内；仅收集贮存的接受单位可不填"`
}

// Complete records the method used for every accepted line; the method must
// be one the receiver's licence allows for that code. The consignor's
// outsourced ledger records are written from here.
func (s *Service) Complete(ctx context.Context, p auth.Principal, id string, version int64, lines []CompletionLine) (Manifest, error) {
	var licences []licence
	read := func(q store.Querier, m Manifest) (err error) {
		licences, err = receiverLicences(ctx, q, m.ReceiverUnitID, store.NowIn(ctx))
		return err
	}
	return s.transitWith(ctx, p, id, version, "complete", read, func(tx *store.Tx, m *Manifest) (any, error) {
		var v errs.Validation
		byNo := map[int]string{}
		for _, cl := range lines {
			byNo[cl.LineNo] = strings.ToUpper(strings.TrimSpace(cl.Method))
		}
		for i := range m.Lines {
			l := &m.Lines[i]
			if l.AcceptedG == nil || *l.AcceptedG == 0 {
				continue
			}
			method, ok := byNo[l.LineNo]
			f := fmt.Sprintf("lines[%d].method", i)
			switch {
			case (!ok || method == "") && collectOnly(licences, l.WasteCode):
				// A collector (收集、贮存) completes without a utilisation or disposal method.
			case !ok || method == "":
				v.Add(f, "required", fmt.Sprintf("第 %d 行须填写利用/处置方式", l.LineNo))
			case !covers(licences, l.WasteCode, method):
				v.Add(f, "method_not_licensed", "接受单位的许可证不允许以 "+method+" 方式利用/处置 "+l.WasteCode)
			default:
				l.Method = method
			}
		}
		if err := v.Err(); err != nil {
			return nil, err
		}
		licence := ""
		if len(licences) > 0 {
			licence = licences[0].Number
		}
		departed := m.CreatedAt
		if m.PickedUpAt != nil {
			departed = *m.PickedUpAt
		}
		for _, l := range m.Lines {
			if l.AcceptedG == nil || *l.AcceptedG == 0 {
				continue
			}
			if _, err := store.Exec(ctx, tx, `UPDATE manifest_lines SET method = ? WHERE manifest_id = ? AND line_no = ?`,
				l.Method, m.ID, l.LineNo); err != nil {
				return nil, err
			}
			if err := ledger.RecordOutsourced(ctx, tx, ledger.Outsourced{UnitID: m.ConsignorUnitID, ManifestID: m.ID,
				ManifestNumber: m.Number, LineNo: l.LineNo, WasteCode: l.WasteCode, OfficialName: l.OfficialName,
				QuantityG: *l.AcceptedG, Method: l.Method,
				ReceiverUnitID: m.ReceiverUnitID, ReceiverName: m.ReceiverName, LicenceNumber: licence, DepartedAt: departed,
				ContainerIDs: l.ContainerIDs, Actor: p.Actor()}); err != nil {
				return nil, err
			}
		}
		m.Status, m.CompletedAt = Completed, at(tx.Now)
		return map[string]any{"lines": m.Lines}, nil
	})
}
