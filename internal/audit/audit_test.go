package audit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"wufei/internal/audit"
	"wufei/internal/errs"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

var ctx = context.Background()

// rec is the i'th test record: units u0..u2, regions under 340600 and 340700.
func rec(i int) audit.Record {
	return audit.Record{
		Action:     "unit.update",
		Entity:     "unit",
		EntityID:   fmt.Sprintf("e%d", i%4),
		UnitID:     fmt.Sprintf("u%d", i%3),
		RegionCode: []string{"340602", "340603", "340721"}[i%3],
		Change:     map[string]any{"i": i, "name": "淮北<测试>&", "before": nil},
	}
}

var actor = audit.Actor{UserID: "u-1", Username: "张三", Role: "admin", UnitID: "u0"}

// appendN appends n records, each in its own transaction.
func appendN(t testing.TB, db *store.DB, n int) {
	t.Helper()
	for i := range n {
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := audit.Append(ctx, tx, actor, rec(i))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func newLog(t testing.TB, db *store.DB) *audit.Log {
	t.Helper()
	l, err := audit.LoadOrCreateSigner(ctx, db, filepath.Join(t.TempDir(), "audit.key"), audit.DefaultKeyName)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func allEntries(t testing.TB, db *store.DB) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	for after := int64(0); ; {
		page, err := audit.ReadEntries(ctx, db.Reader(), audit.Filter{After: after, Limit: audit.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

// checkChain checks seqs 1..n without gaps, the hash chain and the head.
func checkChain(t *testing.T, db *store.DB, n int) {
	t.Helper()
	es := allEntries(t, db)
	if len(es) != n {
		t.Fatalf("%d entries, want %d", len(es), n)
	}
	prev := []byte{}
	for i, e := range es {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d has seq %d", i+1, e.Seq)
		}
		if !bytes.Equal(e.PrevHash, prev) {
			t.Fatalf("entry %d: prev_hash %x, want %x", e.Seq, e.PrevHash, prev)
		}
		if h := tlog.RecordHash(e.Leaf()); !bytes.Equal(e.Hash, h[:]) {
			t.Fatalf("entry %d: hash is not RecordHash(Leaf)", e.Seq)
		}
		prev = e.Hash
	}
	var head struct {
		Seq  int64  `db:"seq"`
		Hash []byte `db:"hash"`
	}
	if err := store.Get(ctx, db.Reader(), &head, `SELECT seq, hash FROM audit_head`); err != nil {
		t.Fatal(err)
	}
	if head.Seq != int64(n) || !bytes.Equal(head.Hash, prev) {
		t.Fatalf("head (%d, %x), want (%d, %x)", head.Seq, head.Hash, n, prev)
	}
	var rows int64
	if err := store.Get(ctx, db.Reader(), &rows, `SELECT count(*) FROM audit_tree`); err != nil {
		t.Fatal(err)
	}
	if want := tlog.StoredHashCount(int64(n)); rows != want {
		t.Fatalf("%d tree rows, want %d", rows, want)
	}
}

func mustVerify(t *testing.T, db *store.DB, vkey string) audit.Report {
	t.Helper()
	rep, err := audit.Verify(ctx, db, vkey)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("verify: %s", rep)
	}
	return rep
}

func TestAppendChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		appendN(t, db, 37)
		checkChain(t, db, 37)
		es := allEntries(t, db)
		if es[0].ActorUsername != "张三" || es[0].Change != `{"before":null,"i":0,"name":"淮北\u003c测试\u003e\u0026"}` {
			t.Fatalf("entry 1 = %+v", es[0])
		}
		if es[0].At.Location().String() != "UTC" {
			t.Fatalf("at not in UTC: %v", es[0].At)
		}
		rep := mustVerify(t, db, "")
		if rep.Entries != 37 || rep.Size != 37 {
			t.Fatalf("report %+v", rep)
		}
	})
}

func TestAppendSeveralInOneTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		err := db.Tx(ctx, func(tx *store.Tx) error {
			for i := range 5 {
				seq, err := audit.Append(ctx, tx, audit.System, rec(i))
				if err != nil {
					return err
				}
				if seq != int64(i+1) {
					return fmt.Errorf("seq %d, want %d", seq, i+1)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		checkChain(t, db, 5)
	})
}

func TestConcurrentAppend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const workers, each = 20, 5
		var wg sync.WaitGroup
		errc := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					errc <- db.Tx(ctx, func(tx *store.Tx) error {
						_, err := audit.Append(ctx, tx, actor, rec(w*each+i))
						return err
					})
				}
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		checkChain(t, db, workers*each)
		mustVerify(t, db, "")
	})
}

