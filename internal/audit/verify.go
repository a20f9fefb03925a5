package audit

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"wufei/internal/store"
)

// Problem codes in a Report.
const (
	ProblemGap                 = "gap"                  // a seq is missing
	ProblemChain               = "chain_broken"         // prev_hash is not the previous entry's hash
	ProblemHash                = "hash_mismatch"        // the entry's content no longer hashes to its hash
	ProblemTree                = "tree_mismatch"        // an audit_tree row is missing or differs from the recomputed tree
	ProblemHead                = "head_mismatch"        // audit_head does not name the last entry
	ProblemCheckpointSignature = "checkpoint_signature" // a checkpoint's note does not verify
	ProblemCheckpointRoot      = "checkpoint_root"      // a checkpoint's root is not the recomputed tree hash
	ProblemCheckpointBeyond    = "checkpoint_beyond"    // a checkpoint covers entries the log no longer has
)

// Report is the outcome of Verify. Tampering makes OK false and names the
// first problem in log order; the walk stops there.
type Report struct {
	OK          bool   `json:"ok"`
	Size        int64  `json:"size"`                 // audit_head.seq when the walk began
	Entries     int64  `json:"entries"`              // entries checked and found good
	Checkpoints int64  `json:"checkpoints"`          // checkpoints checked and found good
	Root        string `json:"root,omitempty"`       // recomputed tree hash at Size, base64 (when OK)
	Seq         int64  `json:"seq,omitempty"`        // the first bad entry
	Checkpoint  int64  `json:"checkpoint,omitempty"` // the size of the bad checkpoint, if a checkpoint is at fault
	Code        string `json:"code,omitempty"`       // one of the Problem* codes
	Problem     string `json:"problem,omitempty"`    // what is wrong, in English
}

func (r Report) String() string {
	if r.OK {
		return fmt.Sprintf("audit log OK: %d entries, %d checkpoints, tree hash %s", r.Entries, r.Checkpoints, r.Root)
	}
	where := fmt.Sprintf("entry %d", r.Seq)
	if r.Checkpoint > 0 || r.Code == ProblemCheckpointSignature || r.Code == ProblemCheckpointRoot {
		where = fmt.Sprintf("checkpoint %d", r.Checkpoint)
	}
	return fmt.Sprintf("audit log FAILED at %s: %s (%d entries and %d checkpoints checked before it)",
		where, r.Problem, r.Entries, r.Checkpoints)
}

// verifyBatch is how many entries (and checkpoints) Verify reads per query.
const verifyBatch = 1000

// Verify walks the whole log in seq order, in batches and in constant
// memory, and checks that seqs run from 1 without gaps, that each prev_hash
// is the previous entry's hash, that each entry's content still hashes to
// its hash, that audit_tree holds exactly the tree recomputed from those
// hashes, that audit_head names the last entry, and that every checkpoint's
// note verifies with verifierKey and signs the recomputed tree hash at its
// size. With verifierKey "" the keys in audit_keys are used; pass the key
// from outside the database for assurance against its administrators.
//
// Tampering is reported in the Report (OK false); the error is for I/O and
// bad arguments.
func Verify(ctx context.Context, db *store.DB, verifierKey string) (Report, error) {
	q := db.Reader()
	verifiers, err := loadVerifiers(ctx, q, verifierKey)
	if err != nil {
		return Report{}, err
	}
	var head struct {
		Seq  int64  `db:"seq"`
		Hash []byte `db:"hash"`
	}
	if err := store.Get(ctx, q, &head, `SELECT seq, hash FROM audit_head WHERE id = 1`); err != nil {
		return Report{}, fmt.Errorf("audit: verify: head: %w", err)
	}
	v := &verifier{
		ctx:       ctx,
		q:         q,
		dialect:   db.Dialect,
		verifiers: verifiers,
		front:     frontier{},
		rep:       Report{Size: head.Seq},
		cpAfter:   -1,
	}
	if err := v.walk(head.Seq, head.Hash); err != nil {
		return Report{}, err
	}
	if v.rep.Problem != "" {
		return v.rep, nil
	}
	root, err := tlog.TreeHash(head.Seq, v.front)
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	v.rep.OK = true
	v.rep.Root = root.String()
	return v.rep, nil
}

