package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
	"wufei/internal/qty"
	"wufei/internal/settings"
	"wufei/internal/store"
)

// MaxLines bounds the lines of one manifest (one vehicle trip).
const MaxLines = 50

// Service runs the manifest use cases.
type Service struct{ db *store.DB }

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// LegInput names one carrier and its vehicle.
type LegInput struct {
	CarrierUnitID string `json:"carrier_unit_id"`
	VehiclePlate  string `json:"vehicle_plate" maxLength:"10"`
}

// LineInput is one waste as the consignor declares it.
type LineInput struct {
	WasteCode       string   `json:"waste_code" pattern:"^[0-9]{3}-[0-9]{3}-[0-9]{2}$"`
	Name            string   `json:"name,omitempty" maxLength:"100" doc:"单位内部名称；缺省为名录名称"`
	QuantityT       float64  `json:"quantity_t" exclusiveMinimum:"0" maximum:"100000"`
	Form            string   `json:"form" enum:"S,SS,L,G" doc:"物理性状：S 固态、SS 半固态、L 液态、G 气态"`
	Characteristics []string `json:"characteristics,omitempty" doc:"危险特性；缺省取名录"`
	Packaging       string   `json:"packaging" minLength:"1" maxLength:"40" doc:"包装方式，如 桶、吨袋"`
	PackageCount    int      `json:"package_count" minimum:"1" maximum:"100000"`
	ContainerIDs    []string `json:"container_ids,omitempty" maxItems:"1000" doc:"容器数字识别码"`
}

// Input is what creating or replacing a draft takes. A single carrier may be
// given with carrier_unit_id and vehicle_plate, several (联运) with carriers.
type Input struct {
	ReceiverUnitID    string      `json:"receiver_unit_id"`
	CarrierUnitID     string      `json:"carrier_unit_id,omitempty"`
	VehiclePlate      string      `json:"vehicle_plate,omitempty" maxLength:"10"`
	Carriers          []LegInput  `json:"carriers,omitempty" maxItems:"5"`
	Lines             []LineInput `json:"lines" minItems:"1" maxItems:"50"`
	EmergencyMeasures string      `json:"emergency_measures,omitempty" maxLength:"1000" doc:"应急措施"`
	Note              string      `json:"note,omitempty" maxLength:"1000"`
	PreviousID        string      `json:"previous_id,omitempty" doc:"拒收废物退回或转移时引用原联单"`
}

func (d Input) legs() []LegInput {
	if len(d.Carriers) > 0 {
		return d.Carriers
	}
	if d.CarrierUnitID == "" && d.VehiclePlate == "" {
		return nil
	}
	return []LegInput{{CarrierUnitID: d.CarrierUnitID, VehiclePlate: d.VehiclePlate}}
}

var formRe = regexp.MustCompile(`^(S|SS|L|G)$`)

// Create starts a draft manifest for the caller's unit and gives it its
// number, which is never reused.
func (s *Service) Create(ctx context.Context, p auth.Principal, d Input) (Manifest, error) {
	if !actsFor(p) || p.Role == auth.Driver {
		return Manifest{}, errs.E(errs.Forbidden, "forbidden", "只有移出单位的人员可以填写联单")
	}
	// Checked against the registry and catalogue before taking the writer;
	// only the containers, which another manifest may claim meanwhile, are
	// checked again inside.
	m, err := s.build(ctx, s.db.Reader(), p, d)
	if err != nil {
		return m, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var v errs.Validation
		for i, l := range m.Lines {
			if err := checkContainers(ctx, tx, m.ConsignorUnitID, i, l, &v); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		return s.insert(ctx, tx, p, &m)
	})
	return m, err
}

// create writes a draft inside tx (a workbook import writes many).
func (s *Service) create(ctx context.Context, tx *store.Tx, p auth.Principal, d Input) (Manifest, error) {
	m, err := s.build(ctx, tx, p, d)
	if err != nil {
		return m, err
	}
	return m, s.insert(ctx, tx, p, &m)
}

