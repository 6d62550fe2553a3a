package tenant

import "fmt"

// ValidateSlug checks that s can be a tenant's subdomain label and says
// exactly why it cannot.
func ValidateSlug(s string) error {
	if len(s) < 3 || len(s) > 63 {
		return fmt.Errorf("%w: %q must be 3 to 63 characters long", ErrSlugInvalid, s)
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r == '-':
			if i == 0 || i == len(s)-1 {
				return fmt.Errorf("%w: %q may not start or end with a hyphen", ErrSlugInvalid, s)
			}
		default:
			return fmt.Errorf("%w: %q may only contain lowercase letters a-z, digits and hyphens", ErrSlugInvalid, s)
		}
	}
	if len(s) >= 4 && s[2:4] == "--" {
		// "xn--" and its kind are punycode prefixes; a slug that looks like one
		// would render as a different name in browsers.
		return fmt.Errorf("%w: %q may not have hyphens in the third and fourth position", ErrSlugInvalid, s)
	}
	if IsReservedSlug(s) {
		return fmt.Errorf("%w: %q is reserved for the service itself", ErrSlugReserved, s)
	}
	return nil
}

// IsReservedSlug reports whether s is reserved: a subdomain that belongs
// to the service itself or that people would mistake for it, which a
// tenant may never take.
func IsReservedSlug(s string) bool {
	switch s {
	case "admin", "api", "app", "apps", "assets", "auth", "autodiscover", "cdn",
		"cognate", "dashboard", "demo-admin", "dev", "docs", "ftp", "help",
		"id", "idp", "imap", "internal", "localhost", "login", "logout", "mail",
		"mx", "oauth", "oauth2", "oidc", "pop", "pop3", "root", "smtp", "sso",
		"static", "status", "support", "system", "test", "webmail", "www":
		return true
	}
	return false
}