func loadVerifiers(ctx context.Context, q store.Querier, vkey string) (note.Verifiers, error) {
	var keys []string
	if vkey != "" {
		keys = []string{vkey}
	} else if err := store.Select(ctx, q, &keys, `SELECT verifier FROM audit_keys ORDER BY name`); err != nil {
		return nil, fmt.Errorf("audit: verify: keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	vs := make([]note.Verifier, len(keys))
	for i, k := range keys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("audit: verify: verifier key %q: %w", k, err)
		}
		vs[i] = v
	}
	return note.VerifierList(vs...), nil
}

type verifier struct {
	ctx       context.Context
	q         store.Querier
	dialect   store.Dialect
	verifiers note.Verifiers
	front     frontier
	rep       Report

	cps     []checkpointRow // fetched, not yet checked
	cpAfter int64           // the largest size fetched
	cpDone  bool            // no more checkpoints to fetch
}

func (v *verifier) fail(seq int64, code, format string, args ...any) {
	v.rep.Seq = seq
	v.rep.Code = code
	v.rep.Problem = fmt.Sprintf(format, args...)
}

type treeRow struct {
	Idx  int64  `db:"idx"`
	Hash []byte `db:"hash"`
}

// walk checks entries 1..size, whose last hash must be headHash, and the
// checkpoints on the way. It stops at the first problem.
func (v *verifier) walk(size int64, headHash []byte) error {
	if err := v.checkpointsUpTo(0); err != nil || v.rep.Problem != "" {
		return err
	}
	prevHash := []byte{}
	expect := int64(1)
	ctx, cancel := context.WithCancel(v.ctx)
	defer cancel()
	for b := range v.fetch(ctx, size) {
		if b.err != nil {
			return b.err
		}
		batch, rows := b.entries, b.rows
		next := 0 // the next unconsumed row
		for i := range batch {
			e := &batch[i]
			if e.Seq != expect {
				v.fail(expect, ProblemGap, "gap: entry %d is missing (the next entry is %d)", expect, e.Seq)
				return nil
			}
			if !bytes.Equal(e.PrevHash, prevHash) {
				v.fail(e.Seq, ProblemChain, "chain broken: prev_hash of entry %d is not the hash of entry %d", e.Seq, e.Seq-1)
				return nil
			}
			h := b.hashes[i]
			if !bytes.Equal(e.Hash, h[:]) {
				v.fail(e.Seq, ProblemHash, "hash mismatch: entry content changed (entry %d no longer hashes to its stored hash)", e.Seq)
				return nil
			}
			hashes, err := tlog.StoredHashesForRecordHash(e.Seq-1, h, v.front)
			if err != nil {
				return fmt.Errorf("audit: verify: tree: %w", err)
			}
			base := tlog.StoredHashIndex(0, e.Seq-1)
			for j, sh := range hashes {
				idx := base + int64(j)
				if next >= len(rows) || rows[next].Idx != idx {
					v.fail(e.Seq, ProblemTree, "tree hash mismatch: audit_tree row %d (written with entry %d) is missing", idx, e.Seq)
					return nil
				}
				if !bytes.Equal(rows[next].Hash, sh[:]) {
					level, _ := tlog.SplitStoredHashIndex(idx)
					v.fail(e.Seq, ProblemTree, "tree hash mismatch: audit_tree row %d (level %d, written with entry %d) differs from the recomputed tree", idx, level, e.Seq)
					return nil
				}
				next++
			}
			v.front.add(base, hashes)
			prevHash = e.Hash
			v.rep.Entries++
			expect++
			if err := v.checkpointsUpTo(e.Seq); err != nil || v.rep.Problem != "" {
				return err
			}
		}
	}
	if expect <= size {
		v.fail(expect, ProblemHead, "head mismatch: audit_head is at seq %d but the log ends at seq %d (entries deleted)", size, expect-1)
		return nil
	}
	if !bytes.Equal(prevHash, headHash) {
		v.fail(size, ProblemHead, "head mismatch: audit_head's hash is not the hash of entry %d", size)
		return nil
	}
	// Entries and checkpoints past the walk were either added after it
	// began or are not covered by the head. Read the last entry before the
	// head again: an append commits both at once.
	var last []int64
	if err := store.Select(v.ctx, v.q, &last, `SELECT seq FROM audit_entries ORDER BY seq DESC LIMIT 1`); err != nil {
		return fmt.Errorf("audit: verify: entries: %w", err)
	}
	var now int64
	if err := store.Get(v.ctx, v.q, &now, `SELECT seq FROM audit_head WHERE id = 1`); err != nil {
		return fmt.Errorf("audit: verify: head: %w", err)
	}
	if len(last) > 0 && last[0] > now {
		v.fail(now+1, ProblemHead, "head mismatch: the log has entries up to seq %d past audit_head's seq %d", last[0], now)
		return nil
	}
	var beyond []int64
	if err := store.Select(v.ctx, v.q, &beyond, `SELECT size FROM audit_checkpoints WHERE size > ? ORDER BY size DESC LIMIT 1`, size); err != nil {
		return fmt.Errorf("audit: verify: checkpoints: %w", err)
	}
	if len(beyond) > 0 {
		if beyond[0] > now {
			v.fail(now+1, ProblemCheckpointBeyond, "checkpoint beyond the log: checkpoint %d was signed but the log ends at seq %d (entries deleted)", beyond[0], now)
			v.rep.Checkpoint = beyond[0]
		}
	}
	return nil
}

