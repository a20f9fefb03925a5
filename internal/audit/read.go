package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"wufei/internal/store"
)

// entryColumns lists audit_entries' columns in Entry's order.
const entryColumns = `seq, at, actor_user_id, actor_username, actor_role, actor_unit_id, action, entity, entity_id, unit_id, region_code, change, prev_hash, hash`

// normalize puts a read entry in the form the API serves: time in UTC and
// empty rather than nil hashes. Neither changes Leaf.
func (e *Entry) normalize() {
	e.At = e.At.UTC()
	if e.PrevHash == nil {
		e.PrevHash = []byte{}
	}
	if e.Hash == nil {
		e.Hash = []byte{}
	}
}

// Feed limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Filter selects entries for the change feed.
type Filter struct {
	After int64 // only entries with seq > After
	Limit int   // at most this many; DefaultLimit if <= 0, capped at MaxLimit

	// Where, if set, is an extra SQL condition on audit_entries' columns
	// with '?' placeholders bound to Args, e.g. "unit_id = ?" or
	// "region_code LIKE ?". It restricts the feed to what the caller's
	// principal may see. It is written by our own code, never taken from a
	// request; only Args carry request or principal values.
	Where string
	Args  []any
}

// ReadEntries returns the entries after f.After, in seq order, that satisfy
// f.Where. The next page starts after the last seq returned.
func ReadEntries(ctx context.Context, q store.Querier, f Filter) ([]Entry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	query := `SELECT ` + entryColumns + ` FROM audit_entries WHERE seq > ?`
	args := []any{f.After}
	if w := strings.TrimSpace(f.Where); w != "" {
		if strings.Contains(w, ";") || strings.Contains(w, "--") {
			return nil, errors.New("audit: filter condition must be a single SQL expression")
		}
		if n := strings.Count(w, "?"); n != len(f.Args) {
			return nil, fmt.Errorf("audit: filter condition has %d placeholders but %d arguments", n, len(f.Args))
		}
		query += ` AND (` + w + `)`
		args = append(args, f.Args...)
	}
	query += ` ORDER BY seq LIMIT ?`
	args = append(args, limit)
	entries := []Entry{}
	if err := store.Select(ctx, q, &entries, query, args...); err != nil {
		return nil, fmt.Errorf("audit: entries: %w", err)
	}
	for i := range entries {
		entries[i].normalize()
	}
	return entries, nil
}

// EntityHistory returns every entry about one entity, oldest first.
func EntityHistory(ctx context.Context, q store.Querier, entity, entityID string) ([]Entry, error) {
	entries := []Entry{}
	if err := store.Select(ctx, q, &entries, `SELECT `+entryColumns+` FROM audit_entries
		WHERE entity = ? AND entity_id = ? ORDER BY seq`, entity, entityID); err != nil {
		return nil, fmt.Errorf("audit: history: %w", err)
	}
	for i := range entries {
		entries[i].normalize()
	}
	return entries, nil
}
