package auth_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

func TestPasswordHash(t *testing.T) {
	h1, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Count(h1, "$") != 5 {
		t.Fatalf("hash %q is not a PHC argon2id string", h1)
	}
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, h := range []string{h1, h2} {
		if ok, err := auth.CheckPassword(h, "correct horse battery"); !ok || err != nil {
			t.Fatalf("right password: %v %v", ok, err)
		}
		for _, wrong := range []string{"correct horse batter", "Correct horse battery", "", "correct horse battery "} {
			if ok, err := auth.CheckPassword(h, wrong); ok || err != nil {
				t.Fatalf("wrong password %q: %v %v", wrong, ok, err)
			}
		}
	}
	if ok, err := auth.CheckPassword(h1, ""); ok || err != nil {
		t.Fatalf("empty password: %v %v", ok, err)
	}
	empty, _ := auth.HashPassword("")
	if ok, err := auth.CheckPassword(empty, ""); !ok || err != nil {
		t.Fatalf("hash of the empty password: %v %v", ok, err)
	}

	parts := strings.Split(h1, "$") // "", argon2id, v=19, m=…, salt, key
	with := func(i int, v string) string {
		p := slices.Clone(parts)
		p[i] = v
		return strings.Join(p, "$")
	}
	// A changed key is a mismatch, not an error.
	key := []byte(parts[5])
	if key[3] == 'A' {
		key[3] = 'B'
	} else {
		key[3] = 'A'
	}
	if ok, err := auth.CheckPassword(with(5, string(key)), "correct horse battery"); ok || err != nil {
		t.Fatalf("tampered key: %v %v", ok, err)
	}
	// A string that is not a well-formed hash is an error, never a match and
	// never a panic.
	for name, h := range map[string]string{
		"empty":           "",
		"bcrypt":          "$2a$10$abcdefghijklmnopqrstuuJ8Nh9C3s5r5yXJm7uYkM2TQWJ0z6r1K",
		"argon2i":         with(1, "argon2i"),
		"missing part":    strings.Join(parts[:5], "$"),
		"extra part":      h1 + "$x",
		"old version":     with(2, "v=16"),
		"no version":      with(2, "version"),
		"bad parameters":  with(3, "m=lots,t=2,p=1"),
		"no parameters":   with(3, ""),
		"zero passes":     with(3, "m=19456,t=0,p=1"),
		"zero lanes":      with(3, "m=19456,t=2,p=0"),
		"too many lanes":  with(3, "m=19456,t=2,p=256"),
		"salt not base64": with(4, "!!!!"),
		"key not base64":  with(5, "!!!!"),
		"empty key":       with(5, ""),
		"one-byte key":    with(5, "QQ"),
	} {
		t.Run(name, func(t *testing.T) {
			var ok bool
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("CheckPassword panicked: %v", r)
					}
				}()
				ok, err = auth.CheckPassword(h, "correct horse battery")
			}()
			if ok || err == nil {
				t.Fatalf("CheckPassword(%q) = %v, %v; want false and an error", h, ok, err)
			}
			if ok, _ := auth.CheckPassword(h, "anything at all"); ok {
				t.Fatalf("%q accepts any password", h)
			}
		})
	}
}

