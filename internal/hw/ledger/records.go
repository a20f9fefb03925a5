package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"wufei/internal/paging"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// Movement is what recording a stage after generation takes: into storage,
// out of storage, or in-house utilisation/disposal.
type Movement struct {
	PrevBatch    string     `json:"prev_batch,omitempty" maxLength:"40" doc:"上一环节批次编码：入库填产生批次，出库填入库批次，自行利用处置填产生或出库批次；给出容器时可省略"`
	ContainerIDs []string   `json:"container_ids,omitempty" maxItems:"999" doc:"容器数字识别码"`
	QuantityT    *float64   `json:"quantity_t,omitempty" doc:"数量（吨）；默认为所列容器重量之和"`
	FacilityCode string     `json:"facility_code,omitempty" maxLength:"40" doc:"入库：贮存设施；自行利用处置：利用或处置设施"`
	Method       string     `json:"method,omitempty" maxLength:"4" doc:"自行利用/处置方式代码"`
	Handler      string     `json:"handler,omitempty" maxLength:"100" doc:"经办人"`
	Destination  string     `json:"destination,omitempty" maxLength:"200" doc:"去向"`
	Note         string     `json:"note,omitempty" maxLength:"500"`
	OccurredAt   *time.Time `json:"occurred_at,omitempty" doc:"发生时间；默认为当前时间"`
}

// StoreIn records waste going into a storage facility (入库), linked to its
// generation batch; the containers named become stored.
func (s *Service) StoreIn(ctx context.Context, p auth.Principal, in Movement) (Record, error) {
	return s.move(ctx, p, KindStorageIn, in)
}

// StoreOut records waste leaving storage (出库) other than on a manifest,
// linked to its into-storage batch; the containers named are withdrawn.
func (s *Service) StoreOut(ctx context.Context, p auth.Principal, in Movement) (Record, error) {
	return s.move(ctx, p, KindStorageOut, in)
}

// InHouse records the unit's own utilisation or disposal (自行利用/处置),
// linked to a generation or out-of-storage batch; the containers named are
// treated.
func (s *Service) InHouse(ctx context.Context, p auth.Principal, in Movement) (Record, error) {
	return s.move(ctx, p, KindInHouse, in)
}

// from says, for each kind, which kinds of batch it may follow.
var from = map[Kind][]Kind{KindStorageIn: {KindGeneration}, KindStorageOut: {KindStorageIn}, KindInHouse: {KindGeneration, KindStorageOut}}

// sourceOf is the batch a container would leave for a record of kind k.
func sourceOf(k Kind, c Container) string {
	switch {
	case k == KindStorageIn:
		return c.GenerationBatch
	case k == KindStorageOut:
		return c.StorageBatch
	case c.Status == StatusWithdrawn:
		return c.OutBatch
	}
	return c.GenerationBatch
}

func (s *Service) move(ctx context.Context, p auth.Principal, kind Kind, in Movement) (Record, error) {
	var r Record
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		r, err = s.moveIn(ctx, tx, p, kind, in)
		return err
	})
	return r, err
}

