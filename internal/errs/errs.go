// Package errs is the platform's error vocabulary: a kind that maps to an HTTP
// status, a stable machine code, and the field at fault. Domain packages
// return these; api and web translate them.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error independently of transport.
type Kind int

const (
	Internal     Kind = iota
	Invalid           // the input breaks a rule (422)
	NotFound          // no such thing, or not visible to the caller (404)
	Conflict          // version mismatch or duplicate (409)
	Unauthorized      // no or bad credentials (401)
	Forbidden         // authenticated but not allowed (403)
	TooMany           // throttled (429)
)

// FieldError names one field that failed validation.
type FieldError struct {
	Field   string `json:"field"`   // JSON path within the body, e.g. "uscc" or "licence.scopes[0].method"
	Code    string `json:"code"`    // stable machine code, e.g. "uscc_check"
	Message string `json:"message"` // human text (zh-CN)
}

// Error is a domain error.
type Error struct {
	Kind    Kind
	Code    string // stable machine code, e.g. "unit_not_found"
	Message string
	Fields  []FieldError
	Err     error // cause, not shown to clients
}

func (e *Error) Error() string {
	s := e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	for _, f := range e.Fields {
		s += fmt.Sprintf("; %s: %s (%s)", f.Field, f.Message, f.Code)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error of a kind with a code and message.
func E(kind Kind, code, msg string) *Error { return &Error{Kind: kind, Code: code, Message: msg} }

// Field builds a validation error for one field.
func Field(field, code, msg string) *Error {
	return &Error{Kind: Invalid, Code: "validation_failed", Message: msg, Fields: []FieldError{{field, code, msg}}}
}

// Validation collects field errors; Err returns nil when none were added.
type Validation struct{ fields []FieldError }

// Add records a failed field.
func (v *Validation) Add(field, code, msg string) {
	v.fields = append(v.fields, FieldError{field, code, msg})
}

// Err is the collected validation error, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Code: "validation_failed", Message: v.fields[0].Message, Fields: v.fields}
}

// KindOf reports the kind of err; errors that are not *Error are Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}