func TestRollbackLeavesNoGap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		appendN(t, db, 2)
		boom := errors.New("boom")
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if seq, err := audit.Append(ctx, tx, actor, rec(99)); err != nil || seq != 3 {
				return fmt.Errorf("append: %d, %v", seq, err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		var seq int64
		err = db.Tx(ctx, func(tx *store.Tx) error {
			seq, err = audit.Append(ctx, tx, actor, rec(3))
			return err
		})
		if err != nil || seq != 3 {
			t.Fatalf("after rollback: seq %d, %v", seq, err)
		}
		checkChain(t, db, 3)
		mustVerify(t, db, "")
	})
}

func TestVerifyClean(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rep := mustVerify(t, db, "")
		if rep.Entries != 0 || rep.Size != 0 {
			t.Fatalf("empty log: %+v", rep)
		}
		l := newLog(t, db)
		var cps []audit.Checkpoint
		// 2,345 entries cross Verify's 1,000-entry batches; several appends per
		// transaction keep the test fast.
		for _, n := range []int{1, 500, 999, 845} {
			err := db.Tx(ctx, func(tx *store.Tx) error {
				for i := range n {
					if _, err := audit.Append(ctx, tx, actor, rec(i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			cp, err := l.Checkpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cps = append(cps, cp)
		}
		last := cps[len(cps)-1]
		for _, vkey := range []string{l.VerifierKey(), ""} {
			rep := mustVerify(t, db, vkey)
			if rep.Entries != 2345 || rep.Checkpoints != 4 || rep.Root != last.Root || last.Size != 2345 {
				t.Fatalf("report %+v, last checkpoint %+v", rep, last)
			}
		}
		// Another database's key does not verify these checkpoints.
		_, other, err := note.GenerateKey(nil, audit.DefaultKeyName)
		if err != nil {
			t.Fatal(err)
		}
		rep, err = audit.Verify(ctx, db, other)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK || rep.Code != audit.ProblemCheckpointSignature || rep.Checkpoint != 1 {
			t.Fatalf("foreign key: %+v", rep)
		}
	})
}

func dropTriggers(t *testing.T, db *store.DB) {
	t.Helper()
	stmts := []string{
		`DROP TRIGGER audit_entries_no_update`, `DROP TRIGGER audit_entries_no_delete`,
		`DROP TRIGGER audit_tree_no_update`, `DROP TRIGGER audit_tree_no_delete`,
	}
	if db.Dialect == store.Postgres {
		stmts = []string{
			`DROP TRIGGER audit_entries_append_only ON audit_entries`,
			`DROP TRIGGER audit_tree_append_only ON audit_tree`,
		}
	}
	for _, s := range stmts {
		if _, err := db.Writer().ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
}

func exec(t *testing.T, db *store.DB, query string, args ...any) {
	t.Helper()
	n, err := store.Exec(ctx, db.Writer(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("%s: no rows affected", query)
	}
}

func TestTamperDetected(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(t *testing.T, db *store.DB, l *audit.Log)
		seq     int64
		code    string
		entries int64
	}{
		{"change text", func(t *testing.T, db *store.DB, _ *audit.Log) {
			exec(t, db, `UPDATE audit_entries SET change = ? WHERE seq = 4`, `{"i":400}`)
		}, 4, audit.ProblemHash, 3},
		{"actor", func(t *testing.T, db *store.DB, _ *audit.Log) {
			exec(t, db, `UPDATE audit_entries SET actor_username = 'someone' WHERE seq = 9`)
		}, 9, audit.ProblemHash, 8},
		{"prev hash", func(t *testing.T, db *store.DB, _ *audit.Log) {
			exec(t, db, `UPDATE audit_entries SET prev_hash = ? WHERE seq = 5`, make([]byte, 32))
		}, 5, audit.ProblemChain, 4},
		{"delete middle entry", func(t *testing.T, db *store.DB, _ *audit.Log) {
			exec(t, db, `DELETE FROM audit_entries WHERE seq = 6`)
		}, 6, audit.ProblemGap, 5},
		{"delete last entry", func(t *testing.T, db *store.DB, _ *audit.Log) {
			exec(t, db, `DELETE FROM audit_entries WHERE seq = 10`)
		}, 10, audit.ProblemHead, 9},
		{"delete last entry and wind back the head", func(t *testing.T, db *store.DB, _ *audit.Log) {
			exec(t, db, `DELETE FROM audit_tree WHERE idx >= ?`, tlog.StoredHashIndex(0, 9))
			exec(t, db, `DELETE FROM audit_entries WHERE seq = 10`)
			exec(t, db, `UPDATE audit_head SET seq = 9, hash = (SELECT hash FROM audit_entries WHERE seq = 9)`)
		}, 10, audit.ProblemCheckpointBeyond, 9},
		{"change tree leaf", func(t *testing.T, db *store.DB, _ *audit.Log) {
			exec(t, db, `UPDATE audit_tree SET hash = ? WHERE idx = ?`, make([]byte, 32), tlog.StoredHashIndex(0, 6))
		}, 7, audit.ProblemTree, 6},
		{"change tree node", func(t *testing.T, db *store.DB, _ *audit.Log) {
			exec(t, db, `UPDATE audit_tree SET hash = ? WHERE idx = ?`, make([]byte, 32), tlog.StoredHashIndex(2, 1))
		}, 8, audit.ProblemTree, 7},
		{"delete tree row", func(t *testing.T, db *store.DB, _ *audit.Log) {
			exec(t, db, `DELETE FROM audit_tree WHERE idx = ?`, tlog.StoredHashIndex(1, 0))
		}, 2, audit.ProblemTree, 1},
		{"head hash", func(t *testing.T, db *store.DB, _ *audit.Log) {
			exec(t, db, `UPDATE audit_head SET hash = ?`, make([]byte, 32))
		}, 10, audit.ProblemHead, 10},
		{"checkpoint note", func(t *testing.T, db *store.DB, _ *audit.Log) {
			var n string
			if err := store.Get(ctx, db.Reader(), &n, `SELECT note FROM audit_checkpoints WHERE size = 10`); err != nil {
				t.Fatal(err)
			}
			n = string(bytes.Replace([]byte(n), []byte("\n10\n"), []byte("\n11\n"), 1))
			exec(t, db, `UPDATE audit_checkpoints SET note = ?, size = 11 WHERE size = 10`, n)
			appendN(t, db, 1)
		}, 11, audit.ProblemCheckpointSignature, 11},
		{"whole history rewritten", func(t *testing.T, db *store.DB, l *audit.Log) {
			// Someone with the database but not the key replays the log
			// with one record changed: chain and tree are consistent again.
			exec(t, db, `DELETE FROM audit_tree`)
			exec(t, db, `DELETE FROM audit_entries`)
			exec(t, db, `UPDATE audit_head SET seq = 0, hash = ?`, []byte{})
			for i := range 10 {
				r := rec(i)
				if i == 3 {
					r.Change = "forged"
				}
				if err := db.Tx(ctx, func(tx *store.Tx) error {
					_, err := audit.Append(ctx, tx, actor, r)
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			// The log will not sign a tree that does not extend its last checkpoint.
			appendN(t, db, 1)
			if _, err := l.Checkpoint(ctx); err == nil {
				t.Fatal("checkpoint of a rewritten log was signed")
			}
		}, 10, audit.ProblemCheckpointRoot, 10},
	}
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					db, _ := e.Open(t)
					l := newLog(t, db)
					appendN(t, db, 10)
					if _, err := l.Checkpoint(ctx); err != nil {
						t.Fatal(err)
					}
					mustVerify(t, db, l.VerifierKey())
					dropTriggers(t, db)
					c.tamper(t, db, l)
					rep, err := audit.Verify(ctx, db, l.VerifierKey())
					if err != nil {
						t.Fatal(err)
					}
					if rep.OK || rep.Seq != c.seq || rep.Code != c.code || rep.Entries != c.entries {
						t.Fatalf("got %+v\nwant seq %d, code %s, %d entries checked", rep, c.seq, c.code, c.entries)
					}
					t.Log(rep)
				})
			}
		})
	}
}

func TestTriggersRefuseChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		appendN(t, db, 3)
		for _, q := range []string{
			`UPDATE audit_entries SET change = '{}' WHERE seq = 2`,
			`DELETE FROM audit_entries WHERE seq = 3`,
			`UPDATE audit_tree SET hash = hash WHERE idx = 0`,
			`DELETE FROM audit_tree WHERE idx = 0`,
		} {
			err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := store.Exec(ctx, tx, q)
				return err
			})
			if err == nil {
				t.Errorf("%s: succeeded", q)
			}
		}
		checkChain(t, db, 3)
		mustVerify(t, db, "")
	})
}

