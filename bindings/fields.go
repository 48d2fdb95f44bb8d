package bindings

import (
	"reflect"
	"sync"
)

// field is a struct field as scripts see it.
type field struct {
	name  string // the `lua:"name"` tag, or the Go name
	index []int
	typ   reflect.Type
}

var fieldCache sync.Map // reflect.Type -> []field

// fieldsOf lists the exported fields of the struct type t, promoted ones
// included, named by their `lua` tag when it is set; `lua:"-"` hides one.
func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous || !reachable(t, f.Index) {
			continue
		}
		if byName, ok := t.FieldByName(f.Name); !ok || len(byName.Index) != len(f.Index) {
			continue // shadowed or ambiguous
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("lua"); ok {
			if tag == "-" {
				continue
			}
			name = tag
		}
		fs = append(fs, field{name, f.Index, f.Type})
	}
	fieldCache.Store(t, fs)
	return fs
}

// reachable tells whether the promoted field at index goes through exported
// embedded fields only; reflect can neither read nor set it otherwise.
func reachable(t reflect.Type, index []int) bool {
	for i := 1; i < len(index); i++ {
		if !t.FieldByIndex(index[:i]).IsExported() {
			return false
		}
	}
	return true
}

func fieldNamed(t reflect.Type, name string) (field, bool) {
	for _, f := range fieldsOf(t) {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// setField sets a field of the struct s, allocating nil embedded pointers on
// the way.
func setField(s reflect.Value, f field, x reflect.Value) {
	for i, idx := range f.index {
		if i > 0 && s.Kind() == reflect.Pointer {
			if s.IsNil() {
				s.Set(reflect.New(s.Type().Elem()))
			}
			s = s.Elem()
		}
		s = s.Field(idx)
	}
	s.Set(x)
}

// FieldNames returns the names under which scripts see the exported fields
// of v, a struct or a pointer to one (its `lua` tags, or the Go names), in
// declaration order; nil for any other value. Tools such as the console use
// it to show a Go value's fields. It is safe for concurrent use.
func FieldNames(v any) []string {
	t := reflect.TypeOf(v)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for _, f := range fieldsOf(t) {
		names = append(names, f.name)
	}
	return names
}
