package tenant

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Clients beyond creating one: the admin console's own client, changing a
// client's URIs, and the tenant's branding rules.

// ConsoleClientID is the client through which a tenant's admin console
// signs administrators in: an ordinary public client with PKCE, made on
// demand (ConsoleClient). It is built in: it cannot be changed or deleted
// through the service, since the console could otherwise lock its own
// administrators out.
const ConsoleClientID = "cognate-admin-console"

// ErrBuiltinClient refuses changing or deleting a client Cognate itself
// needs.
var ErrBuiltinClient = fmt.Errorf("%w: this client is built in and cannot be changed or deleted", ErrInvalid)

// IsBuiltinClient reports whether a client is one of Cognate's own: the
// admin console's, or the start page's (StartPageClientID).
func IsBuiltinClient(id string) bool { return id == ConsoleClientID || id == StartPageClientID }

// ConsoleClient returns the tenant's admin console client with the given
// redirect and post-logout URIs, creating or correcting it first when
// needed (a tenant made before the console, or a changed base URL).
func (s *Service) ConsoleClient(ctx context.Context, tenantID, redirectURI, logoutURI string) (Client, error) {
	for _, u := range []string{redirectURI, logoutURI} {
		if err := ValidateRedirectURI(u); err != nil {
			return Client{}, err // an *InvalidError
		}
	}
	return s.builtinClient(ctx, tenantID, ConsoleClientID,
		func(_ Tenant, c Client) bool {
			return c.Public() && slices.Equal(c.RedirectURIs, []string{redirectURI}) &&
				slices.Equal(c.PostLogoutRedirectURIs, []string{logoutURI})
		},
		func(Tenant) Client {
			return Client{
				Name:                   "Admin console",
				RedirectURIs:           []string{redirectURI},
				PostLogoutRedirectURIs: []string{logoutURI},
				GrantTypes:             []string{GrantAuthorizationCode},
				Scopes:                 []string{"openid", "profile", "email"},
				// The console reads the ID token once, at its callback, and
				// keeps its own short session; the tokens need not live long.
				AccessTokenTTL:  5 * time.Minute,
				IDTokenTTL:      5 * time.Minute,
				RefreshTokenTTL: time.Hour,
			}
		})
}