func TestCheckpointAndProof(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := newLog(t, db)
		appendN(t, db, 13)
		cp, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		verifier, err := note.NewVerifier(l.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open([]byte(cp.Note), note.VerifierList(verifier))
		if err != nil {
			t.Fatal(err)
		}
		tree, err := tlog.ParseTree([]byte(n.Text))
		if err != nil {
			t.Fatal(err)
		}
		if tree.N != 13 || cp.Size != 13 || tree.Hash.String() != cp.Root {
			t.Fatalf("checkpoint %+v, note tree %+v", cp, tree)
		}
		if again, err := l.Checkpoint(ctx); err != nil || again != cp {
			t.Fatalf("second checkpoint %+v, %v", again, err)
		}

		appendN(t, db, 7)
		for k := int64(1); k <= 20; k++ {
			p, err := l.Entry(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			// Exercise the JSON the API serves, then check offline.
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var got audit.Proof
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			wantSize := int64(13)
			if k > 13 {
				wantSize = 20
			}
			if got.TreeSize != wantSize || got.Index != k-1 || got.Entry.Seq != k {
				t.Fatalf("entry %d: tree size %d, index %d, seq %d", k, got.TreeSize, got.Index, got.Entry.Seq)
			}
			if err := checkOffline(got, l.VerifierKey()); err != nil {
				t.Fatalf("entry %d: %v", k, err)
			}
			leaf, _ := base64.StdEncoding.DecodeString(got.Leaf)
			got.Leaf = base64.StdEncoding.EncodeToString(bytes.Replace(leaf, []byte(`"u-1"`), []byte(`"u-2"`), 1))
			if err := checkOffline(got, l.VerifierKey()); err == nil {
				t.Fatalf("entry %d: altered leaf verified", k)
			}
		}
		var count int
		if err := store.Get(ctx, db.Reader(), &count, `SELECT count(*) FROM audit_checkpoints`); err != nil {
			t.Fatal(err)
		}
		if count != 2 {
			t.Fatalf("%d checkpoints, want 2", count)
		}

		_, err = l.Entry(ctx, 21)
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.NotFound || e.Code != "audit_entry_not_found" {
			t.Fatalf("missing entry: %v", err)
		}
		if _, err := l.Entry(ctx, 0); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("entry 0: %v", err)
		}
	})
}

