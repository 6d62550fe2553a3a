package tenant

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Clients: creating, reading, changing and deleting them, the rules their
// settings and URIs follow, and the admin console's own client. (The
// tenant's branding rules, which share HTTPSOrLoopback, are in tenants.go.)

// NewClient is the input of CreateClient.
type NewClient struct {
	Name                   string
	Public                 bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	Scopes                 []string
	AccessTokenTTL         time.Duration
	IDTokenTTL             time.Duration
	RefreshTokenTTL        time.Duration
	RefreshRetryGrace      time.Duration
}

// Cognito's token lifetimes (COGNITO.md §6.4) are the defaults.
const (
	DefaultAccessTokenTTL  = time.Hour
	DefaultIDTokenTTL      = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	// MaxRefreshRetryGrace bounds Client.RefreshRetryGrace, as Cognito
	// bounds RetryGracePeriodSeconds.
	MaxRefreshRetryGrace = time.Minute
)

// CreateClient registers a relying party. For a confidential client the
// secret is returned once and only its hash is kept.
func (s *Service) CreateClient(ctx context.Context, tenantID string, in NewClient) (Client, string, error) {
	now := s.Time()
	c := Client{
		ID:                     NewClientID(),
		Name:                   strings.TrimSpace(in.Name),
		RedirectURIs:           in.RedirectURIs,
		PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		GrantTypes:             in.GrantTypes,
		Scopes:                 in.Scopes,
		AccessTokenTTL:         in.AccessTokenTTL,
		IDTokenTTL:             in.IDTokenTTL,
		RefreshTokenTTL:        in.RefreshTokenTTL,
		RefreshRetryGrace:      in.RefreshRetryGrace,
		CreatedAt:              now,
		UpdatedAt:              now,
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "email", "profile", "phone", "aws.cognito.signin.user.admin"}
	}
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = DefaultAccessTokenTTL
	}
	if c.IDTokenTTL == 0 {
		c.IDTokenTTL = DefaultIDTokenTTL
	}
	if c.RefreshTokenTTL == 0 {
		c.RefreshTokenTTL = DefaultRefreshTokenTTL
	}
	var secret string
	if !in.Public {
		secret = NewSecret(32)
		c.SecretHash = HashSecret(secret)
	}
	if err := ValidateClient(c); err != nil {
		return Client{}, "", err
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditClientCreate, clientTarget(c), nil); err != nil {
			return err
		}
		return PutClient(tx, tenantID, c)
	})
	if err != nil {
		return Client{}, "", err
	}
	s.changed(ctx, tenantID)
	return c, secret, nil
}

// Client reads one client.
func (s *Service) Client(ctx context.Context, tenantID, id string) (Client, error) {
	var c Client
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		c, err = GetClient(tx, tenantID, id)
		return err
	})
	return c, err
}

// Clients lists a tenant's clients.
func (s *Service) Clients(ctx context.Context, tenantID string) ([]Client, error) {
	var out []Client
	err := s.Store.View(ctx, func(tx Tx) error {
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		return ScanJSON(tx, CollClients, tenantID, "", "", func(_ string, c Client) bool {
			out = append(out, c)
			return true
		})
	})
	return out, err
}

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
	now := s.Time()
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
	now := s.Time()
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

// RotateClientSecret gives a confidential client a new secret and returns it;
// the old secret stops working at once, as only the new hash is kept.
func (s *Service) RotateClientSecret(ctx context.Context, tenantID, id string) (Client, string, error) {
	secret := NewSecret(32)
	now := s.Time()
	var c Client
	err := s.Store.Update(ctx, func(tx Tx) (err error) {
		c, err = GetClient(tx, tenantID, id)
		if err != nil {
			return err
		}
		if c.Public() {
			return fmt.Errorf("%w: client %q is public: it has no secret to rotate", ErrInvalid, id)
		}
		c.SecretHash, c.UpdatedAt = HashSecret(secret), now
		if err := s.audit(ctx, tx, tenantID, AuditClientSecretRotate, clientTarget(c), nil); err != nil {
			return err
		}
		return PutClient(tx, tenantID, c)
	})
	if err != nil {
		return Client{}, "", err
	}
	s.changed(ctx, tenantID)
	return c, secret, nil
}

