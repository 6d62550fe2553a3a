package provider

import (
	"strconv"
	"unicode/utf8"
)

// The machine token path (machine.go) writes its two small JSON objects,
// the token's claims and the token response, by appending to one buffer
// rather than through encoding/json: reflection over the two structs cost
// more per token than everything else Cognate adds to the signature and
// the HTTP exchange together, bar the client check (perf, 2026-11-29).
// The structs keep their json tags, which introspection decodes with; the
// tests check that both ways give the same bytes.

// appendJSONString appends s as a JSON string (RFC 8259 §7), byte for byte
// as encoding/json writes it with HTML escaping off: invalid UTF-8 becomes
// U+FFFD, and U+2028 and U+2029 are escaped for JavaScript's sake.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0 // s[start:i] is still to be copied
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonObject appends the members of one JSON object to a buffer.
type jsonObject struct {
	buf     []byte
	members int
}

// startJSONObject opens an object at the end of dst.
func startJSONObject(dst []byte) jsonObject {
	return jsonObject{buf: append(dst, '{')}
}

func (o *jsonObject) key(name string) {
	if o.members > 0 {
		o.buf = append(o.buf, ',')
	}
	o.members++
	o.buf = appendJSONString(o.buf, name)
	o.buf = append(o.buf, ':')
}

func (o *jsonObject) string(name, value string) {
	o.key(name)
	o.buf = appendJSONString(o.buf, value)
}

func (o *jsonObject) int(name string, value int64) {
	o.key(name)
	o.buf = strconv.AppendInt(o.buf, value, 10)
}

// end closes the object and returns the buffer.
func (o *jsonObject) end() []byte {
	return append(o.buf, '}')
}
