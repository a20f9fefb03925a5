// Package auth holds accounts, sessions and API tokens, and the Principal
// every request acts as. Which rows a principal may see is decided by the
// domain services from the Principal's role, unit and region.
package auth

import (
	"context"
	"strings"

	"wufei/internal/audit"
)

// Role is what an account may do.
type Role string

const (
	Admin      Role = "admin"       // platform administrator
	Regulator  Role = "regulator"   // a department, city-wide or one region
	UnitAdmin  Role = "unit_admin"  // manages one unit
	UnitMember Role = "unit_member" // works for one unit
	Driver     Role = "driver"      // drives for one carrier unit
	Viewer     Role = "viewer"      // reads the public directory
)

// Roles lists every role, for validation.
var Roles = []Role{Admin, Regulator, UnitAdmin, UnitMember, Driver, Viewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// BoundToUnit reports whether accounts of this role belong to a unit.
func (r Role) BoundToUnit() bool { return r == UnitAdmin || r == UnitMember || r == Driver }

// CityCode is the region code whose regulators see the whole city.
const CityCode = "340600"

// CityPrefix begins the code of every region of the city: its counties,
// parks and townships.
const CityPrefix = "3406"

// InCity reports whether a region code is the city's or one within it.
func InCity(code string) bool { return strings.HasPrefix(code, CityPrefix) }

// Principal is the authenticated caller.
type Principal struct {
	UserID       string
	Username     string
	DisplayName  string
	Role         Role
	UnitID       string // unit-bound roles
	DepartmentID string // regulators
	RegionCode   string // regulators and viewers: the region they oversee
}

// Actor is the principal as the audit log records it.
func (p Principal) Actor() audit.Actor {
	return audit.Actor{UserID: p.UserID, Username: p.Username, Role: string(p.Role), UnitID: p.UnitID}
}

// SeesAllRegions reports whether the principal's view is the whole platform.
func (p Principal) SeesAllRegions() bool {
	return p.Role == Admin || (p.Role == Regulator && (p.RegionCode == "" || p.RegionCode == CityCode))
}

type ctxKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal of the request, if it is authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
