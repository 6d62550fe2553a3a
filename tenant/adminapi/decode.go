package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cognate-idp/cognate/tenant"
)

// maxBody is the largest request body accepted. The biggest legitimate
// request, a user with all its attributes, is a few tens of KiB.
const maxBody = 1 << 20

// byteOrderMark is U+FEFF in UTF-8.
const byteOrderMark = "\xef\xbb\xbf"

// decodeJSON reads the body as exactly one JSON object into v. Unknown
// fields are refused, because a misspelt field silently ignored is a
// setting the operator believes is made and is not. So are a field given
// twice (encoding/json would keep the last, and another parser the first),
// a field named in another case than its own (encoding/json would take
// it), a body that is not an object (null included, which would change
// nothing), and one that is not UTF-8 (RFC 8259 §8.1; encoding/json would
// turn the bad bytes into U+FFFD and store that).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decode(w, r, v, false)
}

// decodeOptionalJSON is decodeJSON for requests whose body may be empty.
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decode(w, r, v, true)
}

func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	// Read whole, within the limit: the checks below look at it more than
	// once, and a body over the limit is refused (413) whatever it holds.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return badRequest("the request body could not be read")
	}
	// A byte order mark is refused rather than skipped (RFC 8259 §8.1 lets
	// a parser do either), with a message that names it: encoding/json
	// would call it invalid JSON at byte 1, which no one can see in the
	// file. Notepad and PowerShell 5 write one.
	if bytes.HasPrefix(body, []byte(byteOrderMark)) {
		return badRequest("the request body starts with a UTF-8 byte order mark (BOM), which JSON sent over a network must not have (RFC 8259 §8.1); send the JSON without it")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		if optional {
			return nil
		}
		return badRequest("the request body is empty; send a JSON object")
	}
	if at := invalidUTF8(body); at >= 0 {
		return badRequest("the request body is not UTF-8 (RFC 8259 §8.1): byte %d is not part of a UTF-8 character", at)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, v, body)
	}
	// A second value, even a valid one, means the client sent something
	// other than what it thinks it sent.
	if err := dec.Decode(&json.RawMessage{}); !errors.Is(err, io.EOF) {
		return badRequest("the request body must hold a single JSON object, with nothing after it")
	}
	if trimmed[0] != '{' {
		return badRequest("the request body must be a JSON object")
	}
	return memberProblem(body, reflect.TypeOf(v))
}

// invalidUTF8 is the offset of the first byte of b that is not part of a
// UTF-8 character, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// memberProblem walks body, which is valid JSON, beside target, the type
// it decodes into, and refuses the first member given twice in one object
// (at any depth; "a" and "\u0061" are the same name) and the first named
// in another case than its field's. encoding/json matches names without
// regard to case, so {"Slug":…} would fill slug: a second spelling of each
// field is one more way for two parsers to read one body differently. The
// path names the member as jsonError does (settings.password_policy.
// history_size), with [i] for array elements. Below a value with its own
// UnmarshalJSON, only repeats are looked for.
func memberProblem(body []byte, target reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func(path string, t reflect.Type) error
	walk = func(path string, t reflect.Type) error {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		t = plainType(t)
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return nil
				}
				name, _ := key.(string)
				field := name
				if path != "" {
					field = path + "." + name
				}
				if seen[name] {
					return badRequest("field %q is given twice", field)
				}
				seen[name] = true
				var member reflect.Type
				switch {
				case t == nil:
				case t.Kind() == reflect.Map:
					member = t.Elem()
				case t.Kind() == reflect.Struct:
					exact, spelt, ok := structField(t, name)
					if ok && spelt != name {
						return badRequest("unknown field %q in the request body: field names are case-sensitive (%q)", field, spelt)
					}
					member = exact
				}
				if err := walk(field, member); err != nil {
					return err
				}
			}
			_, _ = dec.Token() // }
		case json.Delim('['):
			var elem reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				elem = t.Elem()
			}
			for i := 0; dec.More(); i++ {
				if err := walk(fmt.Sprintf("%s[%d]", path, i), elem); err != nil {
					return err
				}
			}
			_, _ = dec.Token() // ]
		}
		return nil
	}
	return walk("", target)
}

// plainType is t without pointers, or nil where encoding/json's own rules
// for names do not apply: a type that decodes itself, or an interface.
func plainType(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	unmarshaler := reflect.TypeFor[json.Unmarshaler]()
	for {
		if t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) || t.Kind() == reflect.Interface {
			return nil
		}
		if t.Kind() != reflect.Pointer {
			return t
		}
		t = t.Elem()
	}
}

