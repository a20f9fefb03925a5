package catalog_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"wufei/internal/audit"
	"wufei/internal/catalog"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

func FuzzParseCharacteristics(f *testing.F) {
	for _, s := range []string{"T", "T,I", "T/C/I/R/In", "C，T", "In", "", "X", "t i", "IN/In", "T、R", "TI", ",,"} {
		f.Add(s)
	}
	order := []string{"T", "C", "I", "R", "In"}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := catalog.ParseCharacteristics(s)
		if err != nil {
			if got != nil {
				t.Fatalf("%q: error %v with result %v", s, err, got)
			}
			return
		}
		if len(got) == 0 {
			t.Fatalf("%q: empty result without error", s)
		}
		// Canonical: known letters, in order, each once.
		last := -1
		for _, c := range got {
			i := slices.Index(order, c)
			if i <= last {
				t.Fatalf("%q: %v is not canonical", s, got)
			}
			last = i
		}
		// The stored form reads back as itself.
		again, err := catalog.ParseCharacteristics(strings.Join(got, ","))
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("%q: %v does not round-trip: %v, %v", s, got, again, err)
		}
	})
}

// FuzzImport feeds arbitrary files to Import on SQLite: it must never panic,
// and must load either every row of the file or none.
//
// Each input gets a fresh, seeded database, so that every file is judged
// from the same state; a shared one would let earlier inputs decide the
// outcome (and the audit log's tree grows with every import). Even so the
// engine's coverage is not deterministic — database/sql's pool, SQLite's
// pages — and the fuzzer would spend its time minimising inputs that only
// look new, so run it without minimisation:
//
//	go test -run '^$' -fuzz '^FuzzImport$' -fuzzminimizetime 0 ./internal/catalog/
func FuzzImport(f *testing.F) {
	f.Add([]byte(goodFile))
	f.Add([]byte("code,category,industry,description,characteristics\n900-249-08,HW08,非特定行业,废矿物油,\"T,I\"\n"))
	f.Add([]byte("code,category,industry,description,characteristics\n900-249-08,HW08,非特定行业,废矿物油,\"T,I\"\n900-24-08,HW08,x,y,T\n"))
	f.Add([]byte("\uFEFF废物代码,危险特性,危险废物,行业来源,废物类别\n772-002-18,T,生活垃圾焚烧飞灰,环境治理业,HW18\n"))
	f.Add([]byte("code,category,industry,description,characteristics\n\"900-041-49\",,非特定行业,\"a\nb\",T/In\n"))
	f.Add([]byte(""))
	f.Add([]byte("a,b\n\"unterminated"))
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, data []byte) {
		db, _ := storetest.SQLite(t)
		seed(t, db)
		before := snapshot(t, db)
		beforeAudit := count(t, db, `SELECT count(*) FROM audit_entries`)

		rep, err := catalog.Import(ctx, db, bytes.NewReader(data), audit.System)

		after := snapshot(t, db)
		afterAudit := count(t, db, `SELECT count(*) FROM audit_entries`)
		if err != nil {
			if !slices.Equal(before, after) || afterAudit != beforeAudit {
				t.Fatalf("failed import (%v) changed the database", err)
			}
			return
		}
		if afterAudit != beforeAudit+1 {
			t.Fatalf("import wrote %d audit entries, want 1", afterAudit-beforeAudit)
		}
		if rep.Inserted+rep.Updated != rep.Rows || len(after) != len(before)+rep.Inserted || rep.ProblemCount != 0 {
			t.Fatalf("report %+v: %d rows before, %d after", rep, len(before), len(after))
		}
		// Every row of the file is in the database, as the file says.
		codes, _, err := catalog.ParseCodes(bytes.NewReader(data), catalog.Edition)
		if err != nil {
			t.Fatalf("imported a file ParseCodes rejects: %v", err)
		}
		for _, w := range codes {
			got, err := catalog.GetWasteCode(ctx, db.Reader(), w.Code)
			if err != nil || got.Category != w.Category || got.Industry != w.Industry || got.Description != w.Description ||
				!slices.Equal(got.Characteristics, w.Characteristics) || got.Edition != catalog.Edition {
				t.Fatalf("%s: stored %+v, %v; file says %+v", w.Code, got, err, w)
			}
		}
	})
}

// snapshot is the waste_codes table as text, to tell whether anything changed.
func snapshot(t testing.TB, db *store.DB) []string {
	t.Helper()
	var rows []string
	err := store.Select(context.Background(), db.Reader(), &rows,
		`SELECT code || '|' || category || '|' || industry || '|' || description || '|' || characteristics || '|' || edition FROM waste_codes ORDER BY code`)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// A waste code is accepted exactly when it is ddd-ddd-dd in ASCII digits,
// and a refusal names the code without echoing an unbounded input.
func FuzzValidCode(f *testing.F) {
	for _, s := range []string{"900-249-08", "900-249-8", "９００-249-08", "900_249_08", "", "900-249-08 ", "abc-def-gh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := catalog.ValidCode(s)
		want := len(s) == 10 && s[3] == '-' && s[7] == '-' && strings.Trim(s[:3]+s[4:7]+s[8:], "0123456789") == ""
		if (err == nil) != want {
			t.Fatalf("%q: %v, want valid %v", s, err, want)
		}
		if err != nil && len(err.Error()) > 200+len("废物代码 格式应为 ddd-ddd-dd，如 900-041-49") {
			t.Fatalf("%q: error too long: %d bytes", s, len(err.Error()))
		}
	})
}