// insert numbers a built draft and writes it.
func (s *Service) insert(ctx context.Context, tx *store.Tx, p auth.Principal, m *Manifest) error {
	m.ID = uuid.Must(uuid.NewV7()).String()
	m.Year = tx.Now.In(calendar.Zone).Year()
	var err error
	if m.Number, err = nextNumber(ctx, tx, m.Year, m.RegionCode); err != nil {
		return err
	}
	m.Status, m.Version, m.CreatedAt, m.UpdatedAt = Draft, 1, tx.Now, tx.Now
	if _, err := store.Exec(ctx, tx, `INSERT INTO manifests (id, number, year, status, consignor_unit_id, receiver_unit_id,
		region_code, receiver_region_code, cross_province, previous_id, emergency_measures, note, warnings,
		created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, 1)`,
		m.ID, m.Number, m.Year, string(m.Status), m.ConsignorUnitID, m.ReceiverUnitID, m.RegionCode, m.ReceiverRegionCode,
		m.CrossProvince, m.PreviousID, m.EmergencyMeasures, m.Note, m.CreatedAt, m.UpdatedAt); err != nil {
		return err
	}
	if err := writeParts(ctx, tx, m); err != nil {
		return err
	}
	return step(ctx, tx, p, m, "create", *m)
}

// Update replaces a draft's parties and lines; once submitted, a manifest
// changes only through its steps and revision requests.
func (s *Service) Update(ctx context.Context, p auth.Principal, id string, version int64, d Input) (Manifest, error) {
	var m Manifest
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		m, err = s.update(ctx, tx, p, id, version, d)
		return err
	})
	return m, err
}

