package manifest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/exchange"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// ExchangeName is the manifests' kind in workbook imports and exports.
const ExchangeName = "hw_manifest"

var statusLabels = map[Status]string{Draft: "草稿", Submitted: "已提交", InTransit: "运输中", Received: "已接收",
	Completed: "已完成", Cancelled: "已作废", Refused: "已拒收"}

// Exchange is the manifests a caller may see as a workbook, one row per
// manifest line. Importing creates draft manifests through the same checks
// as POST /api/v1/manifests: the rows of one manifest share the
// consignor's own reference (自编号). A manifest already stored, named by
// its reference or its number, is compared: rows that match change
// nothing, a draft that differs is replaced, and a submitted (signed)
// manifest is never altered by a workbook.
type Exchange struct {
	db  *store.DB
	svc *Service
}

// NewExchange returns the manifests' exchange kind on db.
func NewExchange(db *store.DB) *Exchange { return &Exchange{db: db, svc: NewService(db)} }

func (x *Exchange) Name() string  { return ExchangeName }
func (x *Exchange) Title() string { return "危险废物转移联单" }

// manifestKeys are the columns that belong to the manifest, not the line:
// every row of one manifest gives the same.
var manifestKeys = []string{"number", "consignor_uscc", "receiver_uscc", "carrier_uscc", "vehicle_plate", "emergency_measures", "note"}

// exportOnly are columns the export fills for reading; import ignores them.
var exportOnly = []string{"status", "consignor_name", "receiver_name", "received_t", "method"}

func (x *Exchange) Columns(ctx context.Context) ([]exchange.Column, error) {
	var codes []string
	if err := store.Select(ctx, x.db.Reader(), &codes, `SELECT code FROM waste_codes ORDER BY code`); err != nil {
		return nil, err
	}
	return []exchange.Column{
		{Key: "ref", Header: "自编号", Example: "ZY-2026-001",
			Note: "移出单位自编的联单号，新联单必填；同一联单的多种废物各占一行、自编号相同；再次导入时据此识别"},
		{Key: "number", Header: "联单编号", Note: "平台编号，新联单留空；导出的联单带有编号"},
		{Key: "status", Header: "状态", Note: "仅导出"},
		{Key: "consignor_uscc", Header: "移出单位统一社会信用代码", Note: "选填；填写时须为本单位"},
		{Key: "consignor_name", Header: "移出单位", Note: "仅导出"},
		{Key: "receiver_uscc", Header: "接受单位统一社会信用代码", Required: true, Example: "91340604MA2N0DSP3Q",
			Note: "持证的收集、利用或处置单位"},
		{Key: "receiver_name", Header: "接受单位", Note: "仅导出"},
		{Key: "carrier_uscc", Header: "承运单位统一社会信用代码", Required: true, Example: "91340603MA2MWYCX5B",
			Note: "多家联运时按顺序以分号分隔"},
		{Key: "vehicle_plate", Header: "车牌号", Required: true, Example: "皖F12345", Note: "多家联运时按顺序以分号分隔，与承运单位一一对应"},
		{Key: "line_no", Header: "行号", Example: "1", Note: "废物在联单中的顺序；缺省按工作表中的顺序"},
		{Key: "waste_code", Header: "废物代码", Required: true, Choices: codes, Example: "900-249-08"},
		{Key: "name", Header: "废物名称", Example: "废矿物油", Note: "单位内部名称；缺省为名录名称"},
		{Key: "quantity_t", Header: "数量（吨）", Required: true, Example: "2.5", Note: "吨，最多 6 位小数"},
		{Key: "form", Header: "物理性状", Required: true, Choices: []string{"S", "SS", "L", "G"}, Example: "L",
			Note: "S 固态、SS 半固态、L 液态、G 气态"},
		{Key: "characteristics", Header: "危险特性", Example: "T,I", Note: "T、C、I、R、In，以逗号分隔；缺省取名录"},
		{Key: "packaging", Header: "包装方式", Required: true, Example: "铁桶"},
		{Key: "package_count", Header: "包装数量", Required: true, Example: "10", Note: "整数"},
		{Key: "container_ids", Header: "容器数字识别码", Note: "选填，以分号分隔"},
		{Key: "emergency_measures", Header: "应急措施"},
		{Key: "note", Header: "备注"},
		{Key: "received_t", Header: "实收量（吨）", Note: "仅导出"},
		{Key: "method", Header: "利用处置方式", Note: "仅导出"},
	}, nil
}

// group is the rows of one manifest, in line order.
type group struct {
	key  string
	rows []exchange.Cells
}

