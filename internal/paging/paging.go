// Package paging is keyset pagination: lists are ordered by a unique key and
// a page ends with an opaque cursor naming its last key, so a page costs the
// same however deep it is and rows added meanwhile are neither skipped nor
// repeated.
package paging

import (
	"encoding/base64"
	"unicode/utf8"

	"wufei/internal/errs"
)

// Page is one page of a list.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty" doc:"下一页的游标；为空表示没有更多"`
}

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Args clamps a page size and decodes a cursor into the key to start after.
func Args(limit int, cursor string) (int, string, error) {
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	if cursor == "" {
		return limit, "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) == 0 || len(b) > 64 || !utf8.Valid(b) {
		return 0, "", errs.Field("cursor", "cursor_invalid", "分页游标无效")
	}
	return limit, string(b), nil
}

// Of trims a query's limit+1 rows to a page and sets the cursor after it.
func Of[T any](items []T, limit int, key func(T) string) Page[T] {
	if items == nil {
		items = []T{}
	}
	p := Page[T]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.Next = base64.RawURLEncoding.EncodeToString([]byte(key(items[limit-1])))
	}
	return p
}