// moveIn records a movement inside tx (a workbook import applies many).
func (s *Service) moveIn(ctx context.Context, tx *store.Tx, p auth.Principal, kind Kind, in Movement) (Record, error) {
	var r Record
	unitID, err := writer(p)
	if err != nil {
		return r, err
	}
	err = func() error {
		at, err := occurredAt(in.OccurredAt, tx.Now)
		if err != nil {
			return err
		}
		if err := lockUnit(ctx, tx, unitID); err != nil {
			return err
		}
		var v errs.Validation
		cs, err := unitContainers(ctx, tx, unitID, in.ContainerIDs)
		if err != nil {
			return err
		}
		// The stage before: named, or where all the containers come from.
		prev := strings.TrimSpace(in.PrevBatch)
		seen := map[string]bool{}
		for i, id := range in.ContainerIDs {
			f := fmt.Sprintf("container_ids[%d]", i)
			c, ok := cs[id]
			switch {
			case seen[id]:
				v.Add(f, "container_duplicate", "容器 "+clip(id)+" 重复")
			case !ok:
				v.Add(f, "container_unknown", "本单位没有数字识别码为 "+clip(id)+" 的容器")
			case prev == "":
				prev = sourceOf(kind, c)
			case sourceOf(kind, c) != prev:
				v.Add(f, "container_batch", "容器 "+id+" 不属于批次 "+clip(prev)+"；不同批次请分别记录")
			}
			seen[id] = true
		}
		if prev == "" && len(in.ContainerIDs) == 0 {
			v.Add("prev_batch", "required", "须填写上一环节批次编码或容器")
		}
		if err := v.Err(); err != nil {
			return err
		}
		src, err := batchRecord(ctx, tx, unitID, prev, "prev_batch")
		if err != nil {
			return err
		}
		switch {
		case !slices.Contains(from[kind], src.Kind):
			return errs.Field("prev_batch", "batch_kind", "批次 "+prev+" 不是本环节可衔接的上一环节")
		case src.Cancelled > 0:
			return errs.Field("prev_batch", "batch_cancelled", "批次 "+prev+" 已撤销")
		}
		// Each container must be where this stage takes it from.
		want := map[Kind]string{KindStorageIn: StatusGenerated, KindStorageOut: StatusStored, KindInHouse: StatusGenerated}[kind]
		if kind == KindInHouse && src.Kind == KindStorageOut {
			want = StatusWithdrawn
		}
		var sum int64
		for i, id := range in.ContainerIDs {
			if c := cs[id]; c.Status != want {
				v.Add(fmt.Sprintf("container_ids[%d]", i), "container_status", "容器 "+id+" 当前状态（"+c.Status+"）不能记入本环节")
			}
			sum += cs[id].QuantityG
		}
		g := sum
		if in.QuantityT != nil {
			if g, err = qty.Grams("quantity_t", *in.QuantityT); err != nil {
				return err
			}
		}
		if g <= 0 {
			v.Add("quantity_t", "quantity_positive", "数量须大于 0")
		}
		left, err := remaining(ctx, tx, src)
		if err != nil {
			return err
		}
		if g > left {
			v.Add("quantity_t", "quantity_exceeds_batch", fmt.Sprintf("批次 %s 剩余 %s 吨，不足本次数量", prev, tonnes(left)))
		}
		r = Record{UnitID: unitID, RegionCode: src.RegionCode, Kind: kind, PrevBatch: prev, OccurredAt: at,
			WasteCode: src.WasteCode, Category: src.Category, Name: src.Name, OfficialName: src.OfficialName, QuantityG: g,
			Packaging: src.Packaging, Handler: strings.TrimSpace(in.Handler), Destination: strings.TrimSpace(in.Destination),
			Note: strings.TrimSpace(in.Note), ContainerIDs: slices.Clone(in.ContainerIDs)}
		switch kind {
		case KindStorageIn:
			if in.FacilityCode == "" {
				v.Add("facility_code", "required", "须填写贮存设施编码")
			} else if _, err := checkFacility(ctx, tx, &v, "facility_code", unitID, in.FacilityCode, "storage"); err != nil {
				return err
			}
			r.FacilityCode = in.FacilityCode
		case KindStorageOut:
			if in.FacilityCode != "" && in.FacilityCode != src.FacilityCode {
				v.Add("facility_code", "facility_mismatch", "入库批次 "+prev+" 在设施 "+src.FacilityCode+"，不在 "+clip(in.FacilityCode))
			}
			r.FacilityCode = src.FacilityCode
		case KindInHouse:
			r.FacilityCode, r.Method = in.FacilityCode, strings.TrimSpace(in.Method)
			if err := checkTreatment(ctx, tx, &v, unitID, r.FacilityCode, r.Method); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := insert(ctx, tx, p.Actor(), &r, nil); err != nil {
			return err
		}
		return s.moved(ctx, tx, r, src)
	}()
	return r, err
}

// moved applies a new record to the stock and its containers.
func (s *Service) moved(ctx context.Context, tx *store.Tx, r Record, src Record) error {
	var set string
	var args []any
	switch r.Kind {
	case KindStorageIn:
		if _, err := store.Exec(ctx, tx, `INSERT INTO ledger_stock (record_id, unit_id, region_code, facility_code, waste_code,
			batch_code, stored_at, remaining_g) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.UnitID, r.RegionCode, r.FacilityCode,
			r.WasteCode, r.BatchCode, r.OccurredAt, r.QuantityG); err != nil {
			return err
		}
		set, args = `status = ?, storage_batch = ?, storage_facility = ?, stored_at = ?`,
			[]any{StatusStored, r.BatchCode, r.FacilityCode, r.OccurredAt}
	case KindStorageOut:
		if err := takeStock(ctx, tx, src.ID, r.QuantityG, "quantity_t"); err != nil {
			return err
		}
		set, args = `status = ?, out_batch = ?`, []any{StatusWithdrawn, r.BatchCode}
	case KindInHouse:
		set, args = `status = ?`, []any{StatusTreated}
	}
	return setContainers(ctx, tx, r.UnitID, r.ContainerIDs, set, args...)
}

// setContainers updates containers of a unit.
func setContainers(ctx context.Context, tx *store.Tx, unitID string, ids []string, set string, args ...any) error {
	if len(ids) == 0 {
		return nil
	}
	query, qargs, err := store.In(`UPDATE containers SET `+set+`, updated_at = ?, version = version + 1
		WHERE unit_id = ? AND digital_id IN (?)`, append(args, tx.Now, unitID, ids)...)
	if err != nil {
		return err
	}
	_, err = store.Exec(ctx, tx, query, qargs...)
	return err
}

// checkTreatment checks an in-house record's facility and method: a
// utilisation or disposal facility of the unit, and a listed method that
// is the facility's own when it names one.
func checkTreatment(ctx context.Context, q store.Querier, v *errs.Validation, unitID, code, method string) error {
	if code == "" {
		v.Add("facility_code", "required", "须填写利用或处置设施编码")
	}
	var known int
	if err := store.Get(ctx, q, &known, `SELECT count(*) FROM methods WHERE code = ?`, method); err != nil {
		return err
	}
	if known == 0 {
		v.Add("method", "method_unknown", "利用处置方式代码不存在: "+clip(method))
	}
	if code == "" {
		return nil
	}
	f, err := checkFacility(ctx, q, v, "facility_code", unitID, code, "utilisation", "disposal")
	if err != nil {
		return err
	}
	if f.Method != "" && known > 0 && f.Method != method {
		v.Add("method", "method_facility_mismatch", "设施 "+f.Code+" 登记的方式是 "+f.Method)
	}
	return nil
}

// Correction changes the quantity of a record (调整), keeping the original.
type Correction struct {
	QuantityT float64 `json:"quantity_t" doc:"更正后的数量（吨）"`
	Reason    string  `json:"reason" minLength:"1" maxLength:"500" doc:"更正原因"`
}

// Correct records an adjustment (调整) of a record's quantity. The record
// stays as it was; totals count the adjustment with it.
func (s *Service) Correct(ctx context.Context, p auth.Principal, recordID string, c Correction) (Record, error) {
	g, err := qty.Grams("quantity_t", c.QuantityT)
	if err != nil {
		return Record{}, err
	}
	if g <= 0 {
		return Record{}, errs.Field("quantity_t", "quantity_positive", "更正后的数量须大于 0；作废请用撤销")
	}
	return s.correct(ctx, p, recordID, g, false, c.Reason)
}

// Cancel records a cancellation (撤销) of a record: its quantity no longer
// counts and its containers go back to where they were. A record that
// later stages take from cannot be cancelled until they are.
func (s *Service) Cancel(ctx context.Context, p auth.Principal, recordID, reason string) (Record, error) {
	return s.correct(ctx, p, recordID, 0, true, reason)
}

func (s *Service) correct(ctx context.Context, p auth.Principal, recordID string, g int64, cancel bool, reason string) (Record, error) {
	var out Record
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		orig, err := getRecord(ctx, tx, p, recordID)
		if err != nil {
			return err
		}
		switch {
		case !mayWrite(p, orig.UnitID):
			return errs.E(errs.Forbidden, "ledger_forbidden", "只有本单位的账号才能更正本单位的台账")
		case strings.TrimSpace(reason) == "":
			return errs.Field("reason", "required", "须写明更正原因")
		case orig.OriginID != orig.ID:
			return errs.E(errs.Conflict, "record_is_correction", "调整、撤销记录不能再更正，请更正原记录")
		case orig.ManifestID != "":
			return errs.E(errs.Conflict, "record_from_manifest", "由转移联单生成的记录只能随联单更正")
		case orig.Cancelled > 0:
			return errs.E(errs.Conflict, "record_cancelled", "该记录已撤销")
		}
		if err := lockUnit(ctx, tx, orig.UnitID); err != nil {
			return err
		}
		// Re-read under the lock: another correction may have just committed.
		if orig, err = batchRecord(ctx, tx, orig.UnitID, orig.BatchCode, "record_id"); err != nil {
			return err
		}
		delta := g - orig.EffectiveG
		if !cancel && delta == 0 {
			return errs.Field("quantity_t", "quantity_unchanged", "更正后的数量与原数量相同")
		}
		if orig.Cancelled > 0 {
			return errs.E(errs.Conflict, "record_cancelled", "该记录已撤销")
		}
		// Later stages must still fit in it…
		used, err := taken(ctx, tx, orig)
		if err != nil {
			return err
		}
		if g < used {
			if cancel {
				return errs.E(errs.Conflict, "record_has_successors", "已有后续环节记录引用该批次，请先撤销后续记录")
			}
			return errs.Field("quantity_t", "quantity_below_downstream", fmt.Sprintf("后续环节已记录 %s 吨，更正后的数量不能更少", tonnes(used)))
		}
		// …and it in the stage before.
		if err := s.rebalance(ctx, tx, orig, delta); err != nil {
			return err
		}
		if cancel {
			if err := restore(ctx, tx, orig); err != nil {
				return err
			}
		}
		kind := KindAdjustment
		if cancel {
			kind = KindCancellation
		}
		out = Record{OriginID: orig.ID, UnitID: orig.UnitID, RegionCode: orig.RegionCode, Kind: kind, EffectKind: orig.Kind,
			PrevBatch: orig.PrevBatch, CorrectsBatch: orig.BatchCode, OccurredAt: orig.OccurredAt, WasteCode: orig.WasteCode,
			Category: orig.Category, Name: orig.Name, OfficialName: orig.OfficialName, QuantityG: g, DeltaG: delta,
			Packaging: orig.Packaging, FacilityCode: orig.FacilityCode, Handler: p.Username, Method: orig.Method,
			Note: strings.TrimSpace(reason)}
		return insert(ctx, tx, p.Actor(), &out, map[string]any{"before_t": qty.Tonnes(orig.EffectiveG), "after_t": qty.Tonnes(g)})
	})
	return out, err
}

// rebalance applies a change of delta grams in record r to what it takes
// from the stage before, and to the stock when r is an into-storage record.
func (s *Service) rebalance(ctx context.Context, tx *store.Tx, r Record, delta int64) error {
	switch r.Kind {
	case KindStorageIn:
		if err := takeStock(ctx, tx, r.ID, -delta, "quantity_t"); err != nil {
			return errs.Field("quantity_t", "quantity_below_downstream", "该入库批次已部分出库，更正后的数量不能少于已出库量")
		}
	case KindStorageOut:
		src, err := batchRecord(ctx, tx, r.UnitID, r.PrevBatch, "prev_batch")
		if err != nil {
			return err
		}
		return takeStock(ctx, tx, src.ID, delta, "quantity_t")
	}
	if delta <= 0 || r.PrevBatch == "" || r.Kind == KindGeneration {
		return nil
	}
	src, err := batchRecord(ctx, tx, r.UnitID, r.PrevBatch, "prev_batch")
	if err != nil {
		return err
	}
	left, err := remaining(ctx, tx, src)
	if err != nil {
		return err
	}
	if delta > left {
		return errs.Field("quantity_t", "quantity_exceeds_batch", fmt.Sprintf("批次 %s 只剩 %s 吨", src.BatchCode, tonnes(left)))
	}
	return nil
}

// restore puts the containers of a cancelled record back where they were
// before it; containers that have since moved on block the cancellation.
func restore(ctx context.Context, tx *store.Tx, r Record) error {
	if len(r.ContainerIDs) == 0 {
		return nil
	}
	cs, err := unitContainers(ctx, tx, r.UnitID, r.ContainerIDs)
	if err != nil {
		return err
	}
	want := map[Kind]string{KindGeneration: StatusGenerated, KindStorageIn: StatusStored, KindStorageOut: StatusWithdrawn,
		KindInHouse: StatusTreated}[r.Kind]
	for _, id := range r.ContainerIDs {
		if c := cs[id]; c.Status != want {
			return errs.E(errs.Conflict, "containers_moved", "容器 "+id+" 已进入后续环节，不能撤销本记录")
		}
	}
	switch r.Kind {
	case KindGeneration:
		return setContainers(ctx, tx, r.UnitID, r.ContainerIDs, `status = ?`, StatusCancelled)
	case KindStorageIn:
		return setContainers(ctx, tx, r.UnitID, r.ContainerIDs, `status = ?, storage_batch = '', storage_facility = '', stored_at = NULL`,
			StatusGenerated)
	case KindStorageOut:
		return setContainers(ctx, tx, r.UnitID, r.ContainerIDs, `status = ?, out_batch = ''`, StatusStored)
	case KindInHouse:
		var back, fresh []string
		for _, id := range r.ContainerIDs {
			if cs[id].OutBatch != "" {
				back = append(back, id)
			} else {
				fresh = append(fresh, id)
			}
		}
		if err := setContainers(ctx, tx, r.UnitID, back, `status = ?`, StatusWithdrawn); err != nil {
			return err
		}
		return setContainers(ctx, tx, r.UnitID, fresh, `status = ?`, StatusGenerated)
	}
	return nil
}

// RecordFilter narrows a ledger list.
type RecordFilter struct {
	UnitID       string
	Kind         string
	WasteCode    string
	Batch        string // the record's own batch code or the one it links to
	FacilityCode string
	From, To     time.Time // occurred in [From, To); zero for open
	Limit        int
	After        string // cursor from the previous page
}

// ListRecords lists the ledger records the principal may see, newest first.
func (s *Service) ListRecords(ctx context.Context, p auth.Principal, f RecordFilter) (Page[Record], error) {
	cond, args := scope(p, "r")
	where := []string{cond}
	if f.Kind != "" && !slices.Contains(Kinds, Kind(f.Kind)) {
		return Page[Record]{}, errs.Field("kind", "kind_unknown", "未知台账类型")
	}
	for _, x := range []struct{ col, v string }{{"r.unit_id", f.UnitID}, {"r.kind", f.Kind}, {"r.waste_code", f.WasteCode},
		{"r.facility_code", f.FacilityCode}} {
		if x.v != "" {
			where = append(where, x.col+" = ?")
			args = append(args, x.v)
		}
	}
	if f.Batch != "" {
		where = append(where, "(r.batch_code = ? OR r.prev_batch = ? OR r.corrects_batch = ?)")
		args = append(args, f.Batch, f.Batch, f.Batch)
	}
	if !f.From.IsZero() {
		where = append(where, "r.occurred_at >= ?")
		args = append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		where = append(where, "r.occurred_at < ?")
		args = append(args, f.To.UTC())
	}
	limit, after, err := paging.Args(f.Limit, f.After)
	if err != nil {
		return Page[Record]{}, err
	}
	if after != "" {
		where = append(where, "r.id < ?")
		args = append(args, after)
	}
	var items []Record
	if err := store.Select(ctx, s.db.Reader(), &items, `SELECT `+recordColumns+` FROM ledger_records r WHERE `+
		strings.Join(where, " AND ")+` ORDER BY r.id DESC LIMIT `+itoa(limit+1), args...); err != nil {
		return Page[Record]{}, err
	}
	page := paging.Of(items, limit, func(r Record) string { return r.ID })
	ptrs := make([]*Record, len(page.Items))
	for i := range page.Items {
		ptrs[i] = &page.Items[i]
	}
	return page, fill(ctx, s.db.Reader(), ptrs)
}

// GetRecord returns a ledger record the principal may see.
func (s *Service) GetRecord(ctx context.Context, p auth.Principal, id string) (Record, error) {
	return getRecord(ctx, s.db.Reader(), p, id)
}

func getRecord(ctx context.Context, q store.Querier, p auth.Principal, id string) (Record, error) {
	cond, args := scope(p, "r")
	var r Record
	err := store.Get(ctx, q, &r, `SELECT `+recordColumns+` FROM ledger_records r WHERE r.id = ? AND `+cond,
		append([]any{id}, args...)...)
	if errors.Is(err, store.ErrNotFound) {
		return r, errs.E(errs.NotFound, "record_not_found", "台账记录不存在或无权查看")
	}
	if err != nil {
		return r, err
	}
	return r, fill(ctx, q, []*Record{&r})
}

// tonnes formats grams as tonnes for messages.
func tonnes(g int64) string { return strconv.FormatFloat(qty.Tonnes(g), 'f', -1, 64) }