// update replaces a draft inside tx (a workbook import may replace many).
func (s *Service) update(ctx context.Context, tx *store.Tx, p auth.Principal, id string, version int64, d Input) (Manifest, error) {
	var m Manifest
	err := func() error {
		before, err := s.load(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := s.may(p, before, "update"); err != nil {
			return err
		}
		if before.Version != version {
			return conflict()
		}
		if m, err = s.build(ctx, tx, p, d); err != nil {
			return err
		}
		m.ID, m.Number, m.Year, m.Status, m.CreatedAt = before.ID, before.Number, before.Year, before.Status, before.CreatedAt
		m.Steps = before.Steps
		m.UpdatedAt, m.Version = tx.Now, before.Version+1
		n, err := store.Exec(ctx, tx, `UPDATE manifests SET receiver_unit_id = ?, receiver_region_code = ?, cross_province = ?,
			previous_id = ?, emergency_measures = ?, note = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?`,
			m.ReceiverUnitID, m.ReceiverRegionCode, m.CrossProvince, m.PreviousID, m.EmergencyMeasures, m.Note,
			m.UpdatedAt, m.Version, id, before.Version)
		if err != nil {
			return err
		}
		if n != 1 {
			return conflict()
		}
		for _, t := range []string{"manifest_lines", "manifest_carriers"} {
			if _, err := store.Exec(ctx, tx, `DELETE FROM `+t+` WHERE manifest_id = ?`, id); err != nil {
				return err
			}
		}
		if err := writeParts(ctx, tx, &m); err != nil {
			return err
		}
		return step(ctx, tx, p, &m, "update", map[string]any{"before": before, "after": m})
	}()
	return m, err
}

// build validates a draft against the registry and catalogue and returns
// the manifest it describes (without id, number or status).
func (s *Service) build(ctx context.Context, q store.Querier, p auth.Principal, d Input) (Manifest, error) {
	var v errs.Validation
	m := Manifest{ConsignorUnitID: p.UnitID, ReceiverUnitID: d.ReceiverUnitID, EmergencyMeasures: strings.TrimSpace(d.EmergencyMeasures),
		Note: strings.TrimSpace(d.Note)}
	legs := d.legs()
	ids := []string{p.UnitID, d.ReceiverUnitID}
	for _, l := range legs {
		ids = append(ids, l.CarrierUnitID)
	}
	parties, err := units(ctx, q, ids...)
	if err != nil {
		return m, err
	}
	consignor, ok := parties[p.UnitID]
	if !ok {
		return m, store.ErrNotFound
	}
	m.ConsignorName, m.RegionCode = consignor.Name, consignor.RegionCode
	receiver, ok := parties[d.ReceiverUnitID]
	switch {
	case !ok:
		v.Add("receiver_unit_id", "unit_unknown", "接受单位不存在")
	case !receiver.has("collector", "utiliser", "disposer"):
		v.Add("receiver_unit_id", "receiver_not_licensed", "接受单位须为持证的收集、利用或处置单位")
	case receiver.ID == m.ConsignorUnitID:
		v.Add("receiver_unit_id", "receiver_is_consignor", "接受单位不能是移出单位本身")
	default:
		m.ReceiverName, m.ReceiverRegionCode = receiver.Name, receiver.RegionCode
		m.CrossProvince = receiver.RegionCode[:2] != consignor.RegionCode[:2]
	}
	if len(legs) == 0 {
		v.Add("carrier_unit_id", "required", "须指定承运单位和车辆")
	}
	for i, l := range legs {
		f := "carriers[" + fmt.Sprint(i) + "]"
		if len(d.Carriers) == 0 {
			f = ""
		}
		c, ok := parties[l.CarrierUnitID]
		switch {
		case !ok:
			v.Add(join(f, "carrier_unit_id"), "unit_unknown", "承运单位不存在")
			continue
		case !c.has("carrier"):
			v.Add(join(f, "carrier_unit_id"), "unit_not_carrier", "该单位不是登记的承运单位")
			continue
		}
		plate := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(l.VehiclePlate), " ", ""))
		if plate == "" {
			v.Add(join(f, "vehicle_plate"), "required", "须填写车牌号")
		}
		m.Carriers = append(m.Carriers, Leg{Leg: i + 1, CarrierUnitID: c.ID, CarrierName: c.Name, VehiclePlate: plate})
	}
	if len(d.Lines) == 0 || len(d.Lines) > MaxLines {
		v.Add("lines", "lines_count", fmt.Sprintf("联单须有 1 至 %d 行", MaxLines))
	}
	for i, in := range d.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		l := Line{LineNo: i + 1, WasteCode: in.WasteCode, Name: strings.TrimSpace(in.Name), Form: in.Form,
			Packaging: strings.TrimSpace(in.Packaging), PackageCount: in.PackageCount, ContainerIDs: in.ContainerIDs}
		wc, err := catalog.GetWasteCode(ctx, q, in.WasteCode)
		if err != nil {
			if errs.KindOf(err) != errs.NotFound && errs.KindOf(err) != errs.Invalid {
				return m, err
			}
			v.Add(f+".waste_code", "waste_code_unknown", "名录中没有该废物代码: "+in.WasteCode)
		} else {
			l.Category, l.OfficialName, l.Characteristics = wc.Category, wc.Description, []string(wc.Characteristics)
		}
		if len(in.Characteristics) > 0 {
			cs, err := catalog.ParseCharacteristics(strings.Join(in.Characteristics, ","))
			if err != nil {
				v.Add(f+".characteristics", "characteristic_unknown", "危险特性只能是 T、C、I、R、In")
			}
			l.Characteristics = cs
		}
		if l.Name == "" {
			l.Name = l.OfficialName
		}
		if l.QuantityG, err = qty.Grams(f+".quantity_t", in.QuantityT); err != nil || l.QuantityG == 0 {
			v.Add(f+".quantity_t", "quantity_positive", "数量须大于 0，最多保留 6 位小数")
		}
		if !formRe.MatchString(l.Form) {
			v.Add(f+".form", "form_unknown", "物理性状只能是 S、SS、L、G")
		}
		if l.Packaging == "" {
			v.Add(f+".packaging", "required", "须填写包装方式")
		}
		if l.PackageCount < 1 {
			v.Add(f+".package_count", "package_count_positive", "包装数量至少为 1")
		}
		if err := checkContainers(ctx, q, m.ConsignorUnitID, i, l, &v); err != nil {
			return m, err
		}
		m.Lines = append(m.Lines, l)
	}
	if d.PreviousID != "" {
		if err := s.checkPrevious(ctx, q, p, d.PreviousID, &v); err != nil {
			return m, err
		}
		m.PreviousID = &d.PreviousID
	}
	if err := v.Err(); err != nil {
		return m, err
	}
	m.finish()
	return m, nil
}

