package registry_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"wufei/internal/auth"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// BenchmarkCreateUnit compares registering a unit through the service
// (validation, scope check, the row, its roles, the audit entry with its
// Merkle-tree hashes, all in one transaction) with the same two inserts done
// raw on the same engine, one transaction per unit in both cases.
func BenchmarkCreateUnit(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			db, _ := e.Open(b)
			if err := db.Tx(ctx, func(tx *store.Tx) error { return registry.SeedReference(ctx, tx) }); err != nil {
				b.Fatal(err)
			}
			n := 0
			next := func() string {
				n++
				return registry.MakeUSCC("91", "340621", fmt.Sprintf("MB%06d", n))
			}
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					err := db.Tx(ctx, func(tx *store.Tx) error {
						id := uuid.Must(uuid.NewV7()).String()
						if _, err := store.Exec(ctx, tx, `INSERT INTO units (id, uscc, name, region_code, address, contact_name,
							contact_phone, industry_code, industry_name, status, created_at, updated_at, version)
							VALUES (?, ?, ?, ?, '', '', '', '2520', '炼焦', 'active', ?, ?, 1)`,
							id, next(), "淮北基准测试化工有限公司", "340621", tx.Now, tx.Now); err != nil {
							return err
						}
						_, err := store.Exec(ctx, tx, `INSERT INTO unit_roles (unit_id, role) VALUES (?, 'generator')`, id)
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			svc := registry.NewService(db)
			admin := auth.Principal{UserID: "bench", Username: "bench", Role: auth.Admin}
			b.Run("service", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := svc.CreateUnit(ctx, admin, registry.NewUnit{USCC: next(), Name: "淮北基准测试化工有限公司",
						Roles: []registry.UnitRole{registry.Generator}, RegionCode: "340621", IndustryCode: "2520",
						IndustryName: "炼焦"}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
