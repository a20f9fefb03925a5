package ledger

import (
	"context"
	"errors"
	"iter"
	"strings"
	"time"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/exchange"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// ExchangeName is the ledger's kind in workbook imports and exports.
const ExchangeName = "hw_ledger"

// kindLabels are the record kinds as a workbook names them.
var kindLabels = map[Kind]string{KindGeneration: "产生", KindStorageIn: "入库", KindStorageOut: "出库", KindInHouse: "自行利用处置",
	KindOutsourced: "委托利用处置", KindAdjustment: "调整", KindCancellation: "撤销"}

// kindOf reads a record kind from its label or its English key.
func kindOf(s string) (Kind, bool) {
	s = strings.NewReplacer("/", "", "／", "", "、", "", " ", "").Replace(strings.TrimSpace(s))
	for k, l := range kindLabels {
		if s == l || strings.EqualFold(s, string(k)) {
			return k, true
		}
	}
	return "", false
}

// Exchange is the HJ 1259 ledger of the caller's unit as a workbook: one
// row per record. Generation, into-storage, out-of-storage and in-house
// records are imported through the same checks as the API; outsourced
// records (written from manifests) and corrections are exported only. A
// row is known again by its batch code or by the unit's own reference
// (自编号), so an export or a second import changes nothing.
type Exchange struct{ db *store.DB }

// NewExchange returns the ledger's exchange kind on db.
func NewExchange(db *store.DB) *Exchange { return &Exchange{db: db} }

func (x *Exchange) Name() string  { return ExchangeName }
func (x *Exchange) Title() string { return "危险废物管理台账" }

func (x *Exchange) Columns(ctx context.Context) ([]exchange.Column, error) {
	var codes, methods []string
	if err := store.Select(ctx, x.db.Reader(), &codes, `SELECT code FROM waste_codes ORDER BY code`); err != nil {
		return nil, err
	}
	if err := store.Select(ctx, x.db.Reader(), &methods, `SELECT code FROM methods ORDER BY LENGTH(code), code`); err != nil {
		return nil, err
	}
	kinds := make([]string, 0, len(Kinds))
	for _, k := range Kinds {
		kinds = append(kinds, kindLabels[k])
	}
	return []exchange.Column{
		{Key: "batch_code", Header: "批次编码", Example: "", Note: "由平台编号；新记录留空，导出的记录带有批次编码"},
		{Key: "ref", Header: "自编号", Example: "2026-CS-001", Note: "本单位自编的记录号，新记录必填；再次导入时据此识别同一条记录，不会重复登记"},
		{Key: "unit_uscc", Header: "单位统一社会信用代码", Note: "本单位账号导入时可留空；填写时须为本单位"},
		{Key: "kind", Header: "记录类型", Required: true, Choices: kinds, Example: "产生",
			Note: "产生、入库、出库、自行利用处置可导入；委托利用处置由转移联单生成，调整、撤销在台账页面办理，仅导出"},
		{Key: "occurred_at", Header: "发生时间", Required: true, Example: "2026-01-06 09:30", Note: "北京时间，如 2026-01-06 或 2026-01-06 09:30"},
		{Key: "prev_batch", Header: "上一环节批次", Example: "",
			Note: "入库填产生批次，出库填入库批次，自行利用处置填产生或出库批次；也可填本表或此前导入的上一环节记录的自编号"},
		{Key: "waste_code", Header: "废物代码", Choices: codes, Example: "900-249-08", Note: "产生记录必填，格式 ddd-ddd-dd；其他环节取自上一环节，填写时须一致"},
		{Key: "name", Header: "废物名称", Example: "废矿物油", Note: "单位内部名称；缺省为名录名称"},
		{Key: "form", Header: "物理性状", Choices: Forms, Example: "L", Note: "产生记录必填：S 固态、SS 半固态、L 液态、G 气态；台账不保存，导出为空"},
		{Key: "quantity_t", Header: "数量（吨）", Required: true, Example: "1.25", Note: "吨，最多 6 位小数"},
		{Key: "packaging", Header: "容器/包装类型", Example: "铁桶"},
		{Key: "facility_code", Header: "设施编码", Example: "SC001",
			Note: "产生：产生设施（选填）；入库：贮存设施（必填）；自行利用处置：利用或处置设施（必填）；须为本单位登记的设施"},
		{Key: "method", Header: "利用处置方式", Choices: methods, Note: "自行利用处置必填，如 R9、D10"},
		{Key: "handler", Header: "经办人", Example: "王建国"},
		{Key: "destination", Header: "去向"},
		{Key: "note", Header: "备注"},
		{Key: "receiver", Header: "接受单位", Note: "委托利用处置记录的接受单位，仅导出"},
		{Key: "manifest_number", Header: "转移联单编号", Note: "委托利用处置记录的联单编号，仅导出"},
	}, nil
}

// fields maps the service's field names to columns.
var fields = map[string]string{"prev_batch": "prev_batch", "quantities_t": "quantity_t", "count": "quantity_t",
	"volume_l": "packaging", "remark": "note", "record_id": "batch_code", "container_ids": "prev_batch"}

func (x *Exchange) Import(ctx context.Context, p auth.Principal, rows iter.Seq2[exchange.Row, error]) (exchange.Result, []exchange.RowError, error) {
	cols, err := x.Columns(ctx)
	if err != nil {
		return exchange.Result{}, nil, err
	}
	units := map[string]unitInfo{}
	return exchange.Apply(ctx, x.db, ExchangeName, rows, fields, func(ctx context.Context, tx *store.Tx, r exchange.Row) (exchange.Outcome, error) {
		return x.importRow(ctx, tx, p, exchange.ByKey(cols, r), units)
	})
}

// importRow finds the record a row names and compares it, or writes a new one.
func (x *Exchange) importRow(ctx context.Context, tx *store.Tx, p auth.Principal, c exchange.Cells, units map[string]unitInfo) (exchange.Outcome, error) {
	r := c.Row
	u, err := rowUnit(ctx, tx, p, c.Get("unit_uscc"), units)
	if e := (*errs.Error)(nil); errors.As(err, &e) {
		return 0, exchange.Cell(r, "unit_uscc", e.Code, e.Message)
	} else if err != nil {
		return 0, err
	}
	kind, ok := kindOf(c.Get("kind"))
	if !ok {
		return 0, exchange.Cell(r, "kind", "kind_unknown", "未知的记录类型“"+clip(c.Get("kind"))+"”")
	}
	batch, ref := c.Get("batch_code"), c.Get("ref")
	// A row already stored: by batch code, else by the unit's reference.
	var found *exportRow
	if batch != "" {
		e, err := exportRowBy(ctx, tx, p, `r.unit_id = ? AND r.batch_code = ?`, u.ID, batch)
		if err != nil {
			return 0, err
		}
		if e == nil {
			return 0, exchange.Cell(r, "batch_code", "batch_unknown", "本单位没有批次 "+clip(batch)+"；新记录请将批次编码留空")
		}
		found = e
	} else if ref != "" && u.ID != "" {
		id, err := exchange.Ref(ctx, tx, ExchangeName, u.ID, ref)
		if err != nil {
			return 0, err
		}
		if id != "" {
			if found, err = exportRowBy(ctx, tx, p, `r.id = ?`, id); err != nil {
				return 0, err
			}
		}
	}
	if found != nil {
		// The row may name the stage before by its reference.
		if prev := c.Get("prev_batch"); prev != "" && prev != found.PrevBatch {
			b, err := refBatch(ctx, tx, u.ID, prev)
			if err != nil {
				return 0, err
			}
			if b != "" {
				c = c.With("prev_batch", b)
			}
		}
		if col, was, got := differs(c, found.cells(), kindLabels[kind]); col != "" {
			return 0, exchange.Cell(r, col, "record_immutable",
				"台账记录不能修改（已登记为“"+clip(was)+"”，导入的是“"+clip(got)+"”）；更正请在台账中做调整或撤销")
		}
		return exchange.Unchanged, nil
	}
	switch kind {
	case KindOutsourced:
		return 0, exchange.Cell(r, "kind", "kind_export_only", "委托利用处置记录由转移联单生成，不能导入")
	case KindAdjustment, KindCancellation:
		return 0, exchange.Cell(r, "kind", "kind_export_only", "调整、撤销须在台账页面针对原记录办理，不能导入")
	}
	if !mayWrite(p, p.UnitID) {
		return 0, exchange.Cell(r, "", "ledger_forbidden", "只有本单位的账号才能填写本单位的台账")
	}
	if ref == "" {
		return 0, exchange.Cell(r, "ref", "required", "新记录须填写自编号，再次导入时据此识别")
	}
	var v errs.Validation
	at, ok := exchange.ParseTime(c.Get("occurred_at"))
	if !ok {
		v.Add("occurred_at", "time_format", "发生时间应写作 2026-01-06 或 2026-01-06 09:30")
	}
	g, ok := exchange.ParseTonnes(c.Get("quantity_t"))
	if !ok || g == 0 {
		v.Add("quantity_t", "quantity_positive", "数量须为大于 0 的吨数，最多 6 位小数")
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	t := qty.Tonnes(g)
	var rec Record
	switch kind {
	case KindGeneration:
		out, err := recordGeneration(ctx, tx, p, NewGeneration{WasteCode: c.Get("waste_code"), Name: c.Get("name"),
			Form: strings.ToUpper(c.Get("form")), Packaging: c.Get("packaging"), QuantityT: t, FacilityCode: c.Get("facility_code"),
			Handler: c.Get("handler"), Destination: c.Get("destination"), Remark: c.Get("note"), OccurredAt: &at})
		if err != nil {
			return 0, err
		}
		rec = out.Record
	default:
		prev := c.Get("prev_batch")
		if prev != "" {
			// The stage before may be named by its reference.
			b, err := refBatch(ctx, tx, u.ID, prev)
			if err != nil {
				return 0, err
			}
			if b != "" {
				prev = b
			}
		}
		if prev == "" {
			return 0, exchange.Cell(r, "prev_batch", "required", "须填写上一环节批次编码或其自编号")
		}
		svc := &Service{db: x.db}
		if rec, err = svc.moveIn(ctx, tx, p, kind, Movement{PrevBatch: prev, QuantityT: &t, FacilityCode: c.Get("facility_code"),
			Method: c.Get("method"), Handler: c.Get("handler"), Destination: c.Get("destination"), Note: c.Get("note"),
			OccurredAt: &at}); err != nil {
			return 0, err
		}
		if code := c.Get("waste_code"); code != "" && code != rec.WasteCode {
			return 0, exchange.Cell(r, "waste_code", "waste_code_mismatch", "上一环节批次的废物代码是 "+rec.WasteCode+"，不是 "+clip(code))
		}
		if name := c.Get("name"); name != "" && name != rec.Name {
			return 0, exchange.Cell(r, "name", "name_mismatch", "上一环节批次的废物名称是“"+rec.Name+"”")
		}
	}
	if err := exchange.SaveRef(ctx, tx, ExchangeName, rec.UnitID, ref, rec.ID); err != nil {
		if errors.Is(err, store.ErrExists) {
			return 0, exchange.Cell(r, "ref", "ref_duplicate", "自编号 "+clip(ref)+" 已用于本单位的另一条记录")
		}
		return 0, err
	}
	return exchange.Inserted, nil
}

// refBatch is the batch code of the unit's record that ref names, or "".
func refBatch(ctx context.Context, q store.Querier, unitID, ref string) (string, error) {
	id, err := exchange.Ref(ctx, q, ExchangeName, unitID, ref)
	if err != nil || id == "" {
		return "", err
	}
	var b string
	err = store.Get(ctx, q, &b, `SELECT batch_code FROM ledger_records WHERE id = ?`, id)
	return b, err
}

// rowUnit is the unit a row is about: the caller's own for unit accounts,
// else the one the USCC names, which must be in the caller's view.
func rowUnit(ctx context.Context, q store.Querier, p auth.Principal, uscc string, cache map[string]unitInfo) (unitInfo, error) {
	uscc = strings.ToUpper(uscc)
	if p.Role.BoundToUnit() {
		u, ok := cache[p.UnitID]
		if !ok {
			var err error
			if u, err = loadUnit(ctx, q, p.UnitID); err != nil {
				return u, err
			}
			cache[p.UnitID] = u
		}
		if uscc != "" && uscc != u.USCC {
			return u, errs.E(errs.Invalid, "unit_not_own", "只能导入本单位（"+u.USCC+"）的台账")
		}
		return u, nil
	}
	if uscc == "" {
		return unitInfo{}, errs.E(errs.Invalid, "required", "须填写单位统一社会信用代码")
	}
	if u, ok := cache[uscc]; ok {
		return u, nil
	}
	var u unitInfo
	err := store.Get(ctx, q, &u, `SELECT id, uscc, name, region_code FROM units WHERE uscc = ?`, uscc)
	if errors.Is(err, store.ErrNotFound) {
		return u, errs.E(errs.NotFound, "unit_not_found", "没有统一社会信用代码为 "+clip(uscc)+" 的单位或无权查看")
	}
	if err != nil {
		return u, err
	}
	cache[uscc] = u
	return u, nil
}

// exportRow is a ledger record as a workbook row.
type exportRow struct {
	BatchCode      string    `db:"batch_code"`
	Ref            string    `db:"ref"`
	USCC           string    `db:"uscc"`
	Kind           Kind      `db:"kind"`
	OccurredAt     time.Time `db:"occurred_at"`
	PrevBatch      string    `db:"prev_batch"`
	CorrectsBatch  string    `db:"corrects_batch"`
	WasteCode      string    `db:"waste_code"`
	Name           string    `db:"name"`
	QuantityG      int64     `db:"quantity_g"`
	Packaging      string    `db:"packaging"`
	FacilityCode   string    `db:"facility_code"`
	Method         string    `db:"method"`
	Handler        string    `db:"handler"`
	Destination    string    `db:"destination"`
	Note           string    `db:"note"`
	ReceiverName   string    `db:"receiver_name"`
	ManifestNumber string    `db:"manifest_number"`
}

const exportQuery = `SELECT r.batch_code, COALESCE(x.ref, '') AS ref, u.uscc, r.kind, r.occurred_at, r.prev_batch, r.corrects_batch,
	r.waste_code, r.name, r.quantity_g, r.packaging, r.facility_code, r.method, r.handler, r.destination, r.note,
	r.receiver_name, r.manifest_number
	FROM ledger_records r JOIN units u ON u.id = r.unit_id
	LEFT JOIN exchange_refs x ON x.kind = 'hw_ledger' AND x.entity_id = r.id`

// cells is the row in the Columns order.
func (e *exportRow) cells() []string {
	prev := e.PrevBatch
	if e.CorrectsBatch != "" {
		prev = e.CorrectsBatch
	}
	return []string{e.BatchCode, e.Ref, e.USCC, kindLabels[e.Kind], exchange.Time(e.OccurredAt), prev, e.WasteCode, e.Name, "",
		exchange.Tonnes(e.QuantityG), e.Packaging, e.FacilityCode, e.Method, e.Handler, e.Destination, e.Note, e.ReceiverName,
		e.ManifestNumber}
}

// exportRowBy reads one record the principal may see, or nil.
func exportRowBy(ctx context.Context, q store.Querier, p auth.Principal, where string, args ...any) (*exportRow, error) {
	cond, sargs := scope(p, "r")
	var e exportRow
	err := store.Get(ctx, q, &e, exportQuery+` WHERE `+where+` AND `+cond, append(args, sargs...)...)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return &e, err
}

// differs compares the cells a row gives with a stored record's: a blank
// cell keeps what is stored. It returns the first column that differs.
func differs(c exchange.Cells, stored []string, kindLabel string) (col, was, got string) {
	keys := []string{"batch_code", "ref", "unit_uscc", "kind", "occurred_at", "prev_batch", "waste_code", "name", "form",
		"quantity_t", "packaging", "facility_code", "method", "handler", "destination", "note", "receiver", "manifest_number"}
	for i, k := range keys {
		v := c.Get(k)
		if v == "" || k == "form" { // the ledger keeps no form; the containers do
			continue
		}
		switch k {
		case "kind":
			v = kindLabel
		case "unit_uscc":
			v = strings.ToUpper(v)
		case "occurred_at":
			if t, ok := exchange.ParseTime(v); ok {
				v = exchange.Time(t)
			}
		case "quantity_t":
			if g, ok := exchange.ParseTonnes(v); ok {
				v = exchange.Tonnes(g)
			}
		}
		if v != stored[i] {
			return k, stored[i], v
		}
	}
	return "", "", ""
}

func (x *Exchange) Export(ctx context.Context, p auth.Principal, year int, emit func(cells []string) error) error {
	from, to := exchange.Year(year)
	cond, args := scope(p, "r")
	rows, err := x.db.Reader().QueryxContext(ctx, x.db.Reader().Rebind(exportQuery+` WHERE `+cond+
		` AND r.occurred_at >= ? AND r.occurred_at < ? ORDER BY r.unit_id, r.occurred_at, r.id`), append(args, from, to)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var e exportRow
	for rows.Next() {
		if err := rows.StructScan(&e); err != nil {
			return err
		}
		if err := emit(e.cells()); err != nil {
			return err
		}
	}
	return rows.Err()
}