// checkContainers adds line i's container problems to v: each must be the
// unit's, of the line's code, and in its store.
func checkContainers(ctx context.Context, q store.Querier, unitID string, i int, l Line, v *errs.Validation) error {
	if len(l.ContainerIDs) == 0 || l.WasteCode == "" {
		return nil
	}
	err := ledger.CheckContainers(ctx, q, unitID, l.WasteCode, l.ContainerIDs)
	var e *errs.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	for _, fe := range e.Fields {
		v.Add(fmt.Sprintf("lines[%d].%s", i, fe.Field), fe.Code, fe.Message)
	}
	return nil
}

// checkPrevious allows a new manifest to carry refused waste on: from the
// receiver that refused it (moving on) or back from the original consignor's
// side (returning).
func (s *Service) checkPrevious(ctx context.Context, q store.Querier, p auth.Principal, id string, v *errs.Validation) error {
	prev, err := s.load(ctx, q, p, id)
	if errs.KindOf(err) == errs.NotFound {
		v.Add("previous_id", "manifest_unknown", "原联单不存在或无权查看")
		return nil
	}
	if err != nil {
		return err
	}
	refused := int64(0)
	for _, l := range prev.Lines {
		if l.RefusedG != nil {
			refused += *l.RefusedG
		}
	}
	switch {
	case refused == 0:
		v.Add("previous_id", "nothing_refused", "原联单没有拒收的废物")
	case p.UnitID != prev.ConsignorUnitID && p.UnitID != prev.ReceiverUnitID:
		v.Add("previous_id", "not_a_party", "只有原联单的移出人或接受人可以转出拒收废物")
	}
	return nil
}

