package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"wufei/internal/auth"
	"wufei/internal/qty"
	"wufei/internal/registry"
	"wufei/internal/store"
)

// The bench's own parties to a manifest. A database made by any means —
// the demo, the data generator, a real import — has none of them, and the
// bench knows no password of it, so it registers its own, once, through the
// registry and auth services like any other record, and issues itself
// tokens rather than logging in.
const (
	benchPlate    = "皖FWFB01"
	benchLicence  = "基准测试许可证 WFBENCH3"
	regulatorUser = "bench-regulator"
	benchPrefix   = "bench-"
)

// benchAdmin is the principal the bench registers its parties as.
var benchAdmin = auth.Principal{UserID: "system", Username: "bench", Role: auth.Admin}

// tokenTTL is the shortest an API token may live.
const tokenTTL = 24 * time.Hour

// EnsureParties registers, where missing, the bench's generator (with a
// generation and a storage facility), carrier (with a vehicle), receiver
// (licensed for HW08 by R9 with all the capacity a licence may hold) and a
// city-wide regulator, each party with an account, and returns their units
// and fresh tokens. The prepared reference data must be loaded.
func EnsureParties(ctx context.Context, db *store.DB) (Parties, error) {
	p, err := registerParties(ctx, db)
	if err != nil {
		return p, err
	}
	as := auth.NewService(db)
	dept, err := department(ctx, db)
	if err != nil {
		return p, err
	}
	for _, a := range []struct {
		user  auth.NewUser
		token *string
	}{
		{auth.NewUser{Username: regulatorUser, DisplayName: "基准测试监管账号", Role: auth.Regulator, DepartmentID: dept,
			RegionCode: auth.CityCode}, &p.Regulator},
		{auth.NewUser{Username: "bench-gen", DisplayName: "基准测试产废", Role: auth.UnitAdmin, UnitID: p.GenUnit}, &p.Gen},
		{auth.NewUser{Username: "bench-carrier", DisplayName: "基准测试运输", Role: auth.UnitAdmin, UnitID: p.CarrierUnit}, &p.Carrier},
		{auth.NewUser{Username: "bench-receiver", DisplayName: "基准测试接收", Role: auth.UnitAdmin, UnitID: p.DisposerUnit}, &p.Disposer},
	} {
		if *a.token, err = token(ctx, db, as, a.user); err != nil {
			return p, err
		}
	}
	return p, nil
}

// registerParties registers the three units with their equipment where
// missing, and returns them without tokens.
func registerParties(ctx context.Context, db *store.DB) (Parties, error) {
	reg := registry.NewService(db)
	var p Parties
	var err error
	unit := func(body, region, name string, roles ...registry.UnitRole) string {
		if err != nil {
			return ""
		}
		var id string
		id, err = ensureUnit(ctx, db, reg, registry.NewUnit{USCC: registry.MakeUSCC("91", region, body), Name: name,
			Roles: roles, RegionCode: region, Address: "基准测试", ContactName: "基准测试", ContactPhone: "0561-0000000"})
		return id
	}
	p.GenUnit = unit("WFBENCH1", "340621", "基准测试产废单位", registry.Generator)
	p.CarrierUnit = unit("WFBENCH2", "340602", "基准测试运输单位", registry.Carrier)
	p.DisposerUnit = unit("WFBENCH3", "340604", "基准测试利用处置单位", registry.Utiliser, registry.Disposer)
	if err != nil {
		return p, err
	}
	p.Plate = benchPlate
	return p, ensureEquipment(ctx, db, reg, p)
}

func ensureUnit(ctx context.Context, db *store.DB, reg *registry.Service, in registry.NewUnit) (string, error) {
	var id string
	err := store.Get(ctx, db.Reader(), &id, `SELECT id FROM units WHERE uscc = ?`, in.USCC)
	if errors.Is(err, store.ErrNotFound) {
		u, err := reg.CreateUnit(ctx, benchAdmin, in)
		if err != nil {
			return "", fmt.Errorf("bench: unit %s: %w", in.Name, err)
		}
		return u.ID, nil
	}
	return id, err
}