// checkOffline is what docs/audit.md tells an outside party to do.
func checkOffline(p audit.Proof, vkey string) error {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return err
	}
	n, err := note.Open([]byte(p.Checkpoint), note.VerifierList(v))
	if err != nil {
		return err
	}
	tree, err := tlog.ParseTree([]byte(n.Text))
	if err != nil {
		return err
	}
	leaf, err := base64.StdEncoding.DecodeString(p.Leaf)
	if err != nil {
		return err
	}
	var fields struct {
		Seq int64 `json:"seq"`
	}
	if err := json.Unmarshal(leaf, &fields); err != nil {
		return err
	}
	proof := make(tlog.RecordProof, len(p.InclusionProof))
	for i, s := range p.InclusionProof {
		if proof[i], err = tlog.ParseHash(s); err != nil {
			return err
		}
	}
	return tlog.CheckRecord(proof, tree.N, tree.Hash, fields.Seq-1, tlog.RecordHash(leaf))
}

func TestSigner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		path := filepath.Join(dir, "keys", "audit.key")
		l1, err := audit.LoadOrCreateSigner(ctx, db, path, audit.DefaultKeyName)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v", fi.Mode())
		}
		l2, err := audit.LoadOrCreateSigner(ctx, db, path, audit.DefaultKeyName)
		if err != nil {
			t.Fatal(err)
		}
		if l1.VerifierKey() != l2.VerifierKey() {
			t.Fatal("the same key file gave two keys")
		}
		var stored string
		if err := store.Get(ctx, db.Reader(), &stored, `SELECT verifier FROM audit_keys WHERE name = ?`, audit.DefaultKeyName); err != nil {
			t.Fatal(err)
		}
		if stored != l1.VerifierKey() {
			t.Fatalf("audit_keys has %s, want %s", stored, l1.VerifierKey())
		}
		// A different key file on the same database is refused.
		_, err = audit.LoadOrCreateSigner(ctx, db, filepath.Join(dir, "other.key"), audit.DefaultKeyName)
		if !errors.Is(err, audit.ErrKeyMismatch) {
			t.Fatalf("foreign key: %v", err)
		}
		// A key file is used under its own name only.
		if _, err := audit.LoadOrCreateSigner(ctx, db, path, "other.name"); err == nil {
			t.Fatal("key loaded under another name")
		}
	})
}

func TestReadEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		appendN(t, db, 30)
		q := db.Reader()
		es, err := audit.ReadEntries(ctx, q, audit.Filter{Where: "unit_id = ?", Args: []any{"u1"}, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 4 || es[0].Seq != 2 || es[3].Seq != 11 {
			t.Fatalf("unit page 1: %v", seqs(es))
		}
		es, err = audit.ReadEntries(ctx, q, audit.Filter{After: 11, Where: "unit_id = ?", Args: []any{"u1"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 6 || es[0].Seq != 14 || es[5].Seq != 29 {
			t.Fatalf("unit page 2: %v", seqs(es))
		}
		es, err = audit.ReadEntries(ctx, q, audit.Filter{Where: "region_code LIKE ? OR unit_id = ?", Args: []any{"3407%", "u0"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 20 {
			t.Fatalf("region or unit: %v", seqs(es))
		}
		es, err = audit.ReadEntries(ctx, q, audit.Filter{After: 25})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 5 || es[0].Seq != 26 {
			t.Fatalf("after 25: %v", seqs(es))
		}
		if _, err := audit.ReadEntries(ctx, q, audit.Filter{Where: "unit_id = ?"}); err == nil {
			t.Fatal("missing argument accepted")
		}
		if _, err := audit.ReadEntries(ctx, q, audit.Filter{Where: "1=1; DROP TABLE units"}); err == nil {
			t.Fatal("two statements accepted")
		}
		h, err := audit.EntityHistory(ctx, q, "unit", "e2")
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 7 || h[0].Seq != 3 || h[6].Seq != 27 {
			t.Fatalf("history: %v", seqs(h))
		}
		h, err = audit.EntityHistory(ctx, q, "unit", "none")
		if err != nil || h == nil || len(h) != 0 {
			t.Fatalf("empty history: %v, %v", h, err)
		}
	})
}

func seqs(es []audit.Entry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

// Two handles on one database, as two server processes would have, append
// concurrently while some of their transactions roll back: each handle's
// remembered head goes stale under the other's appends and its own
// rollbacks, and the chain stays whole and gapless.
func TestTwoHandlesAppend(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) { twoHandles(t, e) })
	}
}

func twoHandles(t *testing.T, e storetest.Engine) {
	db, u := e.Open(t)
	other, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	boom := errors.New("boom")
	var wg sync.WaitGroup
	var kept atomic.Int64
	errc := make(chan error, 200)
	for w, h := range []*store.DB{db, other, db, other} {
		wg.Go(func() {
			for i := range 25 {
				err := h.Tx(ctx, func(tx *store.Tx) error {
					for range 1 + i%2 {
						if _, err := audit.Append(ctx, tx, actor, rec(w*100+i)); err != nil {
							return err
						}
					}
					if i%7 == 3 {
						return boom
					}
					return nil
				})
				switch {
				case err == nil:
					kept.Add(int64(1 + i%2))
				case !errors.Is(err, boom):
					errc <- err
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	checkChain(t, db, int(kept.Load()))
	mustVerify(t, db, "")
}

// On SQLite Verify reads an entry's text fields packed in one column,
// separated by NUL bytes. Fields that hold the separator themselves, or a
// time written in another form, must still verify through the
// field-by-field read, and a change to such an entry must still be found.
func TestVerifyPackedFields(t *testing.T) {
	db, _ := storetest.SQLite(t)
	odd := audit.Actor{UserID: "u-\x00-2", Username: "李\x00四", Role: "admin", UnitID: "u0"}
	for i := range 1500 {
		a := actor
		if i%700 == 3 {
			a = odd
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := audit.Append(ctx, tx, a, rec(i))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(what string, ok bool, seq int64) {
		t.Helper()
		rep, err := audit.Verify(ctx, db, "")
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK != ok || !ok && (rep.Code != audit.ProblemHash || rep.Seq != seq) || ok && rep.Entries != 1500 {
			t.Fatalf("%s: %+v", what, rep)
		}
	}
	verify("separators in fields", true, 0)

	dropTriggers(t, db)
	var at string
	if err := store.Get(ctx, db.Reader(), &at, `SELECT at || '' FROM audit_entries WHERE seq = 1200`); err != nil {
		t.Fatal(err)
	}
	tm, err := time.Parse("2006-01-02 15:04:05.999999999-07:00", at)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, db, `UPDATE audit_entries SET at = ? WHERE seq = 1200`, tm.Format(time.RFC3339Nano))
	verify("the same time in another form", true, 0)

	exec(t, db, `UPDATE audit_entries SET actor_username = ? WHERE seq = 704`, "李\x00五")
	verify("a field holding the separator, changed", false, 704)
}