func join(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

// writeParts inserts a manifest's lines and carrier legs.
func writeParts(ctx context.Context, tx *store.Tx, m *Manifest) error {
	for _, l := range m.Lines {
		if _, err := store.Exec(ctx, tx, `INSERT INTO manifest_lines (manifest_id, line_no, waste_code, category, name,
			official_name, quantity_g, form, characteristics, packaging, package_count, container_ids)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, l.LineNo, l.WasteCode, l.Category, l.Name, l.OfficialName, l.QuantityG, l.Form,
			strings.Join(l.Characteristics, ","), l.Packaging, l.PackageCount, strings.Join(l.ContainerIDs, ",")); err != nil {
			return err
		}
	}
	for _, c := range m.Carriers {
		if _, err := store.Exec(ctx, tx, `INSERT INTO manifest_carriers (manifest_id, leg, carrier_unit_id, vehicle_plate)
			VALUES (?, ?, ?, ?)`, m.ID, c.Leg, c.CarrierUnitID, c.VehiclePlate); err != nil {
			return err
		}
	}
	return nil
}

// nextNumber takes the next serial of the year in the consignor's city:
// YYYY + the province and city digits of its region code (3406 for
// Huaibei) + 6 digits. The counter row is updated in the creating
// transaction, so numbers are unique and, once committed, never handed out
// again.
func nextNumber(ctx context.Context, tx *store.Tx, year int, region string) (string, error) {
	prefix := fmt.Sprintf("%04d%s", year, region[:4])
	n, err := store.Next(ctx, tx, "manifest_serials", "prefix", prefix, 1)
	if err != nil {
		return "", err
	}
	if n > 999999 {
		return "", errs.E(errs.Conflict, "manifest_numbers_exhausted", "本年度联单编号已用完")
	}
	return fmt.Sprintf("%s%06d", prefix, n), nil
}

// step records a signed step: the audit entry and its sequence number.
func step(ctx context.Context, tx *store.Tx, p auth.Principal, m *Manifest, action string, change any) error {
	seq, err := audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "manifest." + action, Entity: "manifest", EntityID: m.ID,
		UnitID: p.UnitID, RegionCode: m.RegionCode, Change: change})
	if err != nil {
		return err
	}
	// m was loaded with its steps in this transaction, so the next number is known.
	st := Step{Step: len(m.Steps) + 1, Action: action, Status: m.Status, At: tx.Now, ActorUserID: p.UserID, ActorUsername: p.Username,
		ActorUnitID: p.UnitID, AuditSeq: seq}
	_, err = store.Exec(ctx, tx, `INSERT INTO manifest_steps (manifest_id, step, action, status, at, actor_user_id,
		actor_username, actor_unit_id, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, st.Step, st.Action, string(st.Status), st.At, st.ActorUserID, st.ActorUsername, st.ActorUnitID, st.AuditSeq)
	m.Steps = append(m.Steps, st)
	return err
}

// finish fills the API fields derived from stored ones.
func (m *Manifest) finish() {
	if m.Warnings == nil {
		m.Warnings = []string{}
		if m.WarningsText != "" {
			_ = json.Unmarshal([]byte(m.WarningsText), &m.Warnings)
		}
	}
	if m.Carriers == nil {
		m.Carriers = []Leg{}
	}
	if m.Lines == nil {
		m.Lines = []Line{}
	}
	for i := range m.Lines {
		l := &m.Lines[i]
		l.QuantityT = qty.Tonnes(l.QuantityG)
		if l.CharacteristicsText != "" {
			l.Characteristics = strings.Split(l.CharacteristicsText, ",")
		}
		if l.Characteristics == nil {
			l.Characteristics = []string{}
		}
		if l.ContainerIDsText != "" {
			l.ContainerIDs = strings.Split(l.ContainerIDsText, ",")
		}
		if l.ContainerIDs == nil {
			l.ContainerIDs = []string{}
		}
		l.ReceivedT, l.AcceptedT, l.RefusedT = tonnes(l.ReceivedG), tonnes(l.AcceptedG), tonnes(l.RefusedG)
	}
}

func tonnes(g *int64) *float64 {
	if g == nil {
		return nil
	}
	t := qty.Tonnes(*g)
	return &t
}

func conflict() error {
	return errs.E(errs.Conflict, "version_conflict", "该联单已被他人修改，请刷新后重试")
}

// unit is what a manifest needs to know of a party.
type unit struct {
	ID         string   `db:"id"`
	Name       string   `db:"name"`
	RegionCode string   `db:"region_code"`
	ParkCode   string   `db:"park_code"`
	Status     string   `db:"status"`
	Longitude  *float64 `db:"longitude"`
	Latitude   *float64 `db:"latitude"`
	Roles      string   `db:"roles"`
}

func (u unit) has(roles ...string) bool {
	for _, r := range strings.Split(u.Roles, ",") {
		if slices.Contains(roles, r) {
			return true
		}
	}
	return false
}

// units reads several parties in one statement, by id; unknown ids are
// missing from the map.
func units(ctx context.Context, q store.Querier, ids ...string) (map[string]unit, error) {
	out := make(map[string]unit, len(ids))
	want := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !slices.Contains(want, id) {
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return out, nil
	}
	query, args, err := store.In(`SELECT u.id, u.name, u.region_code, COALESCE(u.park_code, '') AS park_code, u.status,
		u.longitude, u.latitude, COALESCE((SELECT `+store.StringAgg(q, "r.role")+` FROM unit_roles r
		WHERE r.unit_id = u.id), '') AS roles FROM units u WHERE u.id IN (?)`, want)
	if err != nil {
		return nil, err
	}
	var rows []unit
	if err := store.Select(ctx, q, &rows, query, args...); err != nil {
		return nil, err
	}
	for _, u := range rows {
		out[u.ID] = u
	}
	return out, nil
}

// rules reads the configurable rule values and the working-day calendar.
func rules(ctx context.Context, q store.Querier) (settings.Rules, *calendar.Calendar, error) {
	r, err := settings.Load(ctx, q)
	if err != nil {
		return r, nil, err
	}
	c, err := calendar.Load(ctx, q)
	return r, c, err
}
