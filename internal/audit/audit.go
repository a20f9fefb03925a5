// Package audit keeps the platform's tamper-evident log (监督留痕). Every
// mutation appends an entry in the same transaction as the change. Entries
// form a hash chain (each names the hash of the one before) and are the
// leaves of a Merkle tree in the form of Go's checksum database
// (golang.org/x/mod/sumdb/tlog), so one entry can be proved against a signed
// checkpoint without the rest of the log.
package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/tlog"

	"wufei/internal/store"
)

// Actor is who did something.
type Actor struct {
	UserID   string
	Username string
	Role     string
	UnitID   string
}

// System is the actor for work the platform does itself (migrations, imports
// from the command line, demo seeding).
var System = Actor{UserID: "system", Username: "system", Role: "system"}

// Every write transaction on PostgreSQL takes the head first (see
// store.FirstLock); Append then finds it already held.
func init() { store.FirstLock = `SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE` }

// Record describes one mutation to append.
type Record struct {
	Action     string // verb on the entity, e.g. "unit.create"
	Entity     string // e.g. "unit"
	EntityID   string
	UnitID     string // the unit the change concerns, for scoping; "" if none
	RegionCode string // the region it concerns, for scoping; "" if none
	Change     any    // marshalled to JSON; for updates, the fields before and after
}

// Entry is a stored audit entry.
type Entry struct {
	Seq           int64     `db:"seq" json:"seq"`
	At            time.Time `db:"at" json:"at"`
	ActorUserID   string    `db:"actor_user_id" json:"actor_user_id"`
	ActorUsername string    `db:"actor_username" json:"actor_username"`
	ActorRole     string    `db:"actor_role" json:"actor_role"`
	ActorUnitID   string    `db:"actor_unit_id" json:"actor_unit_id"`
	Action        string    `db:"action" json:"action"`
	Entity        string    `db:"entity" json:"entity"`
	EntityID      string    `db:"entity_id" json:"entity_id"`
	UnitID        string    `db:"unit_id" json:"unit_id"`
	RegionCode    string    `db:"region_code" json:"region_code"`
	Change        string    `db:"change" json:"change"`
	PrevHash      []byte    `db:"prev_hash" json:"prev_hash"`
	Hash          []byte    `db:"hash" json:"hash"`
}

// Leaf is the canonical byte encoding of an entry that its hash covers: a
// JSON object with a fixed key order, the time in UTC at microseconds, the
// change as stored, and the previous entry's hash. It is what an outside
// verifier hashes (tlog.RecordHash) to check an inclusion proof.
func (e *Entry) Leaf() []byte { return e.appendLeaf(make([]byte, 0, 512+len(e.Change))) }

// appendLeaf appends the leaf to b, for a caller that hashes many entries
// through one buffer.
func (e *Entry) appendLeaf(b []byte) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"at":"`...)
	b = e.At.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	b = append(b, `","actor_user_id":`...)
	b = appendString(b, e.ActorUserID)
	b = append(b, `,"actor_username":`...)
	b = appendString(b, e.ActorUsername)
	b = append(b, `,"actor_role":`...)
	b = appendString(b, e.ActorRole)
	b = append(b, `,"actor_unit_id":`...)
	b = appendString(b, e.ActorUnitID)
	b = append(b, `,"action":`...)
	b = appendString(b, e.Action)
	b = append(b, `,"entity":`...)
	b = appendString(b, e.Entity)
	b = append(b, `,"entity_id":`...)
	b = appendString(b, e.EntityID)
	b = append(b, `,"unit_id":`...)
	b = appendString(b, e.UnitID)
	b = append(b, `,"region_code":`...)
	b = appendString(b, e.RegionCode)
	b = append(b, `,"change":`...)
	b = append(b, e.Change...)
	b = append(b, `,"prev_hash":"`...)
	b = hex.AppendEncode(b, e.PrevHash)
	return append(b, `"}`...)
}