// builtinClient returns one of Cognate's own clients of a tenant (id),
// writing it first when it is missing or no longer current: build makes it
// as it should be for the tenant; a rewrite keeps its creation time. A
// current client costs one read and no write.
func (s *Service) builtinClient(ctx context.Context, tenantID, id string, current func(Tenant, Client) bool, build func(Tenant) Client) (Client, error) {
	var (
		c  Client
		ok bool
	)
	err := s.Store.View(ctx, func(tx Tx) error {
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		c, err = GetClient(tx, tenantID, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		ok = err == nil && current(t, c)
		return err
	})
	if err != nil || ok {
		return c, err
	}
	now := s.now()
	err = s.Store.Update(ctx, func(tx Tx) error {
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		created := now
		if old, err := GetClient(tx, tenantID, id); err == nil {
			created = old.CreatedAt
		}
		c = build(t)
		c.ID, c.CreatedAt, c.UpdatedAt = id, created, now
		if err := ValidateClient(c); err != nil {
			return err
		}
		return PutClient(tx, tenantID, c)
	})
	if err != nil {
		return Client{}, err
	}
	s.changed(ctx, tenantID)
	return c, nil
}

// ClientChange is the input of UpdateClient; nil fields stay as they are.
// The lifetimes have the ranges ValidateClient sets, as at creation.
// Whether a client is public is fixed at creation, as in Cognito (its
// GenerateSecret): a client that should change kind is registered anew.
type ClientChange struct {
	Name                   *string
	RedirectURIs           *[]string
	PostLogoutRedirectURIs *[]string
	// GrantTypes and Scopes replace the lists. A grant taken away stops
	// at once, for refresh tokens already issued too; so does a scope
	// taken away, from the next refresh on.
	GrantTypes      *[]string
	Scopes          *[]string
	AccessTokenTTL  *time.Duration
	IDTokenTTL      *time.Duration
	RefreshTokenTTL *time.Duration

	// RefreshRetryGrace is Client's, and applies to every refresh from
	// then on.
	RefreshRetryGrace *time.Duration

	// IfUnchanged, when set, makes the change conditional (see
	// UserChange.IfUnchanged).
	IfUnchanged func(Client) bool
}

// UpdateClient changes a client's name, its redirect and logout URIs, its
// grant types and scopes, its token lifetimes or its refresh retry grace
// period. Tokens already issued keep the expiry they were issued with; new
// lifetimes apply to tokens issued from then on. A new grace period applies
// to every refresh from then on.
func (s *Service) UpdateClient(ctx context.Context, tenantID, id string, in ClientChange) (Client, error) {
	if IsBuiltinClient(id) {
		return Client{}, ErrBuiltinClient
	}
	now := s.now()
	var (
		c       Client
		changed []string
	)
	err := s.Store.Update(ctx, func(tx Tx) (err error) {
		changed = nil // the closure may run more than once
		if c, err = GetClient(tx, tenantID, id); err != nil {
			return err
		}
		if in.IfUnchanged != nil && !in.IfUnchanged(c) {
			return fmt.Errorf("client %q: %w", id, ErrStale)
		}
		if in.Name != nil && strings.TrimSpace(*in.Name) != c.Name {
			c.Name = strings.TrimSpace(*in.Name)
			changed = append(changed, "name")
		}
		for _, list := range []struct {
			name  string
			to    *[]string
			field *[]string
		}{
			{"redirect_uris", in.RedirectURIs, &c.RedirectURIs},
			{"logout_uris", in.PostLogoutRedirectURIs, &c.PostLogoutRedirectURIs},
			{"grant_types", in.GrantTypes, &c.GrantTypes},
			{"scopes", in.Scopes, &c.Scopes},
		} {
			if list.to != nil && !slices.Equal(*list.to, *list.field) {
				*list.field = slices.Clone(*list.to)
				changed = append(changed, list.name)
			}
		}
		for _, ttl := range []struct {
			name  string
			to    *time.Duration
			field *time.Duration
		}{
			{"access_token_ttl", in.AccessTokenTTL, &c.AccessTokenTTL},
			{"id_token_ttl", in.IDTokenTTL, &c.IDTokenTTL},
			{"refresh_token_ttl", in.RefreshTokenTTL, &c.RefreshTokenTTL},
			{"refresh_retry_grace", in.RefreshRetryGrace, &c.RefreshRetryGrace},
		} {
			if ttl.to != nil && *ttl.to != *ttl.field {
				*ttl.field = *ttl.to
				changed = append(changed, ttl.name)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		if err := ValidateClient(c); err != nil {
			return err
		}
		c.UpdatedAt = now
		if err := PutClient(tx, tenantID, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, tenantID, AuditClientUpdate, clientTarget(c),
			map[string]string{"fields": strings.Join(changed, ",")})
	})
	if err != nil {
		return Client{}, err
	}
	// Only a write reloads the tenant's cached state: a change that
	// changes nothing should not cost the token endpoint a reload.
	if len(changed) > 0 {
		s.changed(ctx, tenantID)
	}
	return c, nil
}

func clientTarget(c Client) AuditTarget {
	return AuditTarget{Kind: TargetClient, ID: c.ID, Name: c.Name}
}

// brandingProblems says what is wrong with a tenant's branding: the login
// pages put the colour in a stylesheet name and the logo in an img element
// and the Content-Security-Policy, so both must be plain.
func brandingProblems(b Branding) []string {
	var problems []string
	if c := b.PrimaryColor; c != "" && !ValidColor(c) {
		problems = append(problems, fmt.Sprintf("primary colour %q must be #rgb or #rrggbb", c))
	}
	if l := b.LogoURL; l != "" && !ValidLogoURL(l) {
		problems = append(problems, fmt.Sprintf("logo URL %q must be an https address of at most 2048 characters", l))
	}
	return problems
}

// ValidColor reports whether c is a colour Branding accepts: #rgb or #rrggbb.
func ValidColor(c string) bool {
	hex, ok := strings.CutPrefix(c, "#")
	return ok && (len(hex) == 3 || len(hex) == 6) && strings.Trim(strings.ToLower(hex), "0123456789abcdef") == ""
}

// ValidLogoURL reports whether raw is a logo address Branding accepts: an
// absolute https URL (http only for loopback hosts, in development) with
// nothing that could end a CSP source or an attribute.
func ValidLogoURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || len(raw) > 2048 || strings.ContainsAny(raw, " '\";,") {
		return false
	}
	return HTTPSOrLoopback(u)
}