func (x *Exchange) Import(ctx context.Context, p auth.Principal, rows iter.Seq2[exchange.Row, error]) (exchange.Result, []exchange.RowError, error) {
	cols, err := x.Columns(ctx)
	if err != nil {
		return exchange.Result{}, nil, err
	}
	all, err := exchange.Collect(rows)
	if err != nil {
		return exchange.Result{}, nil, err
	}
	res := exchange.Result{Kind: ExchangeName, Rows: len(all)}
	var bad []exchange.RowError
	// The rows of a manifest need not be next to each other.
	var groups []*group
	byKey := map[string]*group{}
	for _, r := range all {
		c := exchange.ByKey(cols, r)
		key := c.Get("ref")
		if key == "" && c.Get("number") != "" {
			key = "#" + c.Get("number")
		}
		if key == "" {
			bad = append(bad, exchange.RowError{Row: r.Num, Column: "ref", Code: "required", Reason: "新联单须填写自编号"})
			continue
		}
		g := byKey[key]
		if g == nil {
			g = &group{key: key}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, c)
	}
	var refused = errors.New("refused")
	err = x.db.Tx(ctx, func(tx *store.Tx) error {
		for _, g := range groups {
			var out exchange.Outcome
			err := exchange.Savepoint(ctx, tx, func() error {
				var err error
				out, err = x.importManifest(ctx, tx, p, g)
				return err
			})
			if err != nil {
				rb, ok := groupErrors(g, err)
				if !ok {
					return err
				}
				bad = append(bad, rb...)
				continue
			}
			res.Count(out, len(g.rows))
		}
		if len(bad) > 0 {
			return refused
		}
		return nil
	})
	if errors.Is(err, refused) {
		return exchange.Result{Kind: ExchangeName, Rows: len(all)}, bad, nil
	}
	if err != nil {
		return exchange.Result{}, nil, err
	}
	return res, nil, nil
}

// lineField finds the line of a validation error: lines[2].quantity_t.
var lineField = regexp.MustCompile(`^lines\[([0-9]+)\]\.`)

// fieldColumns maps the API's field names to columns.
var fieldColumns = map[string]string{"receiver_unit_id": "receiver_uscc", "carrier_unit_id": "carrier_uscc", "carriers": "carrier_uscc",
	"lines": "waste_code", "previous_id": "number"}

// groupErrors places each error of a manifest on the row of its line.
func groupErrors(g *group, err error) ([]exchange.RowError, bool) {
	var b exchange.Bad
	if errors.As(err, &b) {
		return b, true
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		return nil, false
	}
	first := g.rows[0].Row
	var out []exchange.RowError
	for _, fe := range e.Fields {
		row, field := first, fe.Field
		if m := lineField.FindStringSubmatch(field); m != nil {
			if i, _ := strconv.Atoi(m[1]); i < len(g.rows) {
				row = g.rows[i].Row
			}
			field = strings.TrimPrefix(field, m[0])
		}
		sub, ok := exchange.RowErrors(row, &errs.Error{Kind: e.Kind, Code: e.Code, Message: e.Message, Fields: []errs.FieldError{{Field: field,
			Code: fe.Code, Message: fe.Message}}}, fieldColumns)
		if !ok {
			return nil, false
		}
		out = append(out, sub...)
	}
	if len(e.Fields) == 0 {
		return exchange.RowErrors(first, err, fieldColumns)
	}
	return out, true
}

