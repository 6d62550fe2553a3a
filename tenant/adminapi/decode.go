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
)

// maxBody is the largest request body accepted. The biggest legitimate
// request, a user with all its attributes, is a few tens of KiB.
const maxBody = 1 << 20

// decodeJSON reads the body as exactly one JSON object into v. Unknown
// fields are refused, because a misspelt field silently ignored is a
// setting the operator believes is made and is not. So are a field given
// twice (encoding/json would keep the last, and another parser the first),
// a body that is not an object (null included, which would change
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
	if path, ok := repeatedField(body); ok {
		return badRequest("field %q is given twice", path)
	}
	return nil
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

// repeatedField finds a member name given twice in one object of body,
// which is valid JSON, at any depth; the path names it as jsonError does
// (settings.password_policy.history_size), with [i] for array elements.
// Names are compared as decoded, so "a" and "\u0061" are the same.
func repeatedField(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func(path string) (string, bool)
	walk = func(path string) (string, bool) {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return "", false
				}
				name, _ := key.(string)
				field := name
				if path != "" {
					field = path + "." + name
				}
				if seen[name] {
					return field, true
				}
				seen[name] = true
				if p, ok := walk(field); ok {
					return p, true
				}
			}
			_, _ = dec.Token() // }
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if p, ok := walk(fmt.Sprintf("%s[%d]", path, i)); ok {
					return p, true
				}
			}
			_, _ = dec.Token() // ]
		}
		return "", false
	}
	return walk("")
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
