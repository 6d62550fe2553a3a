package console

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

// FuzzSafeNext: whatever ?next= holds, the return path after sign-in is a
// console page of this host, other than the sign-in and its callback, as
// a browser resolves it; it has no control character to reach the Location
// header; and it is a fixed point (a return path that is safe stays as it
// is).
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{
		"/admin/users?q=ann", "/admin/groups/Sales%20%2F%20EMEA", "/admin/%2e%2e/login", "/admin/..%2flogin",
		"//evil.example/admin", "/admin\\..\\login", "/admin/users\r\nSet-Cookie: x=y", "/admin/callback?code=x",
		"/admin/x/%2E%2E/%2e%2E/evil", "/admin/%252e%252e/login", "/admin/users#frag", "/admin/;/../login", "",
	} {
		f.Add(s)
	}
	base, err := url.Parse("https://acme.example.com/admin/users/u1")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if again := safeNext(got); again != got {
			t.Fatalf("safeNext(%q) = %q, but safeNext(%q) = %q", next, got, got, again)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f }) || strings.Contains(got, `\`) {
			t.Fatalf("safeNext(%q) = %q: a control character or a backslash", next, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q, which does not parse: %v", next, got, err)
		}
		to := base.ResolveReference(u)
		if to.Scheme != base.Scheme || to.Host != base.Host {
			t.Fatalf("safeNext(%q) = %q leads to another site: %s", next, got, to)
		}
		// As a browser resolves it, and as a server that decodes the
		// escapes first reads it.
		for _, p := range []string{to.EscapedPath(), path.Clean(strings.NewReplacer("%2e", ".", "%2E", ".").Replace(to.EscapedPath())), path.Clean(to.Path)} {
			if p != Base && !strings.HasPrefix(p, Base+"/") {
				t.Fatalf("safeNext(%q) = %q leads out of the console: %q", next, got, p)
			}
			if p == callbackPath || strings.HasPrefix(p, Base+"/login") {
				t.Fatalf("safeNext(%q) = %q leads to the sign-in: %q", next, got, p)
			}
		}
	})
}
