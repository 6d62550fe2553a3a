package tenant

import (
	"net/url"
	"path"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzValidateText puts any string through the rules for what people name
// and type. What a rule accepts goes into mail headers, pages, log lines
// and web addresses, so it must be what it says it is: no control
// character or line break in a username, an address or a name; a slug is
// a DNS label; an address reads back as itself; a group name and a sub are
// one segment of a path, and come back from it unchanged.
func FuzzValidateText(f *testing.F) {
	for _, s := range []string{
		"ann", "ann@example.com", "jörg@exämple.test", "\"ann\"@example.com", "Ann <ann@example.com>",
		"ann@example.com\r\nBcc: x@evil", "acme", "xn--acme", "a-b", "-ab", "Sales / EMEA", "..", ".",
		"Café Noir", "a\u200bb", "a\u202eb", "+31612345678", "\u2800", "ann@[127.0.0.1]", "a@b.c\u0085",
		"eaad0219-2117-439f-8d46-4db20e59268f", "%2e%2e", "ann\u00a0bee", "",
	} {
		f.Add(s)
	}
	noControl := func(s string) bool {
		return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
			return unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) || r == '\u0085'
		})
	}
	// A path segment as the console and the admin API write it, and as a
	// browser resolves it, dot segments and all.
	segmentRoundTrips := func(s string) bool {
		escaped := url.PathEscape(s)
		resolved := path.Clean(strings.NewReplacer("%2e", ".", "%2E", ".").Replace("/x/" + escaped))
		back, err := url.PathUnescape(strings.TrimPrefix(resolved, "/x/"))
		return err == nil && back == s
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateUsername(s) == nil && (!noControl(s) || strings.ContainsFunc(s, unicode.IsSpace)) {
			t.Errorf("username %q accepted, with a control character or a space", s)
		}
		if ValidateEmail(s) == nil {
			if !noControl(s) || strings.ContainsAny(s, " <>\",;") {
				t.Errorf("email %q accepted, with a control character, a space or a delimiter", s)
			}
			if strings.Count(s, "@") != 1 {
				t.Errorf("email %q accepted, with %d @", s, strings.Count(s, "@"))
			}
		}
		if ValidateSlug(s) == nil {
			for i, r := range s {
				if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0 && i < len(s)-1) {
					t.Errorf("slug %q accepted, which is no DNS label", s)
				}
			}
			if len(s) > 63 || strings.HasPrefix(s, "xn--") {
				t.Errorf("slug %q accepted", s)
			}
		}
		if ValidateGroupName(s) == nil {
			// The line and paragraph separators U+2028 and U+2029 were
			// accepted until this target found "0\u20290".
			if !noControl(s) || strings.ContainsFunc(s, hiddenInName) {
				t.Errorf("group name %q accepted, with a control character, a line break or a hidden character", s)
			}
			if !segmentRoundTrips(s) {
				t.Errorf("group name %q accepted, which no web address can name", s)
			}
		}
		if ValidateSub(s) == nil && !segmentRoundTrips(s) {
			t.Errorf("sub %q accepted, which no web address can name", s)
		}
		if ValidateTenantName(s) == nil {
			if !noControl(s) {
				t.Errorf("organization name %q accepted, with a control character or a line break", s)
			}
			if key := NameKey(s); key == "" || strings.Contains(key, "\x00") {
				t.Errorf("organization name %q accepted, whose key %q matches nothing", s, key)
			}
		}
		if IsE164(s) && !strings.HasPrefix(s, "+") {
			t.Errorf("phone number %q accepted", s)
		}
		for _, name := range []string{"name", "given_name", "phone_number", "birthdate", "updated_at", "custom:" + s} {
			if ValidateAttributes(map[string]string{name: s}) == nil && utf8.RuneCountInString(s) > 2048 {
				t.Errorf("attribute %s of %d characters accepted", name, utf8.RuneCountInString(s))
			}
		}
	})
}

// FuzzValidateRedirectURI: a redirect URI that ValidateRedirectURI accepts
// is one a code may be sent to: absolute, without a fragment, https or
// http to this machine, and read again it is the same URI, so the exact
// match at the authorization endpoint compares what was registered.
func FuzzValidateRedirectURI(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com/callback", "http://localhost:3000/cb", "http://127.0.0.1/cb", "http://[::1]:8080/",
		"http://127.0.0.1.evil.example/cb", "https://app.example.com/cb#x", "https://app.example.com/cb?#", "javascript:alert(1)",
		"https:///path", "HTTPS://APP.EXAMPLE.COM/", "http://localhost.:80/", "http://[::ffff:127.0.0.1]/", "https://a.b/%zz",
		"https://user:pass@app.example.com/", "http://0x7f.1/", "https://app.example.com\\@evil.example/", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if ValidateRedirectURI(raw) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || strings.Contains(raw, "#") {
			t.Fatalf("redirect URI %q accepted: %v", raw, err)
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && IsLoopbackHost(u.Hostname())) {
			t.Fatalf("redirect URI %q accepted: neither https nor loopback", raw)
		}
		if again := u.String(); again != raw {
			// Not a failure of the rule by itself (a registered URI is
			// compared as written); but a URI that reads back otherwise
			// must not lead elsewhere.
			v, err := url.Parse(again)
			if err != nil || v.Scheme != u.Scheme || v.Host != u.Host {
				t.Fatalf("redirect URI %q reads back as %q, another place", raw, again)
			}
		}
		if strings.ContainsFunc(raw, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("redirect URI %q accepted, with a control character", raw)
		}
	})
}