// ensureEquipment registers the generator's facilities, the carrier's
// vehicle and the receiver's licence where missing.
func ensureEquipment(ctx context.Context, db *store.DB, reg *registry.Service, p Parties) error {
	has := func(query string, args ...any) (bool, error) {
		var n int
		err := store.Get(ctx, db.Reader(), &n, query, args...)
		return n > 0, err
	}
	for _, f := range []registry.NewFacility{
		{UnitID: p.GenUnit, Code: "SC001", Kind: "generation", Name: "基准测试产生工段"},
		{UnitID: p.GenUnit, Code: "ZC001", Kind: "storage", Name: "基准测试贮存库", CapacityT: 1000},
	} {
		ok, err := has(`SELECT count(*) FROM facilities WHERE unit_id = ? AND code = ?`, f.UnitID, f.Code)
		if err == nil && !ok {
			_, err = reg.CreateFacility(ctx, benchAdmin, f)
		}
		if err != nil {
			return fmt.Errorf("bench: facility %s: %w", f.Code, err)
		}
	}
	ok, err := has(`SELECT count(*) FROM vehicles WHERE plate = ?`, benchPlate)
	if err == nil && !ok {
		valid := time.Now().AddDate(20, 0, 0).UTC().Truncate(24 * time.Hour)
		_, err = reg.CreateVehicle(ctx, benchAdmin, registry.NewVehicle{UnitID: p.CarrierUnit, Plate: benchPlate,
			PermitNo: "基准测试道路运输证", Kind: "厢式货车", CapacityT: 30, PermitValidTo: &valid})
	}
	if err != nil {
		return fmt.Errorf("bench: vehicle: %w", err)
	}
	ok, err = has(`SELECT count(*) FROM licences WHERE unit_id = ?`, p.DisposerUnit)
	if err == nil && !ok {
		_, err = reg.CreateLicence(ctx, benchAdmin, registry.NewLicence{UnitID: p.DisposerUnit, Number: benchLicence,
			Issuer: "基准测试", Kinds: []registry.LicenceKind{registry.Collect, registry.Store, registry.Utilise, registry.Dispose},
			CapacityT: qty.MaxTonnes, ValidFrom: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
			ValidTo: time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC), Scopes: []registry.LicenceScope{{Category: "HW08", Method: "R9"}}})
	}
	if err != nil {
		return fmt.Errorf("bench: licence: %w", err)
	}
	return nil
}

// department is the city's ecology and environment bureau, else the first
// department, for the regulator account.
func department(ctx context.Context, db *store.DB) (string, error) {
	var ids []string
	err := store.Select(ctx, db.Reader(), &ids, `SELECT id FROM departments ORDER BY CASE WHEN code = 'sthjj' THEN 0 ELSE 1 END, code LIMIT 1`)
	if err == nil && len(ids) == 0 {
		err = errors.New("bench: no department to register the regulator account in")
	}
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// token creates the account if it is missing, with a password nobody
// knows, and issues it a token.
func token(ctx context.Context, db *store.DB, as *auth.Service, in auth.NewUser) (string, error) {
	var id string
	err := store.Get(ctx, db.Reader(), &id, `SELECT id FROM users WHERE username = ?`, in.Username)
	if errors.Is(err, store.ErrNotFound) {
		in.Password = rand.Text()
		var u auth.User
		if u, err = as.CreateUser(ctx, benchAdmin, in); err == nil {
			id = u.ID
		}
	}
	if err != nil {
		return "", fmt.Errorf("bench: account %s: %w", in.Username, err)
	}
	s, err := as.CreateToken(ctx, benchAdmin, id, "bench", tokenTTL)
	if err != nil {
		return "", fmt.Errorf("bench: token for %s: %w", in.Username, err)
	}
	return s.Token, nil
}

// unitToken is a token of a bench member account of the unit, created
// where missing: how the bench reads as a unit it did not register.
func unitToken(ctx context.Context, db *store.DB, unitID string) (string, error) {
	name := benchPrefix + "unit-" + unitID[max(0, len(unitID)-12):]
	return token(ctx, db, auth.NewService(db), auth.NewUser{Username: name, DisplayName: "基准测试单位账号",
		Role: auth.UnitMember, UnitID: unitID})
}

// revoke ends the bench's tokens; a failure leaves tokens that expire in a day.
func revoke(ctx context.Context, db *store.DB, tokens ...string) {
	as := auth.NewService(db)
	for _, t := range tokens {
		if t != "" {
			_ = as.Logout(ctx, t)
		}
	}
}