// importManifest compares or writes the manifest of one group of rows.
func (x *Exchange) importManifest(ctx context.Context, tx *store.Tx, p auth.Principal, g *group) (exchange.Outcome, error) {
	head := g.rows[0]
	for _, c := range g.rows[1:] {
		for _, k := range manifestKeys {
			if v := c.Get(k); v != "" && head.Get(k) != "" && !sameCell(k, v, head.Get(k)) {
				return 0, exchange.Cell(c.Row, k, "manifest_rows_disagree", "同一联单的各行“"+k+"”须一致（首行为“"+head.Get(k)+"”）")
			}
		}
	}
	if !slices.ContainsFunc(g.rows, func(c exchange.Cells) bool { return c.Get("line_no") == "" }) {
		slices.SortStableFunc(g.rows, func(a, b exchange.Cells) int { return cmpInt(a.Get("line_no"), b.Get("line_no")) })
	}
	owner, err := x.owner(ctx, tx, p, head)
	if err != nil {
		return 0, err
	}
	// The manifest stored already: by the owner's reference, else by number.
	id := ""
	if ref := head.Get("ref"); ref != "" && owner != "" {
		if id, err = exchange.Ref(ctx, tx, ExchangeName, owner, ref); err != nil {
			return 0, err
		}
	}
	if id == "" && head.Get("number") != "" {
		var mid string
		err := store.Get(ctx, tx, &mid, `SELECT id FROM manifests WHERE number = ?`, head.Get("number"))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, err
		}
		if mid == "" {
			return 0, exchange.Cell(head.Row, "number", "manifest_not_found", "联单 "+head.Get("number")+" 不存在或无权查看")
		}
		id = mid
	}
	if id != "" {
		m, err := x.svc.load(ctx, tx, p, id)
		if errs.KindOf(err) == errs.NotFound {
			return 0, exchange.Cell(head.Row, "number", "manifest_not_found", "联单 "+head.Get("number")+" 不存在或无权查看")
		}
		if err != nil {
			return 0, err
		}
		return x.compare(ctx, tx, p, m, g)
	}
	if !actsFor(p) || p.Role == auth.Driver {
		return 0, exchange.Cell(head.Row, "", "forbidden", "只有移出单位的人员可以填写联单")
	}
	if owner != p.UnitID {
		return 0, exchange.Cell(head.Row, "consignor_uscc", "unit_not_own", "新联单的移出单位须为本单位")
	}
	in, err := x.input(ctx, tx, g)
	if err != nil {
		return 0, err
	}
	m, err := x.svc.create(ctx, tx, p, in)
	if err != nil {
		return 0, err
	}
	if err := exchange.SaveRef(ctx, tx, ExchangeName, p.UnitID, head.Get("ref"), m.ID); err != nil {
		return 0, err
	}
	return exchange.Inserted, nil
}

// owner is the consignor unit whose references the rows use.
func (x *Exchange) owner(ctx context.Context, q store.Querier, p auth.Principal, head exchange.Cells) (string, error) {
	uscc := strings.ToUpper(head.Get("consignor_uscc"))
	if uscc == "" {
		if actsFor(p) {
			return p.UnitID, nil
		}
		return "", nil
	}
	id, err := unitByUSCC(ctx, q, uscc)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", exchange.Cell(head.Row, "consignor_uscc", "unit_unknown", "没有统一社会信用代码为 "+uscc+" 的单位")
	}
	return id, nil
}

func unitByUSCC(ctx context.Context, q store.Querier, uscc string) (string, error) {
	var id string
	err := store.Get(ctx, q, &id, `SELECT id FROM units WHERE uscc = ?`, strings.ToUpper(strings.TrimSpace(uscc)))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return id, err
}

// input builds the API's draft from the rows; unknown units are row errors.
func (x *Exchange) input(ctx context.Context, q store.Querier, g *group) (Input, error) {
	head := g.rows[0]
	var bad exchange.Bad
	in := Input{EmergencyMeasures: head.Get("emergency_measures"), Note: head.Get("note")}
	rid, err := unitByUSCC(ctx, q, head.Get("receiver_uscc"))
	if err != nil {
		return in, err
	}
	if rid == "" && head.Get("receiver_uscc") != "" {
		bad = append(bad, exchange.Cell(head.Row, "receiver_uscc", "unit_unknown", "没有统一社会信用代码为 "+head.Get("receiver_uscc")+" 的单位")...)
	}
	in.ReceiverUnitID = rid
	carriers, plates := splitList(head.Get("carrier_uscc")), splitList(head.Get("vehicle_plate"))
	if len(carriers) != len(plates) {
		bad = append(bad, exchange.Cell(head.Row, "vehicle_plate", "carriers_plates", "承运单位与车牌号的个数须相同")...)
	}
	for i, u := range carriers {
		cid, err := unitByUSCC(ctx, q, u)
		if err != nil {
			return in, err
		}
		if cid == "" {
			bad = append(bad, exchange.Cell(head.Row, "carrier_uscc", "unit_unknown", "没有统一社会信用代码为 "+u+" 的单位")...)
		}
		plate := ""
		if i < len(plates) {
			plate = plates[i]
		}
		in.Carriers = append(in.Carriers, LegInput{CarrierUnitID: cid, VehiclePlate: plate})
	}
	if len(in.Carriers) == 1 {
		in.CarrierUnitID, in.VehiclePlate, in.Carriers = in.Carriers[0].CarrierUnitID, in.Carriers[0].VehiclePlate, nil
	}
	for _, c := range g.rows {
		l := LineInput{WasteCode: c.Get("waste_code"), Name: c.Get("name"), Form: strings.ToUpper(c.Get("form")), Packaging: c.Get("packaging"),
			ContainerIDs: splitList(c.Get("container_ids"))}
		if v := c.Get("characteristics"); v != "" {
			cs, err := catalog.ParseCharacteristics(v)
			if err != nil {
				bad = append(bad, exchange.Cell(c.Row, "characteristics", "characteristic_unknown", "危险特性只能是 T、C、I、R、In")...)
			}
			l.Characteristics = cs
		}
		g, ok := exchange.ParseTonnes(c.Get("quantity_t"))
		if !ok || g == 0 {
			bad = append(bad, exchange.Cell(c.Row, "quantity_t", "quantity_positive", "数量须为大于 0 的吨数，最多 6 位小数")...)
		}
		l.QuantityT = qty.Tonnes(g)
		n, err := strconv.Atoi(c.Get("package_count"))
		if err != nil || n < 1 {
			bad = append(bad, exchange.Cell(c.Row, "package_count", "package_count_positive", "包装数量须为不小于 1 的整数")...)
		}
		l.PackageCount = n
		in.Lines = append(in.Lines, l)
	}
	if len(bad) > 0 {
		return in, bad
	}
	return in, nil
}