// VerifyReaders is how many batches Verify reads and hashes at once: one
// per core, up to four.
func VerifyReaders() int { return min(runtime.GOMAXPROCS(0), 4) }

// fetched is a batch of entries, each one's recomputed record hash, and the
// tree rows the batch wrote.
type fetched struct {
	entries []Entry
	hashes  []tlog.Hash
	rows    []treeRow
	err     error
}

// fetch reads entries 1..size in batches of verifyBatch seqs ahead of the
// walk, with their record hashes, and hands them over in order. Reading and
// hashing, most of a verification's work, is shared by one reader per core,
// each taking every n-th batch on its own connection; the walk itself, which
// must go in order, is light. Missing entries leave a batch short or empty
// for the walk to find. It stops at an error or ctx's end.
func (v *verifier) fetch(ctx context.Context, size int64) <-chan fetched {
	n := VerifyReaders()
	lanes := make([]chan fetched, n)
	for w := range lanes {
		lanes[w] = make(chan fetched, 2)
		go func() {
			defer close(lanes[w])
			for from := 1 + int64(w)*verifyBatch; from <= size; from += int64(n) * verifyBatch {
				b := v.batch(ctx, from, min(from+verifyBatch-1, size))
				select {
				case lanes[w] <- b:
				case <-ctx.Done():
					return
				}
				if b.err != nil {
					return
				}
			}
		}()
	}
	out := make(chan fetched)
	go func() {
		defer close(out)
		for k := 0; ; k++ {
			b, ok := <-lanes[k%n]
			if !ok {
				return
			}
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	return out
}

// batch reads entries from..to, the tree rows they wrote, and hashes them.
func (v *verifier) batch(ctx context.Context, from, to int64) fetched {
	packed := v.dialect == store.SQLite
	entries, err := v.entries(ctx, from, to, packed)
	if errors.Is(err, errUnpacked) {
		packed = false
		entries, err = v.entries(ctx, from, to, false)
	}
	if err != nil {
		return fetched{err: fmt.Errorf("audit: verify: entries: %w", err)}
	}
	hashes := leafHashes(entries)
	if packed && !storedHashes(entries, hashes) {
		// The field-by-field read is the authority: a field holding the
		// separator would have shifted the packed fields.
		if entries, err = v.entries(ctx, from, to, false); err != nil {
			return fetched{err: fmt.Errorf("audit: verify: entries: %w", err)}
		}
		hashes = leafHashes(entries)
	}
	// The tree rows these records wrote are contiguous: from the leaf of
	// record from up to, not including, the leaf of record to+1.
	lo, hi := tlog.StoredHashIndex(0, from-1), tlog.StoredHashIndex(0, to)
	rows := make([]treeRow, 0, hi-lo)
	err = scanRows(ctx, v.q, `SELECT idx, hash FROM audit_tree WHERE idx >= ? AND idx < ? ORDER BY idx`, []any{lo, hi},
		func(r *sql.Rows) error {
			rows = append(rows, treeRow{})
			t := &rows[len(rows)-1]
			return r.Scan(&t.Idx, &t.Hash)
		})
	if err != nil {
		return fetched{err: fmt.Errorf("audit: verify: tree: %w", err)}
	}
	return fetched{entries: entries, hashes: hashes, rows: rows}
}

// packedFields is the text an entry's fields come in on SQLite: the time
// and the text fields, the change last, separated by NUL bytes. The driver
// takes the connection's mutex for each column it hands over, and at a
// province's millions of entries that was a third of the work.
const packedFields = `at || char(0) || actor_user_id || char(0) || actor_username || char(0) || actor_role ||
	char(0) || actor_unit_id || char(0) || action || char(0) || entity || char(0) || entity_id || char(0) ||
	unit_id || char(0) || region_code || char(0) || change`

// sqliteTime is how the store's SQLite connections write times.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

// errUnpacked says a packed row did not come apart as written.
var errUnpacked = errors.New("audit: verify: packed fields")

// entries reads entries from..to in seq order, field by field or packed.
// Rows are scanned by hand: at a province's millions of entries,
// reflection was a fifth of the work.
func (v *verifier) entries(ctx context.Context, from, to int64, packed bool) ([]Entry, error) {
	es := make([]Entry, 0, to-from+1)
	if !packed {
		err := scanRows(ctx, v.q, `SELECT `+entryColumns+` FROM audit_entries WHERE seq >= ? AND seq <= ? ORDER BY seq`,
			[]any{from, to}, func(rows *sql.Rows) error {
				es = append(es, Entry{})
				e := &es[len(es)-1]
				return rows.Scan(&e.Seq, &e.At, &e.ActorUserID, &e.ActorUsername, &e.ActorRole, &e.ActorUnitID,
					&e.Action, &e.Entity, &e.EntityID, &e.UnitID, &e.RegionCode, &e.Change, &e.PrevHash, &e.Hash)
			})
		return es, err
	}
	var text string
	err := scanRows(ctx, v.q, `SELECT seq, `+packedFields+`, prev_hash, hash FROM audit_entries
		WHERE seq >= ? AND seq <= ? ORDER BY seq`, []any{from, to}, func(rows *sql.Rows) error {
		es = append(es, Entry{})
		e := &es[len(es)-1]
		if err := rows.Scan(&e.Seq, &text, &e.PrevHash, &e.Hash); err != nil {
			return err
		}
		var f [10]string
		for i := range 10 {
			var ok bool
			if f[i], text, ok = strings.Cut(text, "\x00"); !ok {
				return errUnpacked
			}
		}
		at, err := time.Parse(sqliteTime, f[0])
		if err != nil {
			return errUnpacked
		}
		e.At, e.ActorUserID, e.ActorUsername, e.ActorRole, e.ActorUnitID = at, f[1], f[2], f[3], f[4]
		e.Action, e.Entity, e.EntityID, e.UnitID, e.RegionCode, e.Change = f[5], f[6], f[7], f[8], f[9], text
		return nil
	})
	return es, err
}

// leafHashes hashes each entry's leaf.
func leafHashes(es []Entry) []tlog.Hash {
	hs := make([]tlog.Hash, len(es))
	var leaf []byte
	for i := range es {
		leaf = es[i].appendLeaf(leaf[:0])
		hs[i] = tlog.RecordHash(leaf)
	}
	return hs
}

// storedHashes reports whether each entry's stored hash is hs's.
func storedHashes(es []Entry, hs []tlog.Hash) bool {
	for i := range es {
		if !bytes.Equal(es[i].Hash, hs[i][:]) {
			return false
		}
	}
	return true
}

// scanRows runs query and calls scan for each row.
func scanRows(ctx context.Context, q store.Querier, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// checkpointsUpTo checks the stored checkpoints of size <= n, which the walk
// has just reached, so the frontier holds the tree of size n.
func (v *verifier) checkpointsUpTo(n int64) error {
	for {
		if len(v.cps) == 0 {
			if v.cpDone || v.cpAfter >= n {
				return nil
			}
			if err := store.Select(v.ctx, v.q, &v.cps, `SELECT size, root, note FROM audit_checkpoints
				WHERE size > ? ORDER BY size LIMIT ?`, v.cpAfter, verifyBatch); err != nil {
				return fmt.Errorf("audit: verify: checkpoints: %w", err)
			}
			if len(v.cps) < verifyBatch {
				v.cpDone = true
			}
			if len(v.cps) == 0 {
				return nil
			}
			v.cpAfter = v.cps[len(v.cps)-1].Size
		}
		cp := v.cps[0]
		if cp.Size > n {
			return nil
		}
		// Fetches start past the last size fetched, and the walk calls this
		// for every size, so here cp.Size == n.
		v.cps = v.cps[1:]
		v.checkCheckpoint(cp)
		if v.rep.Problem != "" {
			return nil
		}
		v.rep.Checkpoints++
	}
}

func (v *verifier) failCheckpoint(size int64, code, format string, args ...any) {
	v.fail(max(size, 0), code, format, args...)
	v.rep.Checkpoint = size
}

func (v *verifier) checkCheckpoint(cp checkpointRow) {
	if v.verifiers == nil {
		v.failCheckpoint(cp.Size, ProblemCheckpointSignature, "checkpoint signature invalid: no verifier key to check checkpoint %d with", cp.Size)
		return
	}
	n, err := note.Open([]byte(cp.Note), v.verifiers)
	if err != nil {
		var uerr *note.UnverifiedNoteError
		if errors.As(err, &uerr) {
			err = errors.New("not signed by the verifier key")
		}
		v.failCheckpoint(cp.Size, ProblemCheckpointSignature, "checkpoint signature invalid: checkpoint %d: %v", cp.Size, err)
		return
	}
	tree, err := tlog.ParseTree([]byte(n.Text))
	if err != nil {
		v.failCheckpoint(cp.Size, ProblemCheckpointSignature, "checkpoint signature invalid: checkpoint %d: %v", cp.Size, err)
		return
	}
	if tree.N != cp.Size || !bytes.Equal(cp.Root, tree.Hash[:]) {
		v.failCheckpoint(cp.Size, ProblemCheckpointRoot, "checkpoint root mismatch: the size or root stored with checkpoint %d differs from its signed note", cp.Size)
		return
	}
	root, err := tlog.TreeHash(cp.Size, v.front)
	if err != nil {
		v.failCheckpoint(cp.Size, ProblemCheckpointRoot, "checkpoint root mismatch: %v", err)
		return
	}
	if root != tree.Hash {
		v.failCheckpoint(cp.Size, ProblemCheckpointRoot, "checkpoint root mismatch: checkpoint %d signed tree hash %s but the log now gives %s (history rewritten)", cp.Size, tree.Hash, root)
	}
}

// frontier holds the stored hashes of the tree's right edge: the roots of
// the complete subtrees that make up the tree so far, at most one per level.
// They are all that StoredHashesForRecordHash needs to add the next record
// and all that TreeHash needs for the current size, so Verify's memory does
// not grow with the log.
type frontier map[int64]tlog.Hash

// add records the stored hashes written for one record, starting at index
// base. A right child completes its parent (which follows it in hashes), so
// neither it nor its left sibling is needed again.
func (f frontier) add(base int64, hashes []tlog.Hash) {
	for i, h := range hashes {
		idx := base + int64(i)
		level, n := tlog.SplitStoredHashIndex(idx)
		if n%2 == 1 {
			delete(f, tlog.StoredHashIndex(level, n-1))
			continue
		}
		f[idx] = h
	}
}

func (f frontier) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		h, ok := f[idx]
		if !ok {
			return nil, fmt.Errorf("audit: verify: tree hash %d not on the frontier", idx)
		}
		out[i] = h
	}
	return out, nil
}