// DeleteClient removes a client; Cognate's own (IsBuiltinClient) are
// refused with ErrBuiltinClient.
func (s *Service) DeleteClient(ctx context.Context, tenantID, id string) error {
	if IsBuiltinClient(id) {
		return ErrBuiltinClient
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		c, err := GetClient(tx, tenantID, id)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditClientDelete, clientTarget(c), nil); err != nil {
			return err
		}
		return tx.Delete(CollClients, tenantID, id)
	})
	if err == nil {
		s.changed(ctx, tenantID)
	}
	return err
}

func clientTarget(c Client) AuditTarget {
	return AuditTarget{Kind: TargetClient, ID: c.ID, Name: c.Name}
}

// ValidateClient checks a client's settings and says every problem: its
// error is InvalidErrors, in the order of the checks (the name, the grant
// types, the redirect and logout URIs, the scopes, the lifetimes), so a
// form that shows one problem shows the first field's. Each names the
// parts of the client it looked at (InvalidError.Parts).
func ValidateClient(c Client) error {
	var problems InvalidErrors
	switch {
	case c.Name == "":
		problems = append(problems, invalid(CodeClientNameMissing).about(FieldName))
	case utf8.RuneCountInString(c.Name) > MaxClientNameLength || !PlainText(c.Name):
		problems = append(problems, invalid(CodeClientNameRule, strconv.Itoa(MaxClientNameLength)).about(FieldName))
	}
	if len(c.GrantTypes) == 0 {
		problems = append(problems, invalid(CodeClientNoGrant).about(FieldGrantTypes))
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains([]string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}, g) {
			problems = append(problems, invalid(CodeClientGrantUnsupported, g).in(FieldGrantTypes))
		}
	}
	problems = append(problems, twice(FieldGrantTypes, c.GrantTypes)...)
	if c.Public() && c.AllowsGrant(GrantClientCredentials) {
		problems = append(problems, invalid(CodeClientPublicCredentials).about(FieldPublic, FieldGrantTypes))
	}
	problems = append(problems, uriProblems(FieldRedirectURIs, c.RedirectURIs, CodeClientRedirectsTooMany)...)
	problems = append(problems, uriProblems(FieldLogoutURIs, c.PostLogoutRedirectURIs, CodeClientLogoutsTooMany)...)
	if c.AllowsGrant(GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		problems = append(problems, invalid(CodeClientNoRedirect).about(FieldGrantTypes, FieldRedirectURIs))
	}
	for _, sc := range c.Scopes {
		if !ValidScope(sc) {
			problems = append(problems, invalid(CodeClientScope, sc, strconv.Itoa(MaxScopeLength)).in(FieldScopes))
		}
	}
	problems = append(problems, twice(FieldScopes, c.Scopes)...)
	problems = append(problems, tooMany(FieldScopes, c.Scopes, MaxClientScopes, CodeClientScopesTooMany)...)
	for _, ttl := range []struct {
		code, part    string
		got, min, max time.Duration
	}{
		{CodeClientAccessTokenTTL, FieldAccessTokenTTL, c.AccessTokenTTL, 5 * time.Minute, maxSignedTokenTTL},
		{CodeClientIDTokenTTL, FieldIDTokenTTL, c.IDTokenTTL, 5 * time.Minute, maxSignedTokenTTL},
		{CodeClientRefreshTokenTTL, FieldRefreshTokenTTL, c.RefreshTokenTTL, time.Hour, 10 * 365 * 24 * time.Hour},
	} {
		if ttl.got < ttl.min || ttl.got > ttl.max {
			problems = append(problems, invalid(ttl.code, ttl.min.String(), ttl.max.String()).about(ttl.part))
		}
	}
	if g := c.RefreshRetryGrace; g < 0 || g > MaxRefreshRetryGrace || g%time.Second != 0 {
		problems = append(problems, invalid(CodeClientRetryGrace, strconv.Itoa(int(MaxRefreshRetryGrace/time.Second))).about(FieldRefreshRetryGrace))
	}
	return problems.orNil()
}