// compare checks the rows against a stored manifest: unchanged, a draft
// replaced, or a refusal for a signed one.
func (x *Exchange) compare(ctx context.Context, tx *store.Tx, p auth.Principal, m Manifest, g *group) (exchange.Outcome, error) {
	stored, err := x.rowsOf(ctx, tx, m)
	if err != nil {
		return 0, err
	}
	diff := func() (exchange.Row, string, string, string) {
		if len(stored) != len(g.rows) {
			return g.rows[0].Row, "line_no", fmt.Sprintf("%d 行", len(stored)), fmt.Sprintf("%d 行", len(g.rows))
		}
		keys := columnKeys()
		for i, c := range g.rows {
			for j, k := range keys {
				v := c.Get(k)
				if v == "" || slices.Contains(exportOnly, k) || k == "ref" {
					continue
				}
				if !sameCell(k, v, stored[i][j]) {
					return c.Row, k, stored[i][j], v
				}
			}
		}
		return exchange.Row{}, "", "", ""
	}
	row, col, was, got := diff()
	if col == "" {
		return exchange.Unchanged, nil
	}
	if m.Status != Draft {
		return 0, exchange.Cell(row, col, "manifest_signed", fmt.Sprintf("联单 %s 已%s，已签署的内容不能通过导入修改（原为“%s”，导入的是“%s”）；如需更正请在联单页面提出更正申请",
			m.Number, strings.TrimPrefix(statusLabels[m.Status], "已"), was, got))
	}
	in, err := x.input(ctx, tx, g)
	if err != nil {
		return 0, err
	}
	if _, err := x.svc.update(ctx, tx, p, m.ID, m.Version, in); err != nil {
		return 0, err
	}
	return exchange.Updated, nil
}

// columnKeys are the keys of Columns, in order.
func columnKeys() []string {
	return []string{"ref", "number", "status", "consignor_uscc", "consignor_name", "receiver_uscc", "receiver_name", "carrier_uscc",
		"vehicle_plate", "line_no", "waste_code", "name", "quantity_t", "form", "characteristics", "packaging", "package_count",
		"container_ids", "emergency_measures", "note", "received_t", "method"}
}

// sameCell compares a cell as typed with one as stored.
func sameCell(key, typed, stored string) bool {
	norm := func(s string) string {
		switch key {
		case "quantity_t", "received_t":
			if g, ok := exchange.ParseTonnes(s); ok {
				return exchange.Tonnes(g)
			}
		case "characteristics":
			if cs, err := catalog.ParseCharacteristics(s); err == nil {
				return strings.Join(cs, ",")
			}
		case "carrier_uscc", "vehicle_plate", "container_ids":
			return strings.ToUpper(strings.Join(splitList(s), ";"))
		case "consignor_uscc", "receiver_uscc", "form":
			return strings.ToUpper(s)
		case "line_no", "package_count":
			if n, err := strconv.Atoi(s); err == nil {
				return strconv.Itoa(n)
			}
		}
		return s
	}
	return norm(typed) == norm(stored)
}

// splitList splits a cell listing several values.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(";；,，\n\r\t ", r) }) {
		out = append(out, strings.ToUpper(strings.ReplaceAll(v, " ", "")))
	}
	return out
}

func cmpInt(a, b string) int {
	x, _ := strconv.Atoi(a)
	y, _ := strconv.Atoi(b)
	return x - y
}

