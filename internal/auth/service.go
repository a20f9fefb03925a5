package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// Login throttling: after MaxFailures failed attempts for one username within
// FailureWindow, further attempts are refused until the window passes.
const (
	MaxFailures   = 5
	FailureWindow = 15 * time.Minute
)

// Service manages accounts and tokens.
type Service struct {
	db         *store.DB
	SessionTTL time.Duration
}

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db, SessionTTL: 12 * time.Hour} }

// User is an account as the API shows it.
type User struct {
	ID           string    `db:"id" json:"id"`
	Username     string    `db:"username" json:"username"`
	DisplayName  string    `db:"display_name" json:"display_name"`
	Role         Role      `db:"role" json:"role"`
	UnitID       string    `db:"unit_id" json:"unit_id,omitempty"`
	DepartmentID string    `db:"department_id" json:"department_id,omitempty"`
	RegionCode   string    `db:"region_code" json:"region_code,omitempty"`
	Disabled     bool      `db:"disabled" json:"disabled"`
	CreatedAt    time.Time `db:"created_at" json:"created_at"`
	Version      int64     `db:"version" json:"version"`
}

// Principal is the user as a request principal.
func (u User) Principal() Principal {
	return Principal{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role,
		UnitID: u.UnitID, DepartmentID: u.DepartmentID, RegionCode: u.RegionCode}
}

const userColumns = `u.id, u.username, u.display_name, u.role, COALESCE(u.unit_id, '') AS unit_id,
	COALESCE(u.department_id, '') AS department_id, COALESCE(u.region_code, '') AS region_code,
	u.disabled, u.created_at, u.version`

// NewUser is what creating an account takes.
type NewUser struct {
	Username     string `json:"username" minLength:"2" maxLength:"64" pattern:"^[a-zA-Z0-9_.-]+$"`
	DisplayName  string `json:"display_name,omitempty" maxLength:"100"`
	Password     string `json:"password" minLength:"10" maxLength:"200"`
	Role         Role   `json:"role" enum:"admin,regulator,unit_admin,unit_member,driver,viewer"`
	UnitID       string `json:"unit_id,omitempty"`
	DepartmentID string `json:"department_id,omitempty"`
	RegionCode   string `json:"region_code,omitempty"`
}

// System is the platform acting on its own, as an administrator: seeding
// the demo, generating data sets, the console's commands. Its audit entries
// name "system".
var System = Principal{UserID: "system", Username: "system", Role: Admin}

// usernameRe is NewUser's username pattern, checked here too for callers
// other than the API (the console, generators).
var usernameRe = regexp.MustCompile(`^[a-zA-Z0-9_.-]{2,64}$`)

// CreateUser adds an account. Admins create any account; a unit admin
// creates members and drivers of its own unit.
func (s *Service) CreateUser(ctx context.Context, p Principal, in NewUser) (User, error) {
	return s.createUser(ctx, p, in, HashPassword)
}