// appendString appends s as encoding/json writes it, which the leaves of
// the log were first written with. Plain text is copied between quotes;
// anything json escapes (control characters, quotes, <, >, &, invalid
// UTF-8, and U+2028/2029, whose first byte 0xE2 sends a few more characters
// the same way) goes through encoding/json itself, so the bytes never
// differ.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '"', c == '\\', c == '<', c == '>', c == '&', c == 0xE2:
			j, _ := json.Marshal(s)
			return append(b, j...)
		}
	}
	if !utf8.ValidString(s) {
		j, _ := json.Marshal(s)
		return append(b, j...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Append adds an entry for rec inside tx and returns its sequence number.
// The head row is updated first, which serialises appenders on PostgreSQL
// (a row lock) as SQLite's IMMEDIATE transaction already does; the sequence
// is therefore gapless.
//
// The head and the tree's recent hashes are also kept in memory (see
// heads), so a transaction's first append is usually three statements: the
// head moved on only if it is still the one the entry chains to, the tree
// hashes, and the entry. When the head has moved (another process, a
// rollback), Append reads it and chains to it. Later appends in the same
// transaction chain on from its own last entry and leave the head row to one
// update before the commit.
func Append(ctx context.Context, tx *store.Tx, actor Actor, rec Record) (int64, error) {
	change, err := json.Marshal(rec.Change)
	if err != nil {
		return 0, fmt.Errorf("audit: change: %w", err)
	}
	e := Entry{
		At:            tx.Now,
		ActorUserID:   actor.UserID,
		ActorUsername: actor.Username,
		ActorRole:     actor.Role,
		ActorUnitID:   actor.UnitID,
		Action:        rec.Action,
		Entity:        rec.Entity,
		EntityID:      rec.EntityID,
		UnitID:        rec.UnitID,
		RegionCode:    rec.RegionCode,
		Change:        string(change),
	}
	hd := heads.Of(tx)
	mine := tx.Local(headKey{}, func() any { return &txHead{} }).(*txHead)
	if mine.seq > 0 {
		// This transaction holds the head already: chain on, and write the
		// head once, before it commits.
		chain(&e, mine.seq, mine.hash)
	} else if err := takeHead(ctx, tx, hd, &e); err != nil {
		return 0, err
	} else {
		first := e.Seq
		tx.BeforeCommit(func() error {
			if mine.seq == first {
				return nil
			}
			_, err := store.Exec(ctx, tx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, mine.seq, mine.hash)
			return err
		})
	}
	mine.seq, mine.hash = e.Seq, e.Hash
	// The tree's stored hashes for record n = seq-1.
	hashes, err := tlog.StoredHashesForRecordHash(e.Seq-1, tlog.Hash(e.Hash), hd.reader(ctx, tx))
	if err != nil {
		return 0, fmt.Errorf("audit: tree: %w", err)
	}
	// One statement for all of the record's stored hashes (about two).
	base := tlog.StoredHashIndex(0, e.Seq-1)
	query := `INSERT INTO audit_tree (idx, hash) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?), ", len(hashes)), ", ")
	args := make([]any, 0, 2*len(hashes))
	for i, sh := range hashes {
		args = append(args, base+int64(i), sh[:])
	}
	if _, err := store.Exec(ctx, tx, query, args...); err != nil {
		return 0, fmt.Errorf("audit: tree: %w", err)
	}
	if _, err := store.Exec(ctx, tx, `INSERT INTO audit_entries
		(seq, at, actor_user_id, actor_username, actor_role, actor_unit_id, action, entity, entity_id, unit_id, region_code, change, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At, e.ActorUserID, e.ActorUsername, e.ActorRole, e.ActorUnitID, e.Action, e.Entity, e.EntityID,
		e.UnitID, e.RegionCode, e.Change, e.PrevHash, e.Hash); err != nil {
		return 0, fmt.Errorf("audit: entry: %w", err)
	}
	hd.advance(e.Seq, e.Hash, base, hashes)
	return e.Seq, nil
}

// headKey names a transaction's own audit head (txHead) in tx.Local.
type headKey struct{}

// txHead is the last entry a transaction appended, while it holds the head.
type txHead struct {
	seq  int64
	hash []byte
}

// takeHead chains e to the log's head and moves the stored head on to it:
// on the head remembered in hd, if it is still the stored one (one
// conditional update), or else on the stored head, read as it is moved.
// Either update takes the head row's lock for the rest of the transaction.
func takeHead(ctx context.Context, tx *store.Tx, hd *head, e *Entry) error {
	tx.OnRollback(hd.forget)
	seq, prev, known := hd.snapshot()
	if known {
		chain(e, seq, prev)
		n, err := store.Exec(ctx, tx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ? AND hash = ?`,
			e.Seq, e.Hash, seq, prev)
		if err != nil || n == 1 {
			return wrapHead(err)
		}
	}
	hd.forget()
	var head struct {
		Seq  int64  `db:"seq"`
		Hash []byte `db:"hash"`
	}
	if err := store.Get(ctx, tx, &head, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq - 1 AS seq, hash`); err != nil {
		return wrapHead(err)
	}
	chain(e, head.Seq, head.Hash)
	_, err := store.Exec(ctx, tx, `UPDATE audit_head SET hash = ? WHERE id = 1`, e.Hash)
	return wrapHead(err)
}

func wrapHead(err error) error {
	if err != nil {
		return fmt.Errorf("audit: head: %w", err)
	}
	return nil
}

// chain makes e the entry after the one numbered seq with the given hash.
func chain(e *Entry, seq int64, prev []byte) {
	e.Seq, e.PrevHash = seq+1, prev
	if e.PrevHash == nil {
		e.PrevHash = []byte{}
	}
	h := tlog.RecordHash(e.Leaf())
	e.Hash = h[:]
}

// head is the log's head as this process last wrote or read it, with the
// tree hashes written or read lately: an append needs the hashes of the
// tree's right edge, which were nearly all written by the appends just
// before it. It moves on as entries are appended, ahead of the commit, and
// is forgotten when a transaction that appended rolls back. It is only a
// guess: Append moves the stored head on only if it is still the one the
// guess names, so a stale guess costs a read, never a broken chain. The
// lock is never held across a statement: on PostgreSQL one transaction may
// wait for another's row lock on the head.
type head struct {
	mu    sync.Mutex
	known bool
	seq   int64
	hash  []byte
	tree  map[int64]tlog.Hash
}

// maxTreeCache bounds the remembered tree hashes; past it they are dropped
// and the few still needed are read again.
const maxTreeCache = 8192

var heads = &store.Local[head]{New: func() *head { return &head{} }}

func (h *head) snapshot() (int64, []byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq, h.hash, h.known
}

func (h *head) forget() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.known, h.seq, h.hash, h.tree = false, 0, nil, nil
}

// advance records the entry numbered seq as the head, with its tree hashes.
func (h *head) advance(seq int64, hash []byte, base int64, hashes []tlog.Hash) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.known || seq > h.seq {
		h.known, h.seq, h.hash = true, seq, hash
	}
	h.remember(base, hashes)
}

// remember keeps tree hashes stored from index base on; h.mu is held.
func (h *head) remember(base int64, hashes []tlog.Hash) {
	if h.tree == nil || len(h.tree) > maxTreeCache {
		h.tree = make(map[int64]tlog.Hash, 64)
	}
	for i, sh := range hashes {
		h.tree[base+int64(i)] = sh
	}
}

// reader reads tree hashes from memory, and those it lacks from tx.
func (h *head) reader(ctx context.Context, tx *store.Tx) tlog.HashReaderFunc {
	return func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		var missing []int // positions in indexes
		h.mu.Lock()
		for i, idx := range indexes {
			if sh, ok := h.tree[idx]; ok {
				out[i] = sh
			} else {
				missing = append(missing, i)
			}
		}
		h.mu.Unlock()
		if len(missing) == 0 {
			return out, nil
		}
		want := make([]int64, len(missing))
		for j, i := range missing {
			want[j] = indexes[i]
		}
		read, err := readHashes(ctx, tx, want)
		if err != nil {
			return nil, err
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for j, i := range missing {
			out[i] = read[j]
			h.remember(want[j], read[j:j+1])
		}
		return out, nil
	}
}

// txHashReader reads stored tree hashes inside a transaction.
type txHashReader struct {
	ctx context.Context
	q   store.Querier
}

func (r txHashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	return readHashes(r.ctx, r.q, indexes)
}

func readHashes(ctx context.Context, q store.Querier, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	query, args, err := store.In(`SELECT idx, hash FROM audit_tree WHERE idx IN (?)`, indexes)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Idx  int64  `db:"idx"`
		Hash []byte `db:"hash"`
	}
	if err := store.Select(ctx, q, &rows, query, args...); err != nil {
		return nil, err
	}
	got := make(map[int64][]byte, len(rows))
	for _, r := range rows {
		got[r.Idx] = r.Hash
	}
	for i, idx := range indexes {
		h, ok := got[idx]
		if !ok || len(h) != tlog.HashSize {
			return nil, fmt.Errorf("audit: tree hash %d missing", idx)
		}
		copy(out[i][:], h)
	}
	return out, nil
}