// exportLine is one line of a manifest as the export reads it.
type exportLine struct {
	ID                string `db:"id"`
	Number            string `db:"number"`
	Status            Status `db:"status"`
	Ref               string `db:"ref"`
	ConsignorUSCC     string `db:"consignor_uscc"`
	ConsignorName     string `db:"consignor_name"`
	ReceiverUSCC      string `db:"receiver_uscc"`
	ReceiverName      string `db:"receiver_name"`
	EmergencyMeasures string `db:"emergency_measures"`
	Note              string `db:"note"`
	LineNo            int    `db:"line_no"`
	WasteCode         string `db:"waste_code"`
	Name              string `db:"name"`
	QuantityG         int64  `db:"quantity_g"`
	Form              string `db:"form"`
	Characteristics   string `db:"characteristics"`
	Packaging         string `db:"packaging"`
	PackageCount      int    `db:"package_count"`
	ContainerIDs      string `db:"container_ids"`
	ReceivedG         *int64 `db:"received_g"`
	Method            string `db:"method"`
}

const exportLines = `SELECT m.id, m.number, m.status, COALESCE(x.ref, '') AS ref, cu.uscc AS consignor_uscc, cu.name AS consignor_name,
	ru.uscc AS receiver_uscc, ru.name AS receiver_name, m.emergency_measures, m.note, l.line_no, l.waste_code, l.name,
	l.quantity_g, l.form, l.characteristics, l.packaging, l.package_count, l.container_ids, l.received_g, l.method
	FROM manifests m JOIN units cu ON cu.id = m.consignor_unit_id JOIN units ru ON ru.id = m.receiver_unit_id
	JOIN manifest_lines l ON l.manifest_id = m.id
	LEFT JOIN exchange_refs x ON x.kind = 'hw_manifest' AND x.entity_id = m.id`

// cells is the line in the Columns order, with the manifest's carriers.
func (e *exportLine) cells(carriers, plates string) []string {
	received := ""
	if e.ReceivedG != nil {
		received = exchange.Tonnes(*e.ReceivedG)
	}
	return []string{e.Ref, e.Number, statusLabels[e.Status], e.ConsignorUSCC, e.ConsignorName, e.ReceiverUSCC, e.ReceiverName,
		carriers, plates, strconv.Itoa(e.LineNo), e.WasteCode, e.Name, exchange.Tonnes(e.QuantityG), e.Form, e.Characteristics,
		e.Packaging, strconv.Itoa(e.PackageCount), strings.ReplaceAll(e.ContainerIDs, ",", ";"), e.EmergencyMeasures, e.Note,
		received, e.Method}
}

// legs lists a manifest's carriers' USCCs and plates, as the cells carry them.
func legs(ctx context.Context, q store.Querier, id string) (string, string, error) {
	var ls []struct {
		USCC  string `db:"uscc"`
		Plate string `db:"vehicle_plate"`
	}
	if err := store.Select(ctx, q, &ls, `SELECT u.uscc, mc.vehicle_plate FROM manifest_carriers mc JOIN units u ON u.id = mc.carrier_unit_id
		WHERE mc.manifest_id = ? ORDER BY mc.leg`, id); err != nil {
		return "", "", err
	}
	var us, ps []string
	for _, l := range ls {
		us, ps = append(us, l.USCC), append(ps, l.Plate)
	}
	return strings.Join(us, ";"), strings.Join(ps, ";"), nil
}

// rowsOf is a stored manifest as workbook rows.
func (x *Exchange) rowsOf(ctx context.Context, q store.Querier, m Manifest) ([][]string, error) {
	var ls []exportLine
	if err := store.Select(ctx, q, &ls, exportLines+` WHERE m.id = ? ORDER BY l.line_no`, m.ID); err != nil {
		return nil, err
	}
	us, ps, err := legs(ctx, q, m.ID)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(ls))
	for i := range ls {
		out[i] = ls[i].cells(us, ps)
	}
	return out, nil
}

func (x *Exchange) Export(ctx context.Context, p auth.Principal, year int, emit func(cells []string) error) error {
	cond, args := scope(p)
	r := x.db.Reader()
	rows, err := r.QueryxContext(ctx, r.Rebind(exportLines+` WHERE `+cond+` AND m.year = ? ORDER BY m.number, l.line_no`),
		append(args, year)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var e exportLine
	last, us, ps := "", "", ""
	for rows.Next() {
		if err := rows.StructScan(&e); err != nil {
			return err
		}
		if e.ID != last {
			if us, ps, err = legs(ctx, r, e.ID); err != nil {
				return err
			}
			last = e.ID
		}
		if err := emit(e.cells(us, ps)); err != nil {
			return err
		}
	}
	return rows.Err()
}
