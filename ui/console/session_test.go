package console

import "testing"

// safeNext keeps the return path after sign-in on a console page: dot
// segments resolved (escaped or not, as a browser resolves them), never
// the console's own sign-in or callback, nothing another host, and no
// control character that would reach the Location header.
func TestSafeNext(t *testing.T) {
	const fallback = "/admin/users"
	tests := []struct{ next, want string }{
		{"/admin", "/admin"},
		{"/admin/users", "/admin/users"},
		{"/admin/users?q=ann&status=active", "/admin/users?q=ann&status=active"},
		{"/admin/groups/Sales%20%2F%20EMEA", "/admin/groups/Sales%20%2F%20EMEA"},
		{"/admin/users/../groups", "/admin/groups"},
		{"/admin/users/./x/", "/admin/users/x/"},
		{"/admin/users%00x", fallback},

		{"", fallback},
		{"/admin/../login", fallback},
		{"/admin/./login?x", fallback},
		{"/admin/%2e%2e/login", fallback},
		{"/admin/%2E./login", fallback},
		{"/admin/..%2flogin", fallback},
		{"/admin/users/../../login", fallback},
		{"/admin/login", fallback},
		{"/admin/login?next=/admin", fallback},
		{"/admin//login", fallback},
		{"/admin/callback?code=x", fallback},
		{"/admin/x/../callback", fallback},
		{"/admin/users\x00x", fallback},
		{"/admin/users\r\nSet-Cookie: x=y", fallback},
		{"/admin/users\tx", fallback},
		{"/admin/users?q=\x7f", fallback},
		{"/admin\\..\\login", fallback},
		{"//evil.example/admin/users", fallback},
		{"https://evil.example/admin/users", fallback},
		{"/adminx", fallback},
		{"/login", fallback},
		{"admin/users", fallback},
		{"/admin/%zz", fallback},
	}
	for _, tt := range tests {
		if got := safeNext(tt.next); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}
