package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"wufei/internal/paging"

	"github.com/google/uuid"

	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// NewGeneration records waste as it is generated: into count containers,
// each of which gets its digital id, or as one bulk record (count 0).
type NewGeneration struct {
	WasteCode           string     `json:"waste_code" doc:"废物代码 ddd-ddd-dd"`
	Name                string     `json:"name,omitempty" maxLength:"100" doc:"单位内部名称（行业俗称）；默认为名录名称"`
	Form                string     `json:"form" enum:"S,SS,L,G" doc:"物理性状：S 固态、SS 半固态、L 液态、G 气态"`
	Characteristics     []string   `json:"characteristics,omitempty" maxItems:"5" doc:"危险特性 T、C、I、R、In；默认取名录"`
	Components          string     `json:"components,omitempty" maxLength:"200" doc:"主要成分"`
	HazardousComponents string     `json:"hazardous_components,omitempty" maxLength:"200" doc:"有害成分"`
	Precautions         string     `json:"precautions,omitempty" maxLength:"200" doc:"注意事项"`
	Packaging           string     `json:"packaging,omitempty" maxLength:"40" doc:"容器/包装类型，如 铁桶、吨袋"`
	VolumeL             float64    `json:"volume_l,omitempty" minimum:"0" maximum:"100000" doc:"单个容器容积（升）"`
	Count               int        `json:"count,omitempty" minimum:"0" maximum:"999" doc:"容器数；0 为不分装的整批记录"`
	QuantityT           float64    `json:"quantity_t,omitempty" doc:"总量（吨），均分到各容器"`
	QuantitiesT         []float64  `json:"quantities_t,omitempty" maxItems:"999" doc:"逐个容器的重量（吨）；给出时即为容器数与总量"`
	FacilityCode        string     `json:"facility_code,omitempty" maxLength:"40" doc:"产生设施编码"`
	Handler             string     `json:"handler,omitempty" maxLength:"100" doc:"产生部门经办人"`
	Destination         string     `json:"destination,omitempty" maxLength:"200" doc:"去向"`
	Remark              string     `json:"remark,omitempty" maxLength:"200" doc:"备注（印在标签上）"`
	OccurredAt          *time.Time `json:"occurred_at,omitempty" doc:"产生时间；默认为当前时间"`
}

// Generated is a generation record and the containers it created.
type Generated struct {
	Record Record      `json:"record"`
	Items  []Container `json:"items"`
}

const containerColumns = `c.id, c.digital_id, c.unit_id, c.region_code, c.waste_code, c.category, c.name, c.official_name,
	c.form, c.characteristics, c.components, c.hazardous_components, c.precautions, c.packaging, c.volume_l, c.quantity_g,
	c.generated_at, c.facility_code, c.status, c.generation_batch, c.storage_batch, c.storage_facility, c.stored_at,
	c.out_batch, c.manifest_id, c.remark, c.audit_seq, c.updated_at, c.version`

// facility is a registered facility as the ledger checks it.
type facility struct {
	ID        string `db:"id"`
	Code      string `db:"code"`
	Kind      string `db:"kind"`
	Name      string `db:"name"`
	Method    string `db:"method"`
	Status    string `db:"status"`
	CapacityG int64  `db:"capacity_g"`
}

// checkFacility finds an active facility of the unit of one of kinds.
func checkFacility(ctx context.Context, q store.Querier, v *errs.Validation, field, unitID, code string, kinds ...string) (facility, error) {
	var f facility
	err := store.Get(ctx, q, &f, `SELECT id, code, kind, name, method, status, capacity_g FROM facilities WHERE unit_id = ? AND code = ?`,
		unitID, code)
	switch {
	case errors.Is(err, store.ErrNotFound):
		v.Add(field, "facility_unknown", "本单位没有登记设施 "+clip(code))
	case err != nil:
		return f, err
	case !slices.Contains(kinds, f.Kind):
		v.Add(field, "facility_kind", "设施 "+f.Code+" 不是本环节所需类型的设施")
	case f.Status != "active":
		v.Add(field, "facility_inactive", "设施 "+f.Code+" 已停用")
	}
	return f, nil
}

// RecordGeneration writes a generation record for the principal's unit and
// creates its containers with their digital ids.
func (s *Service) RecordGeneration(ctx context.Context, p auth.Principal, in NewGeneration) (Generated, error) {
	var out Generated
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = recordGeneration(ctx, tx, p, in)
		return err
	})
	return out, err
}

