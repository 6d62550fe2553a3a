package tenant

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// PlainText reports whether s is text a person typed: valid UTF-8 without
// control characters. Names and descriptions must be, or a byte that
// cannot be shown (and may be stored as U+FFFD) would name a record nobody
// can address again.
func PlainText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// validTextValue reports whether s may be an attribute's value or a
// description: valid UTF-8 without control characters but line breaks and
// tabs, which an address (OIDC's formatted address) holds.
func validTextValue(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	})
}

// Shorten cuts s to at most n characters, marking the cut with "…", for a
// message that names a long value by its start.
func Shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// repeated lists the values that occur more than once in list, each once,
// in the order of their second occurrence.
func repeated(list []string) []string {
	var out []string
	seen := make(map[string]int, len(list))
	for _, v := range list {
		if seen[v]++; seen[v] == 2 {
			out = append(out, v)
		}
	}
	return out
}
