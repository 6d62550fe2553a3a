package adminapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// maxBody is the largest request body accepted. The biggest legitimate
// request, a user with all its attributes, is a few tens of KiB.
const maxBody = 1 << 20

// decodeJSON reads the body as exactly one JSON object into v. Unknown
// fields are refused, because a misspelt field silently ignored is a
// setting the operator believes is made and is not.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decode(w, r, v, false)
}

// decodeOptionalJSON is decodeJSON for requests whose body may be empty.
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decode(w, r, v, true)
}

func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	body := http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if optional && errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return jsonError(err)
	}
	// A second value, even a valid one, means the client sent something
	// other than what it thinks it sent.
	if err := dec.Decode(&json.RawMessage{}); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return badRequest("the request body must hold a single JSON object, with nothing after it")
	}
	return nil
}

// jsonError turns a decoding failure into a message that says what to fix.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the request body ends in the middle of the JSON")
	case errors.As(err, &syntax):
		return badRequest("the request body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("the request body must be a JSON object")
		}
		return badRequest("field %q must be %s", typ.Field, jsonKind(typ.Type))
	}
	// encoding/json has no error type for unknown fields; its message is
	// `json: unknown field "name"`.
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badRequest("unknown field %s in the request body", field)
	}
	return badRequest("the request body could not be read as JSON")
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