// structField finds the field of struct t that the member name fills, as
// encoding/json does (promoted fields of embedded structs included,
// without regard to case): its type, and its name as the type spells it.
func structField(t reflect.Type, name string) (reflect.Type, string, bool) {
	var folded reflect.Type
	foldedName := ""
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && tag == "" {
			if inner := deref(f.Type); inner.Kind() == reflect.Struct {
				if ft, spelt, ok := structField(inner, name); ok {
					if spelt == name {
						return ft, spelt, true
					}
					folded, foldedName = ft, spelt
				}
				continue
			}
		}
		if tag == "" {
			tag = f.Name
		}
		switch {
		case tag == name:
			return f.Type, tag, true
		case folded == nil && strings.EqualFold(tag, name):
			folded, foldedName = f.Type, tag
		}
	}
	return folded, foldedName, folded != nil
}

// jsonError turns a decoding failure of body into v into a message that
// says what to fix.
func jsonError(err error, v any, body []byte) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the request body ends in the middle of the JSON")
	case errors.As(err, &syntax):
		return badRequest("the request body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("the request body must be a JSON object")
		}
		return typeError(typ, reflect.TypeOf(v), body)
	}
	// encoding/json has no error type for unknown fields; its message is
	// `json: unknown field "name"`.
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badRequest("unknown field %s in the request body", field)
	}
	return badRequest("the request body could not be read as JSON")
}

// typeError says which value has the wrong type. encoding/json names the
// field, but for an element of a list or a value of an object (a map) it
// names the list or the object with the element's type: "attributes" must
// be a string, it would say of {"attributes":{"custom:x":1}}. Then the
// message says what the elements must be, and which keys are wrong.
func typeError(typ *json.UnmarshalTypeError, target reflect.Type, body []byte) error {
	field, ok := fieldType(target, typ.Field)
	if ok {
		field = deref(field)
	}
	if !ok || (field.Kind() != reflect.Map && field.Kind() != reflect.Slice) || deref(field.Elem()) != deref(typ.Type) {
		return badRequest("field %q must be %s", typ.Field, jsonKind(typ.Type))
	}
	what := plural(field.Elem())
	if field.Kind() == reflect.Slice {
		return badRequest("the items of field %q must be %s", typ.Field, what)
	}
	keys := wrongValues(body, typ.Field, field.Elem())
	if len(keys) == 0 {
		return badRequest("the values in field %q must be %s", typ.Field, what)
	}
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = strconv.Quote(k)
	}
	return badRequest("the values in field %q must be %s: %s", typ.Field, what, strings.Join(quoted, ", "))
}

// fieldType is the type of the field path (JSON names joined by dots, as
// UnmarshalTypeError.Field) of t.
func fieldType(t reflect.Type, path string) (reflect.Type, bool) {
	for name := range strings.SplitSeq(path, ".") {
		t = deref(t)
		if t.Kind() != reflect.Struct {
			return nil, false
		}
		found := false
		for f := range t.Fields() {
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == name || (tag == "" && f.Name == name) {
				t, found = f.Type, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return t, true
}

// wrongValues lists, sorted, the keys of the object at path in body whose
// values do not decode as elem.
func wrongValues(body []byte, path string, elem reflect.Type) []string {
	raw := json.RawMessage(body)
	for name := range strings.SplitSeq(path, ".") {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		raw = obj[name]
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	var keys []string
	for k, v := range obj {
		if json.Unmarshal(v, reflect.New(elem).Interface()) != nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// plural names the JSON values of a list's or an object's elements: a
// pointer element may be null too (which removes an attribute).
func plural(elem reflect.Type) string {
	kind := strings.TrimPrefix(strings.TrimPrefix(jsonKind(elem), "a "), "an ")
	what := kind + "s"
	switch kind {
	case "true or false":
		what = "true or false"
	case "whole number":
		what = "whole numbers"
	}
	if elem.Kind() == reflect.Pointer {
		what += " or null"
	}
	return what
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a " + t.String()
}

// pageLimit reads the query parameter limit, the size of a page of a
// listing, from 1 to most: tenant.DefaultPageSize when it is not given.
func pageLimit(r *http.Request, most int) (int, error) {
	limit, given, err := queryInt(r, "limit", 1, most)
	if err != nil || given {
		return limit, err
	}
	return tenant.DefaultPageSize, nil
}

// queryInt reads an optional integer query parameter between lo and hi.
func queryInt(r *http.Request, name string, lo, hi int) (int, bool, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, false, badRequest("query parameter %s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, true, nil
}