func (s *Service) createUser(ctx context.Context, p Principal, in NewUser, hashOf func(string) (string, error)) (User, error) {
	switch {
	case p.Role == Admin:
	case p.Role == UnitAdmin && (in.Role == UnitMember || in.Role == Driver) && in.UnitID == p.UnitID:
	default:
		return User{}, errs.E(errs.Forbidden, "forbidden", "无权创建该账号")
	}
	var v errs.Validation
	if !usernameRe.MatchString(in.Username) {
		v.Add("username", "username_invalid", "用户名为 2–64 位字母、数字、下划线、点或连字符")
	}
	if !in.Role.Valid() {
		v.Add("role", "role_unknown", "未知角色")
	}
	if in.Role.BoundToUnit() && in.UnitID == "" {
		v.Add("unit_id", "unit_required", "该角色必须绑定单位")
	}
	if !in.Role.BoundToUnit() && in.UnitID != "" {
		v.Add("unit_id", "unit_not_allowed", "该角色不绑定单位")
	}
	if in.Role == Regulator && in.DepartmentID == "" {
		v.Add("department_id", "department_required", "监管账号必须属于一个部门")
	}
	if len(in.Password) < 10 {
		v.Add("password", "password_short", "密码至少 10 位")
	}
	if err := v.Err(); err != nil {
		return User{}, err
	}
	hash, err := hashOf(in.Password)
	if err != nil {
		return User{}, err
	}
	u := User{ID: uuid.Must(uuid.NewV7()).String(), Username: strings.ToLower(in.Username), DisplayName: in.DisplayName,
		Role: in.Role, UnitID: in.UnitID, DepartmentID: in.DepartmentID, RegionCode: in.RegionCode, Version: 1}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		u.CreatedAt = tx.Now
		_, err := store.Exec(ctx, tx, `INSERT INTO users (id, username, display_name, password_hash, role, unit_id,
			department_id, region_code, disabled, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			u.ID, u.Username, u.DisplayName, hash, string(u.Role), nullIfEmpty(u.UnitID), nullIfEmpty(u.DepartmentID),
			nullIfEmpty(u.RegionCode), false, tx.Now, tx.Now)
		if errors.Is(err, store.ErrExists) {
			return errs.Field("username", "username_taken", "用户名已存在")
		}
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "user.create", Entity: "user", EntityID: u.ID,
			UnitID: u.UnitID, RegionCode: u.RegionCode, Change: u})
		return err
	})
	return u, err
}

// CreateUserHashed adds an account whose password hash is already made:
// generated data sets give thousands of accounts one password, hashed once.
// in.Password is ignored; every other check is CreateUser's.
func (s *Service) CreateUserHashed(ctx context.Context, p Principal, in NewUser, hash string) (User, error) {
	in.Password = "hashed-elsewhere"
	return s.createUser(ctx, p, in, func(string) (string, error) { return hash, nil })
}

// GetUser returns one account.
func (s *Service) GetUser(ctx context.Context, id string) (User, error) {
	var u User
	err := store.Get(ctx, s.db.Reader(), &u, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id)
	if errors.Is(err, store.ErrNotFound) {
		return u, errs.E(errs.NotFound, "user_not_found", "用户不存在")
	}
	return u, err
}

// Session is a bearer token issued at log-in or for a system.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

var errBadLogin = errs.E(errs.Unauthorized, "invalid_credentials", "用户名或密码错误")

// dummyHash keeps the time of a log-in for an unknown user like that of a
// known one, so timing does not reveal which usernames exist.
var dummyHash, _ = HashPassword("not-a-real-password")

// Login checks a username and password and issues a session token.
func (s *Service) Login(ctx context.Context, username, password string) (Session, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	now := store.Now()
	var failures int
	if err := store.Get(ctx, s.db.Reader(), &failures,
		`SELECT count(*) FROM login_failures WHERE username = ? AND at > ?`, username, now.Add(-FailureWindow)); err != nil {
		return Session{}, err
	}
	if failures >= MaxFailures {
		return Session{}, errs.E(errs.TooMany, "login_throttled", "登录失败次数过多，请 15 分钟后再试")
	}
	var row struct {
		User
		PasswordHash string `db:"password_hash"`
	}
	err := store.Get(ctx, s.db.Reader(), &row, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE u.username = ?`, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Session{}, err
	}
	hash := row.PasswordHash
	if hash == "" {
		hash = dummyHash
	}
	ok, herr := CheckPassword(hash, password)
	if err != nil || herr != nil || !ok || row.Disabled {
		ferr := s.db.Tx(ctx, func(tx *store.Tx) error {
			_, err := store.Exec(ctx, tx, `INSERT INTO login_failures (username, at) VALUES (?, ?)`, username, tx.Now)
			return err
		})
		return Session{}, errors.Join(errBadLogin, ferr)
	}
	return s.issue(ctx, row.User, "session", "", s.SessionTTL, "auth.login")
}

// CreateToken issues a long-lived API token for a system account. Admins may
// issue for anyone; other users only for themselves.
func (s *Service) CreateToken(ctx context.Context, p Principal, userID, name string, ttl time.Duration) (Session, error) {
	if userID == "" {
		userID = p.UserID
	}
	if p.Role != Admin && userID != p.UserID {
		return Session{}, errs.E(errs.Forbidden, "forbidden", "只能为本人创建令牌")
	}
	if ttl < 24*time.Hour || ttl > 366*24*time.Hour {
		return Session{}, errs.Field("expires_days", "ttl_range", "有效期须在 1 至 366 天之间")
	}
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return Session{}, err
	}
	return s.issue(ctx, u, "api", name, ttl, "token.create")
}

func (s *Service) issue(ctx context.Context, u User, kind, name string, ttl time.Duration, action string) (Session, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Session{}, err
	}
	token := "wf_" + base64.RawURLEncoding.EncodeToString(secret)
	var sess Session
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		sess = Session{Token: token, ExpiresAt: tx.Now.Add(ttl), User: u}
		if _, err := store.Exec(ctx, tx, `INSERT INTO tokens (hash, user_id, kind, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			tokenHash(token), u.ID, kind, name, tx.Now, sess.ExpiresAt); err != nil {
			return err
		}
		if kind == "session" {
			if _, err := store.Exec(ctx, tx, `DELETE FROM login_failures WHERE username = ?`, u.Username); err != nil {
				return err
			}
		}
		_, err := audit.Append(ctx, tx, u.Principal().Actor(), audit.Record{Action: action, Entity: "user", EntityID: u.ID,
			UnitID: u.UnitID, RegionCode: u.RegionCode,
			Change: map[string]any{"kind": kind, "name": name, "expires_at": sess.ExpiresAt, "token_id": tokenHash(token)[:16]}})
		return err
	})
	return sess, err
}

// Authenticate resolves a bearer token to its principal.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	if !strings.HasPrefix(token, "wf_") {
		return Principal{}, errs.E(errs.Unauthorized, "invalid_token", "令牌无效")
	}
	var u User
	err := store.Get(ctx, s.db.Reader(), &u, `SELECT `+userColumns+` FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = ? AND t.expires_at > ? AND u.disabled = ?`, tokenHash(token), store.Now(), false)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, errs.E(errs.Unauthorized, "invalid_token", "令牌无效或已过期")
	}
	if err != nil {
		return Principal{}, err
	}
	return u.Principal(), nil
}

// Logout revokes a token.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := store.Exec(ctx, tx, `DELETE FROM tokens WHERE hash = ?`, tokenHash(token))
		return err
	})
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