func TestRoleAndPrincipal(t *testing.T) {
	for _, r := range auth.Roles {
		if !r.Valid() {
			t.Errorf("%s is not valid", r)
		}
	}
	if auth.Role("root").Valid() || auth.Role("").Valid() {
		t.Error("unknown roles are valid")
	}
	for r, want := range map[auth.Role]bool{auth.UnitAdmin: true, auth.UnitMember: true, auth.Driver: true,
		auth.Admin: false, auth.Regulator: false, auth.Viewer: false} {
		if r.BoundToUnit() != want {
			t.Errorf("%s.BoundToUnit() = %v", r, !want)
		}
	}
	for _, c := range []struct {
		p    auth.Principal
		want bool
	}{
		{auth.Principal{Role: auth.Admin}, true},
		{auth.Principal{Role: auth.Regulator, RegionCode: auth.CityCode}, true},
		{auth.Principal{Role: auth.Regulator}, true},
		{auth.Principal{Role: auth.Regulator, RegionCode: "340603"}, false},
		{auth.Principal{Role: auth.Viewer}, false},
		{auth.Principal{Role: auth.Viewer, RegionCode: auth.CityCode}, false},
		{auth.Principal{Role: auth.UnitAdmin, UnitID: "u"}, false},
	} {
		if c.p.SeesAllRegions() != c.want {
			t.Errorf("%+v.SeesAllRegions() = %v", c.p, !c.want)
		}
	}
	p := auth.Principal{UserID: "id", Username: "name", Role: auth.Driver, UnitID: "unit"}
	if got, ok := auth.FromContext(auth.WithPrincipal(context.Background(), p)); !ok || got != p {
		t.Fatalf("FromContext = %+v, %v", got, ok)
	}
	if _, ok := auth.FromContext(context.Background()); ok {
		t.Fatal("a principal on an empty context")
	}
	if a := p.Actor(); a.UserID != "id" || a.Username != "name" || a.Role != "driver" || a.UnitID != "unit" {
		t.Fatalf("actor %+v", a)
	}
}

// env is a database with the reference data, two units and a department.
type env struct {
	t       *testing.T
	ctx     context.Context
	db      *store.DB
	svc     *auth.Service
	unitA   string // a generator in 相山区
	unitB   string // a carrier in 杜集区
	deptID  string
	admin   auth.Principal
	adminOf func(unit string) auth.Principal
}

const password = "wufei-test-password"

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error { return registry.SeedReference(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(db)
	root := auth.Principal{UserID: "root", Username: "root", Role: auth.Admin}
	a, err := reg.CreateUnit(ctx, root, registry.NewUnit{USCC: registry.MakeUSCC("91", "340603", "MA2N0001"), Name: "相山测试化工",
		Roles: []registry.UnitRole{registry.Generator}, RegionCode: "340603"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := reg.CreateUnit(ctx, root, registry.NewUnit{USCC: registry.MakeUSCC("91", "340602", "MA2N0002"), Name: "杜集测试运输",
		Roles: []registry.UnitRole{registry.Carrier}, RegionCode: "340602"})
	if err != nil {
		t.Fatal(err)
	}
	dept, err := reg.DepartmentByCode(ctx, "sthjj")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, db: db, svc: auth.NewService(db), unitA: a.ID, unitB: b.ID, deptID: dept.ID}
	admin, err := e.svc.CreateUser(ctx, root, auth.NewUser{Username: "admin", Password: password, Role: auth.Admin})
	if err != nil {
		t.Fatal(err)
	}
	e.admin = admin.Principal()
	e.adminOf = func(unit string) auth.Principal {
		return auth.Principal{UserID: "ua-" + unit, Username: "ua", Role: auth.UnitAdmin, UnitID: unit}
	}
	return e
}

func (e *env) user(in auth.NewUser) auth.User {
	e.t.Helper()
	if in.Password == "" {
		in.Password = password
	}
	u, err := e.svc.CreateUser(e.ctx, e.admin, in)
	if err != nil {
		e.t.Fatalf("create user %s: %v", in.Username, err)
	}
	return u
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := store.Get(e.ctx, e.db.Reader(), &n, query, args...); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) exec(query string, args ...any) {
	e.t.Helper()
	if err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
		_, err := store.Exec(e.ctx, tx, query, args...)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
}

var kindNames = map[errs.Kind]string{errs.Internal: "Internal", errs.Invalid: "Invalid", errs.NotFound: "NotFound",
	errs.Conflict: "Conflict", errs.Unauthorized: "Unauthorized", errs.Forbidden: "Forbidden", errs.TooMany: "TooMany"}

func wantErr(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want %s %s", err, kindNames[kind], code)
	}
	if e.Kind != kind || e.Code != code {
		t.Fatalf("got %s %s (%v), want %s %s", kindNames[e.Kind], e.Code, err, kindNames[kind], code)
	}
}

func wantFields(t *testing.T, err error, pairs ...string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		t.Fatalf("got %v, want a validation error %v", err, pairs)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field+"="+f.Code)
	}
	slices.Sort(got)
	want := slices.Clone(pairs)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
}

func TestCreateUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)

		t.Run("an admin creates every kind of account", func(t *testing.T) {
			for _, in := range []auth.NewUser{
				{Username: "Admin2", Role: auth.Admin},
				{Username: "sthjj", DisplayName: "市生态环境局", Role: auth.Regulator, DepartmentID: e.deptID, RegionCode: "340600"},
				{Username: "xsq", Role: auth.Regulator, DepartmentID: e.deptID, RegionCode: "340603"},
				{Username: "gen", Role: auth.UnitAdmin, UnitID: e.unitA},
				{Username: "gen.member", Role: auth.UnitMember, UnitID: e.unitA},
				{Username: "drv", Role: auth.Driver, UnitID: e.unitB},
				{Username: "public", Role: auth.Viewer},
				{Username: "xs-viewer", Role: auth.Viewer, RegionCode: "340603"},
			} {
				u := e.user(in)
				got, err := e.svc.GetUser(e.ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Username != strings.ToLower(in.Username) || got.Role != in.Role || got.UnitID != in.UnitID ||
					got.DepartmentID != in.DepartmentID || got.RegionCode != in.RegionCode || got.DisplayName != in.DisplayName ||
					got.Disabled || got.Version != 1 || got.ID != u.ID || !got.CreatedAt.Equal(u.CreatedAt) {
					t.Fatalf("%s read back as %+v", in.Username, got)
				}
				if got.Principal() != u.Principal() {
					t.Fatalf("principal %+v, want %+v", got.Principal(), u.Principal())
				}
			}
			var hash string
			if err := store.Get(e.ctx, e.db.Reader(), &hash, `SELECT password_hash FROM users WHERE username = ?`, "gen"); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(hash, password) || !strings.HasPrefix(hash, "$argon2id$") {
				t.Fatalf("stored password %q", hash)
			}
			if ok, err := auth.CheckPassword(hash, password); !ok || err != nil {
				t.Fatalf("stored hash does not check: %v %v", ok, err)
			}
		})

		t.Run("a unit admin creates members and drivers of its own unit", func(t *testing.T) {
			ua := e.adminOf(e.unitA)
			for _, in := range []auth.NewUser{
				{Username: "a-member", Password: password, Role: auth.UnitMember, UnitID: e.unitA},
				{Username: "a-driver", Password: password, Role: auth.Driver, UnitID: e.unitA},
			} {
				u, err := e.svc.CreateUser(e.ctx, ua, in)
				if err != nil || u.UnitID != e.unitA || u.Role != in.Role {
					t.Fatalf("%s: %v %+v", in.Username, err, u)
				}
			}
			users := e.count(`SELECT count(*) FROM users`)
			for _, in := range []auth.NewUser{
				{Username: "x1", Password: password, Role: auth.UnitAdmin, UnitID: e.unitA},
				{Username: "x2", Password: password, Role: auth.UnitMember, UnitID: e.unitB},
				{Username: "x3", Password: password, Role: auth.Driver, UnitID: e.unitB},
				{Username: "x4", Password: password, Role: auth.UnitMember},
				{Username: "x5", Password: password, Role: auth.Admin},
				{Username: "x6", Password: password, Role: auth.Regulator, DepartmentID: e.deptID},
				{Username: "x7", Password: password, Role: auth.Viewer},
			} {
				_, err := e.svc.CreateUser(e.ctx, ua, in)
				wantErr(t, err, errs.Forbidden, "forbidden")
			}
			member := auth.Principal{UserID: "m", Role: auth.UnitMember, UnitID: e.unitA}
			regulator := auth.Principal{UserID: "r", Role: auth.Regulator, RegionCode: auth.CityCode}
			for _, p := range []auth.Principal{member, regulator, {UserID: "v", Role: auth.Viewer}, {}} {
				_, err := e.svc.CreateUser(e.ctx, p, auth.NewUser{Username: "x8", Password: password, Role: auth.UnitMember, UnitID: e.unitA})
				wantErr(t, err, errs.Forbidden, "forbidden")
			}
			if e.count(`SELECT count(*) FROM users`) != users {
				t.Fatal("a forbidden account was created")
			}
		})

		t.Run("validation", func(t *testing.T) {
			users := e.count(`SELECT count(*) FROM users`)
			for _, c := range []struct {
				in   auth.NewUser
				want []string
			}{
				{auth.NewUser{Username: "v1", Password: password, Role: auth.UnitAdmin}, []string{"unit_id=unit_required"}},
				{auth.NewUser{Username: "v2", Password: password, Role: auth.UnitMember}, []string{"unit_id=unit_required"}},
				{auth.NewUser{Username: "v3", Password: password, Role: auth.Driver}, []string{"unit_id=unit_required"}},
				{auth.NewUser{Username: "v4", Password: password, Role: auth.Viewer, UnitID: e.unitA}, []string{"unit_id=unit_not_allowed"}},
				{auth.NewUser{Username: "v5", Password: password, Role: auth.Admin, UnitID: e.unitA}, []string{"unit_id=unit_not_allowed"}},
				{auth.NewUser{Username: "v6", Password: password, Role: auth.Regulator}, []string{"department_id=department_required"}},
				{auth.NewUser{Username: "v7", Password: password, Role: "root"}, []string{"role=role_unknown"}},
				{auth.NewUser{Username: "v8", Password: "123456789", Role: auth.Viewer}, []string{"password=password_short"}},
				{auth.NewUser{Username: "v9", Role: auth.Regulator, UnitID: e.unitA},
					[]string{"unit_id=unit_not_allowed", "department_id=department_required", "password=password_short"}},
			} {
				_, err := e.svc.CreateUser(e.ctx, e.admin, c.in)
				wantFields(t, err, c.want...)
			}
			if _, err := e.svc.CreateUser(e.ctx, e.admin, auth.NewUser{Username: "tenchars", Password: "1234567890",
				Role: auth.Viewer}); err != nil {
				t.Fatalf("a ten-character password: %v", err)
			}
			if e.count(`SELECT count(*) FROM users`) != users+1 {
				t.Fatal("an invalid account was created")
			}
		})

		t.Run("usernames are unique regardless of case", func(t *testing.T) {
			e.user(auth.NewUser{Username: "Carrier.Ops", Role: auth.Viewer})
			users := e.count(`SELECT count(*) FROM users`)
			_, err := e.svc.CreateUser(e.ctx, e.admin, auth.NewUser{Username: "carrier.ops", Password: password, Role: auth.Viewer})
			wantFields(t, err, "username=username_taken")
			_, err = e.svc.CreateUser(e.ctx, e.adminOf(e.unitB), auth.NewUser{Username: "CARRIER.OPS", Password: password,
				Role: auth.Driver, UnitID: e.unitB})
			wantFields(t, err, "username=username_taken")
			if e.count(`SELECT count(*) FROM users`) != users {
				t.Fatal("a duplicate account was created")
			}
		})

		t.Run("GetUser of an unknown id", func(t *testing.T) {
			_, err := e.svc.GetUser(e.ctx, "0190f5c4-0000-7000-8000-000000000000")
			wantErr(t, err, errs.NotFound, "user_not_found")
		})
	})
}

func TestLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		gen := e.user(auth.NewUser{Username: "gen", DisplayName: "产废单位管理员", Role: auth.UnitAdmin, UnitID: e.unitA})
		xsq := e.user(auth.NewUser{Username: "xsq", Role: auth.Regulator, DepartmentID: e.deptID, RegionCode: "340603"})

		t.Run("success issues a token for the user", func(t *testing.T) {
			before := store.Now()
			s, err := e.svc.Login(e.ctx, " GEN ", password)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(s.Token, "wf_") || len(s.Token) < 40 || s.User.ID != gen.ID {
				t.Fatalf("session %+v", s)
			}
			if d := s.ExpiresAt.Sub(before); d < 12*time.Hour || d > 12*time.Hour+time.Minute {
				t.Fatalf("session lasts %v", d)
			}
			p, err := e.svc.Authenticate(e.ctx, s.Token)
			if err != nil {
				t.Fatal(err)
			}
			want := auth.Principal{UserID: gen.ID, Username: "gen", DisplayName: "产废单位管理员", Role: auth.UnitAdmin, UnitID: e.unitA}
			if p != want {
				t.Fatalf("principal %+v, want %+v", p, want)
			}
			s2, err := e.svc.Login(e.ctx, "xsq", password)
			if err != nil {
				t.Fatal(err)
			}
			if s2.Token == s.Token {
				t.Fatal("two sessions share a token")
			}
			p, err = e.svc.Authenticate(e.ctx, s2.Token)
			if err != nil || p != xsq.Principal() || p.DepartmentID != e.deptID || p.RegionCode != "340603" {
				t.Fatalf("regulator principal %+v %v", p, err)
			}
			// Only a hash of the token is stored.
			if n := e.count(`SELECT count(*) FROM tokens WHERE hash = ?`, s.Token); n != 0 {
				t.Fatal("the token is stored in clear")
			}
			if n := e.count(`SELECT count(*) FROM tokens WHERE user_id = ? AND kind = 'session'`, gen.ID); n != 1 {
				t.Fatalf("%d session rows", n)
			}
		})

		t.Run("wrong password and unknown user fail alike", func(t *testing.T) {
			_, errWrong := e.svc.Login(e.ctx, "gen", "not-the-password")
			wantErr(t, errWrong, errs.Unauthorized, "invalid_credentials")
			_, errUnknown := e.svc.Login(e.ctx, "nobody", password)
			wantErr(t, errUnknown, errs.Unauthorized, "invalid_credentials")
			_, errEmpty := e.svc.Login(e.ctx, "", "")
			wantErr(t, errEmpty, errs.Unauthorized, "invalid_credentials")
			var a, b *errs.Error
			errors.As(errWrong, &a)
			errors.As(errUnknown, &b)
			if a.Message != b.Message {
				t.Fatalf("messages differ: %q vs %q", a.Message, b.Message)
			}
			if errs.KindOf(errWrong) != errs.Unauthorized {
				t.Fatal("KindOf does not see through the error")
			}
			e.exec(`DELETE FROM login_failures`)
		})

		t.Run("too many failures throttle even the right password", func(t *testing.T) {
			for i := range auth.MaxFailures {
				_, err := e.svc.Login(e.ctx, "gen", "guess-"+string(rune('a'+i)))
				wantErr(t, err, errs.Unauthorized, "invalid_credentials")
			}
			_, err := e.svc.Login(e.ctx, "gen", password)
			wantErr(t, err, errs.TooMany, "login_throttled")
			_, err = e.svc.Login(e.ctx, "GEN", password)
			wantErr(t, err, errs.TooMany, "login_throttled")
			// Another account is not affected.
			if _, err := e.svc.Login(e.ctx, "xsq", password); err != nil {
				t.Fatalf("xsq is throttled too: %v", err)
			}
			// Once the failures are older than the window, log-in works again.
			e.exec(`UPDATE login_failures SET at = ? WHERE username = ?`, store.Now().Add(-auth.FailureWindow-time.Minute), "gen")
			if _, err := e.svc.Login(e.ctx, "gen", password); err != nil {
				t.Fatalf("after the window: %v", err)
			}
			if n := e.count(`SELECT count(*) FROM login_failures WHERE username = ?`, "gen"); n != 0 {
				t.Fatalf("%d failures kept after a successful log-in", n)
			}
		})

		t.Run("unknown usernames are throttled too", func(t *testing.T) {
			for range auth.MaxFailures {
				_, err := e.svc.Login(e.ctx, "ghost", "x")
				wantErr(t, err, errs.Unauthorized, "invalid_credentials")
			}
			_, err := e.svc.Login(e.ctx, "ghost", "x")
			wantErr(t, err, errs.TooMany, "login_throttled")
		})

		t.Run("a successful log-in clears earlier failures", func(t *testing.T) {
			for range auth.MaxFailures - 1 {
				_, err := e.svc.Login(e.ctx, "xsq", "wrong-wrong")
				wantErr(t, err, errs.Unauthorized, "invalid_credentials")
			}
			if _, err := e.svc.Login(e.ctx, "xsq", password); err != nil {
				t.Fatalf("below the limit: %v", err)
			}
			// Without the reset these would make 2×(MaxFailures-1) failures.
			for range auth.MaxFailures - 1 {
				_, err := e.svc.Login(e.ctx, "xsq", "wrong-wrong")
				wantErr(t, err, errs.Unauthorized, "invalid_credentials")
			}
			if _, err := e.svc.Login(e.ctx, "xsq", password); err != nil {
				t.Fatalf("earlier failures were not cleared: %v", err)
			}
		})

		t.Run("logout revokes only that token", func(t *testing.T) {
			s1, err := e.svc.Login(e.ctx, "gen", password)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := e.svc.Login(e.ctx, "gen", password)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.svc.Logout(e.ctx, s1.Token); err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.Authenticate(e.ctx, s1.Token)
			wantErr(t, err, errs.Unauthorized, "invalid_token")
			if _, err := e.svc.Authenticate(e.ctx, s2.Token); err != nil {
				t.Fatalf("the other session was revoked: %v", err)
			}
			if err := e.svc.Logout(e.ctx, s1.Token); err != nil {
				t.Fatalf("logging out twice: %v", err)
			}
		})

		t.Run("bad and expired tokens are refused", func(t *testing.T) {
			for _, tok := range []string{"", "abc", "Bearer wf_x", "wf_", "wf_doesnotexist"} {
				_, err := e.svc.Authenticate(e.ctx, tok)
				wantErr(t, err, errs.Unauthorized, "invalid_token")
			}
			s, err := e.svc.Login(e.ctx, "xsq", password)
			if err != nil {
				t.Fatal(err)
			}
			e.exec(`UPDATE tokens SET expires_at = ? WHERE user_id = ?`, store.Now().Add(-time.Second), xsq.ID)
			_, err = e.svc.Authenticate(e.ctx, s.Token)
			wantErr(t, err, errs.Unauthorized, "invalid_token")
			// A new log-in works.
			s, err = e.svc.Login(e.ctx, "xsq", password)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Authenticate(e.ctx, s.Token); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("a disabled user can neither log in nor use a token", func(t *testing.T) {
			drv := e.user(auth.NewUser{Username: "drv", Role: auth.Driver, UnitID: e.unitB})
			s, err := e.svc.Login(e.ctx, "drv", password)
			if err != nil {
				t.Fatal(err)
			}
			api, err := e.svc.CreateToken(e.ctx, drv.Principal(), "", "telematics", 30*24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			e.exec(`UPDATE users SET disabled = ? WHERE id = ?`, true, drv.ID)
			if got, err := e.svc.GetUser(e.ctx, drv.ID); err != nil || !got.Disabled {
				t.Fatalf("not disabled: %v %+v", err, got)
			}
			_, err = e.svc.Login(e.ctx, "drv", password)
			wantErr(t, err, errs.Unauthorized, "invalid_credentials")
			for _, tok := range []string{s.Token, api.Token} {
				_, err = e.svc.Authenticate(e.ctx, tok)
				wantErr(t, err, errs.Unauthorized, "invalid_token")
			}
			e.exec(`UPDATE users SET disabled = ? WHERE id = ?`, false, drv.ID)
			if _, err := e.svc.Authenticate(e.ctx, api.Token); err != nil {
				t.Fatalf("re-enabled: %v", err)
			}
		})

		t.Run("log-ins are audited", func(t *testing.T) {
			n := e.count(`SELECT count(*) FROM audit_entries WHERE action = 'auth.login' AND entity_id = ? AND actor_username = 'gen'
				AND unit_id = ?`, gen.ID, e.unitA)
			if n < 3 {
				t.Fatalf("%d auth.login entries for gen", n)
			}
		})
	})
}

func TestCreateToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		gen := e.user(auth.NewUser{Username: "gen", Role: auth.UnitAdmin, UnitID: e.unitA})
		sys := e.user(auth.NewUser{Username: "sys", Role: auth.Viewer, RegionCode: "340603"})
		day := 24 * time.Hour

		t.Run("for oneself", func(t *testing.T) {
			before := store.Now()
			s, err := e.svc.CreateToken(e.ctx, gen.Principal(), "", "erp", 30*day)
			if err != nil {
				t.Fatal(err)
			}
			if d := s.ExpiresAt.Sub(before); d < 30*day || d > 30*day+time.Minute || s.User.ID != gen.ID {
				t.Fatalf("token %+v lasts %v", s, d)
			}
			p, err := e.svc.Authenticate(e.ctx, s.Token)
			if err != nil || p != gen.Principal() {
				t.Fatalf("%+v %v", p, err)
			}
			if n := e.count(`SELECT count(*) FROM tokens WHERE user_id = ? AND kind = 'api' AND name = 'erp'`, gen.ID); n != 1 {
				t.Fatalf("%d api tokens", n)
			}
			if s, err := e.svc.CreateToken(e.ctx, gen.Principal(), gen.ID, "erp2", day); err != nil || s.User.ID != gen.ID {
				t.Fatalf("naming oneself: %v %+v", err, s)
			}
		})

		t.Run("only admins issue for others", func(t *testing.T) {
			tokens := e.count(`SELECT count(*) FROM tokens`)
			_, err := e.svc.CreateToken(e.ctx, gen.Principal(), sys.ID, "steal", day)
			wantErr(t, err, errs.Forbidden, "forbidden")
			_, err = e.svc.CreateToken(e.ctx, auth.Principal{UserID: "r", Role: auth.Regulator}, sys.ID, "x", day)
			wantErr(t, err, errs.Forbidden, "forbidden")
			if e.count(`SELECT count(*) FROM tokens`) != tokens {
				t.Fatal("a forbidden token was stored")
			}
			s, err := e.svc.CreateToken(e.ctx, e.admin, sys.ID, "gateway", 366*day)
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.svc.Authenticate(e.ctx, s.Token)
			if err != nil || p.UserID != sys.ID || p.Role != auth.Viewer || p.RegionCode != "340603" {
				t.Fatalf("admin-issued token is %+v %v", p, err)
			}
			_, err = e.svc.CreateToken(e.ctx, e.admin, "0190f5c4-0000-7000-8000-000000000000", "x", day)
			wantErr(t, err, errs.NotFound, "user_not_found")
		})

		t.Run("lifetime is 1 to 366 days", func(t *testing.T) {
			tokens := e.count(`SELECT count(*) FROM tokens`)
			for _, ttl := range []time.Duration{-day, 0, time.Second, time.Hour, day - time.Second, 366*day + time.Second, 367 * day} {
				_, err := e.svc.CreateToken(e.ctx, gen.Principal(), "", "x", ttl)
				if err == nil {
					t.Errorf("ttl %v accepted", ttl)
					continue
				}
				wantFields(t, err, "expires_days=ttl_range")
			}
			if e.count(`SELECT count(*) FROM tokens`) != tokens {
				t.Fatal("a token with a bad lifetime was stored")
			}
			for _, ttl := range []time.Duration{day, 366 * day} {
				if _, err := e.svc.CreateToken(e.ctx, gen.Principal(), "", "ok", ttl); err != nil {
					t.Errorf("ttl %v: %v", ttl, err)
				}
			}
		})
	})
}

func TestInCity(t *testing.T) {
	for code, want := range map[string]bool{auth.CityCode: true, "340602": true, "340621": true, "340100": false, "": false} {
		if auth.InCity(code) != want {
			t.Errorf("InCity(%q) = %v", code, !want)
		}
	}
}