// recordGeneration writes a generation record inside tx (a workbook import
// applies many).
func recordGeneration(ctx context.Context, tx *store.Tx, p auth.Principal, in NewGeneration) (Generated, error) {
	var out Generated
	unitID, err := writer(p)
	if err != nil {
		return out, err
	}
	var v errs.Validation
	in.WasteCode = strings.TrimSpace(in.WasteCode)
	if err := catalog.ValidCode(in.WasteCode); err != nil {
		v.Add("waste_code", "waste_code_format", "废物代码格式应为 ddd-ddd-dd")
	}
	if !slices.Contains(Forms, in.Form) {
		v.Add("form", "form_unknown", "物理性状只能是 S、SS、L、G")
	}
	var chars catalog.Characteristics
	if len(in.Characteristics) > 0 {
		c, err := catalog.ParseCharacteristics(strings.Join(in.Characteristics, ","))
		if err != nil {
			v.Add("characteristics", "characteristic_unknown", "危险特性只能是 T、C、I、R、In")
		}
		chars = c
	}
	// Quantities: one per container, or a total split evenly.
	var each []int64
	var total int64
	switch {
	case len(in.QuantitiesT) > 0:
		for i, t := range in.QuantitiesT {
			g, err := qty.Grams(fmt.Sprintf("quantities_t[%d]", i), t)
			if err != nil || g <= 0 {
				v.Add(fmt.Sprintf("quantities_t[%d]", i), "quantity_positive", "每个容器的重量须大于 0")
				continue
			}
			each = append(each, g)
			total += g
		}
		if in.QuantityT != 0 {
			if g, err := qty.Grams("quantity_t", in.QuantityT); err != nil || g != total {
				v.Add("quantity_t", "quantity_mismatch", "总量与逐个容器重量之和不符")
			}
		}
		if in.Count != 0 && in.Count != len(in.QuantitiesT) {
			v.Add("count", "count_mismatch", "容器数与逐个容器重量的个数不符")
		}
	default:
		g, err := qty.Grams("quantity_t", in.QuantityT)
		switch {
		case err != nil || g <= 0:
			v.Add("quantity_t", "quantity_positive", "产生量须大于 0")
		case in.Count < 0 || in.Count > MaxSequence:
			v.Add("count", "count_range", "一次最多生成 999 个容器")
		case int64(in.Count) > g:
			v.Add("count", "count_range", "容器数不能多于产生量的克数")
		default:
			total = g
			for i := range in.Count {
				share := g / int64(in.Count)
				if int64(i) < g%int64(in.Count) {
					share++
				}
				each = append(each, share)
			}
		}
	}
	if len(each) > 0 {
		if in.VolumeL <= 0 {
			v.Add("volume_l", "volume_required", "分装容器须填写容积（升），它决定标签尺寸")
		}
		if strings.TrimSpace(in.Packaging) == "" {
			v.Add("packaging", "required", "分装容器须填写容器/包装类型")
		}
	}
	err = func() error {
		at, err := occurredAt(in.OccurredAt, tx.Now)
		if err != nil {
			return err
		}
		var wc catalog.WasteCode
		if catalog.ValidCode(in.WasteCode) == nil {
			wc, err = catalog.GetWasteCode(ctx, tx, in.WasteCode)
			switch {
			case errs.KindOf(err) == errs.NotFound:
				v.Add("waste_code", "waste_code_unknown", "名录中没有废物代码 "+in.WasteCode)
			case err != nil:
				return err
			}
		}
		fac := facility{}
		if in.FacilityCode != "" {
			if fac, err = checkFacility(ctx, tx, &v, "facility_code", unitID, in.FacilityCode, "generation"); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if len(chars) == 0 {
			chars = wc.Characteristics
		}
		if err := lockUnit(ctx, tx, unitID); err != nil {
			return err
		}
		u, err := loadUnit(ctx, tx, unitID)
		if err != nil {
			return err
		}
		name := strings.TrimSpace(in.Name)
		if name == "" {
			name = wc.Description
		}
		r := Record{UnitID: unitID, RegionCode: u.RegionCode, Kind: KindGeneration, OccurredAt: at, WasteCode: wc.Code,
			Category: wc.Category, Name: name, OfficialName: wc.Description, QuantityG: total,
			Packaging: strings.TrimSpace(in.Packaging), FacilityCode: fac.Code, Handler: strings.TrimSpace(in.Handler),
			Destination: strings.TrimSpace(in.Destination), Note: strings.TrimSpace(in.Remark)}
		// Containers take the next sequences of the unit, code and day.
		cs := make([]Container, len(each))
		if len(each) > 0 {
			d := day(at)
			last, err := next(ctx, tx, "C|"+unitID+"|"+wc.Code+"|"+d, len(each))
			if err != nil {
				return err
			}
			if last > MaxSequence {
				return errs.Field("count", "container_sequence_exhausted",
					fmt.Sprintf("本单位该废物当日的容器序号已用到 %03d，每日最多 999 个", last-len(each)))
			}
			for i, g := range each {
				id := DigitalID{USCC: u.USCC, WasteCode: wc.Code, Date: d, Seq: last - len(each) + 1 + i}.String()
				cs[i] = Container{ID: uuid.Must(uuid.NewV7()).String(), DigitalID: id, UnitID: unitID,
					RegionCode: u.RegionCode, WasteCode: wc.Code, Category: wc.Category, Name: name,
					OfficialName: wc.Description, Form: in.Form, Characteristics: chars,
					Components: strings.TrimSpace(in.Components), HazardousComponents: strings.TrimSpace(in.HazardousComponents),
					Precautions: strings.TrimSpace(in.Precautions), Packaging: r.Packaging, VolumeL: in.VolumeL,
					QuantityG: g, GeneratedAt: at, FacilityCode: fac.Code, Status: StatusGenerated,
					Remark: strings.TrimSpace(in.Remark), UpdatedAt: tx.Now, Version: 1}
				cs[i].derive()
				r.ContainerIDs = append(r.ContainerIDs, id)
			}
		}
		if err := insert(ctx, tx, p.Actor(), &r, map[string]any{"containers": cs}); err != nil {
			return err
		}
		for i := range cs {
			cs[i].GenerationBatch, cs[i].AuditSeq = r.BatchCode, r.AuditSeq
		}
		if err := insertContainers(ctx, tx, cs); err != nil {
			return err
		}
		out = Generated{Record: r, Items: cs}
		return nil
	}()
	return out, err
}

// insertContainers writes containers, many rows per statement.
func insertContainers(ctx context.Context, tx *store.Tx, cs []Container) error {
	const cols = 26
	const chunk = 40
	for len(cs) > 0 {
		n := min(len(cs), chunk)
		args := make([]any, 0, cols*n)
		for _, c := range cs[:n] {
			args = append(args, c.ID, c.DigitalID, c.UnitID, c.RegionCode, c.WasteCode, c.Category, c.Name, c.OfficialName,
				c.Form, c.Characteristics.String(), c.Components, c.HazardousComponents, c.Precautions, c.Packaging, c.VolumeL,
				c.QuantityG, c.GeneratedAt, c.FacilityCode, c.Status, c.GenerationBatch, c.Remark, c.AuditSeq, c.UpdatedAt,
				c.Version, "", "")
		}
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
		if _, err := store.Exec(ctx, tx, `INSERT INTO containers (id, digital_id, unit_id, region_code, waste_code, category,
			name, official_name, form, characteristics, components, hazardous_components, precautions, packaging, volume_l,
			quantity_g, generated_at, facility_code, status, generation_batch, remark, audit_seq, updated_at, version,
			storage_batch, out_batch) VALUES `+strings.TrimSuffix(strings.Repeat(row+", ", n), ", "), args...); err != nil {
			return err
		}
		cs = cs[n:]
	}
	return nil
}

// ContainerFilter narrows a container list.
type ContainerFilter struct {
	UnitID    string
	Status    string
	WasteCode string
	Batch     string // a generation, storage or out-of-storage batch code
	Limit     int
	After     string // cursor from the previous page
}

// ListContainers lists the containers the principal may see, newest first.
func (s *Service) ListContainers(ctx context.Context, p auth.Principal, f ContainerFilter) (Page[Container], error) {
	cond, args := scope(p, "c")
	where := []string{cond}
	for _, x := range []struct{ col, v string }{{"c.unit_id", f.UnitID}, {"c.status", f.Status}, {"c.waste_code", f.WasteCode}} {
		if x.v != "" {
			where = append(where, x.col+" = ?")
			args = append(args, x.v)
		}
	}
	if f.Batch != "" {
		where = append(where, "(c.generation_batch = ? OR c.storage_batch = ? OR c.out_batch = ?)")
		args = append(args, f.Batch, f.Batch, f.Batch)
	}
	limit, after, err := paging.Args(f.Limit, f.After)
	if err != nil {
		return Page[Container]{}, err
	}
	if after != "" {
		where = append(where, "c.id < ?")
		args = append(args, after)
	}
	var items []Container
	if err := store.Select(ctx, s.db.Reader(), &items, `SELECT `+containerColumns+` FROM containers c WHERE `+
		strings.Join(where, " AND ")+` ORDER BY c.id DESC LIMIT `+itoa(limit+1), args...); err != nil {
		return Page[Container]{}, err
	}
	for i := range items {
		items[i].derive()
	}
	return paging.Of(items, limit, func(c Container) string { return c.ID }), nil
}

// GetContainer returns a container the principal may see, by digital id.
func (s *Service) GetContainer(ctx context.Context, p auth.Principal, digitalID string) (Container, error) {
	cond, args := scope(p, "c")
	return getContainer(ctx, s.db.Reader(), `c.digital_id = ? AND `+cond, append([]any{digitalID}, args...)...)
}

func getContainer(ctx context.Context, q store.Querier, where string, args ...any) (Container, error) {
	var c Container
	err := store.Get(ctx, q, &c, `SELECT `+containerColumns+` FROM containers c WHERE `+where, args...)
	if errors.Is(err, store.ErrNotFound) {
		return c, errs.E(errs.NotFound, "container_not_found", "容器不存在或无权查看")
	}
	c.derive()
	return c, err
}

// unitContainers loads the containers of a unit by digital id; with
// unitID "", of any unit.
func unitContainers(ctx context.Context, q store.Querier, unitID string, ids []string) (map[string]Container, error) {
	out := make(map[string]Container, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cond, args := `c.digital_id IN (?)`, []any{ids}
	if unitID != "" {
		cond, args = `c.unit_id = ? AND `+cond, []any{unitID, ids}
	}
	query, args, err := store.In(`SELECT `+containerColumns+` FROM containers c WHERE `+cond, args...)
	if err != nil {
		return nil, err
	}
	var cs []Container
	if err := store.Select(ctx, q, &cs, query, args...); err != nil {
		return nil, err
	}
	for _, c := range cs {
		c.derive()
		out[c.DigitalID] = c
	}
	return out, nil
}

// CheckContainers checks, for a manifest line of unit, that each container
// exists, belongs to the unit, holds waste code and has not left the unit:
// generated or stored. Errors name the field "container_ids[i]".
func CheckContainers(ctx context.Context, q store.Querier, unitID, wasteCode string, ids []string) error {
	_, err := checkShippable(ctx, q, unitID, wasteCode, ids, "", "")
	return err
}

// checkShippable loads and checks containers for a shipment; those already
// shipped on manifestID (a repeated call) pass. field prefixes the paths.
func checkShippable(ctx context.Context, q store.Querier, unitID, wasteCode string, ids []string, manifestID, field string) ([]Container, error) {
	cs, err := unitContainers(ctx, q, unitID, ids)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	seen := make(map[string]bool, len(ids))
	out := make([]Container, 0, len(ids))
	for i, id := range ids {
		f := fmt.Sprintf("%scontainer_ids[%d]", field, i)
		c, ok := cs[id]
		switch {
		case seen[id]:
			v.Add(f, "container_duplicate", "容器 "+clip(id)+" 重复")
		case !ok:
			v.Add(f, "container_unknown", "本单位没有数字识别码为 "+clip(id)+" 的容器")
		case c.WasteCode != wasteCode:
			v.Add(f, "container_code_mismatch", "容器 "+id+" 装的是 "+c.WasteCode+"，不是 "+wasteCode)
		case manifestID != "" && c.ManifestID == manifestID && (c.Status == StatusShipped || c.Status == StatusReceived):
			out = append(out, c)
		case c.Status == StatusShipped || c.Status == StatusReceived:
			v.Add(f, "container_shipped", "容器 "+id+" 已随其他联单转移")
		case c.Status != StatusGenerated && c.Status != StatusStored:
			v.Add(f, "container_unavailable", "容器 "+id+" 当前状态不能转移")
		default:
			out = append(out, c)
		}
		seen[id] = true
	}
	return out, v.Err()
}