// uriProblems checks one of a client's lists of URIs, field: each URI, in
// order, and then that none is given twice and that there are not more
// than MaxClientURIs (tooManyCode).
func uriProblems(field string, uris []string, tooManyCode string) InvalidErrors {
	var problems InvalidErrors
	for _, u := range uris {
		var inv *InvalidError
		if errors.As(ValidateRedirectURI(u), &inv) {
			problems = append(problems, inv.in(field))
		}
	}
	problems = append(problems, twice(field, uris)...)
	return append(problems, tooMany(field, uris, MaxClientURIs, tooManyCode)...)
}

// twice is a problem for each value given more than once in the list
// field of a client.
func twice(field string, list []string) InvalidErrors {
	var problems InvalidErrors
	for _, v := range repeated(list) {
		problems = append(problems, invalid(CodeClientTwice, v).in(field))
	}
	return problems
}

// tooMany is code's problem when the list field of a client is longer
// than max.
func tooMany(field string, list []string, max int, code string) InvalidErrors {
	if len(list) <= max {
		return nil
	}
	return InvalidErrors{invalid(code, strconv.Itoa(max), strconv.Itoa(len(list))).about(field)}
}

// Cognito's limits on a client (UserPoolClientType): a scope of at most 256
// characters (ScopeType), at most 50 scopes (AllowedOAuthScopes), and at
// most 100 redirect and 100 logout URIs (CallbackURLs, LogoutURLs) of at
// most 1024 characters each (RedirectUrlType). A client within them moves
// between Cognito and Cognate either way.
const (
	MaxScopeLength  = 256
	MaxClientScopes = 50
	MaxClientURIs   = 100
	MaxURILength    = 1024
)

// MaxClientNameLength is the most characters a client's name has, as
// Cognito's ClientName.
const MaxClientNameLength = 128

// ValidScope reports whether sc is a scope-token of RFC 6749 §3.3,
// 1*( %x21 / %x23-5B / %x5D-7E ): printable ASCII without spaces, quotes
// or backslashes, which is also the pattern of Cognito's ScopeType, of at
// most MaxScopeLength characters. Anything else is no scope a client can
// ask for, and would reach the tokens as it is.
func ValidScope(sc string) bool {
	if sc == "" || len(sc) > MaxScopeLength {
		return false
	}
	for i := range len(sc) {
		if b := sc[i]; b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}

// ValidateRedirectURI enforces Cognito's rule: absolute, no fragment, at
// most MaxURILength characters, and https except for loopback addresses
// used in development.
// The error is an *InvalidError naming the rule broken (CodeURI…).
func ValidateRedirectURI(raw string) error {
	if n := utf8.RuneCountInString(raw); n > MaxURILength {
		// Named by its start: a client's list may hold several too long.
		return invalid(CodeURITooLong, Shorten(raw, ShownURILength), strconv.Itoa(MaxURILength), strconv.Itoa(n))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return invalid(CodeURINotAbsolute, raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return invalid(CodeURIFragment, raw)
	}
	if !HTTPSOrLoopback(u) {
		return invalid(CodeURINotHTTPS, raw)
	}
	return nil
}

// ShownURILength bounds a URI quoted in a message (see Shorten): one over
// MaxURILength is too long to read in a sentence.
const ShownURILength = 80

// HTTPSOrLoopback reports whether u is https, or plain http to this machine
// (IsLoopbackHost), where development runs and where nothing crosses a
// network in clear. It is the one rule for every URL Cognate sends
// something to or lets a browser go to: redirect URIs, logos and legacy
// pools (which receive passwords).
func HTTPSOrLoopback(u *url.URL) bool {
	return u.Scheme == "https" || u.Scheme == "http" && IsLoopbackHost(u.Hostname())
}

// IsLoopbackHost reports whether host, as url.URL.Hostname gives it, names
// this machine: an IP address that is loopback (all of 127.0.0.0/8 and ::1,
// also written IPv4-mapped), or the name localhost or a name under it
// (RFC 6761 §6.3). A name that only looks like an address, such as
// 127.0.0.attacker, is a DNS name like any other and may point anywhere.
//
// For redirect URIs RFC 8252 §7.3 names 127.0.0.1 and ::1; the rest of
// 127.0.0.0/8 is as much this machine (a code sent there never leaves it),
// so one rule serves every use.
func IsLoopbackHost(host string) bool {
	if addr, err := netip.ParseAddr(host); err == nil {
		return addr.IsLoopback()
	}
	host = strings.ToLower(host)
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}
