package provider

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cognate-idp/cognate/tenant"
)

// Claims keep Cognito's shape (COGNITO.md §6) so that relying parties built
// for Cognito only change their issuer URL.

// claimsSupported lists, for discovery, every claim an ID token or a
// userinfo answer of Cognate can carry, custom:* attributes aside.
func claimsSupported() []string {
	claims := []string{
		"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp", "client_id", "at_hash", "c_hash",
		"token_use", "cognito:username", "cognito:groups", "email", "email_verified", "jti", "origin_jti", "event_id",
	}
	return append(claims, tenant.StandardAttributes()...)
}

// setUserClaims fills info with what scopes, granted to a client whose
// scope list is clientScopes, release of user. The ID token and userinfo
// carry the same claims, as in Cognito, which releases them so (its
// userinfo endpoint's documentation): openid alone releases every
// attribute the client may read; openid with profile, email, phone (or,
// here, address) only what those scopes give (claimScopes). Cognate has
// no list of readable attributes per client, as Cognito has: what a
// client may read is what the scopes in its list release, so openid alone
// releases what those would (releasedScopes). sub, cognito:username,
// cognito:groups and the custom:* attributes come with every scope.
func setUserClaims(info *oidc.UserInfo, user tenant.User, scopes, clientScopes []string) {
	info.Subject = user.Sub
	info.AppendClaims("cognito:username", user.Username)
	if len(user.Groups) > 0 {
		info.AppendClaims("cognito:groups", slices.Clone(user.Groups))
	}
	scopes = releasedScopes(scopes, clientScopes)
	released := func(name string) bool {
		return slices.ContainsFunc(claimScopes(name), func(s string) bool { return slices.Contains(scopes, s) })
	}
	if released("email") && user.Email != "" {
		info.Email = user.Email
		// email_verified is a JSON boolean, false included: Cognito sends it
		// either way, and the library's Bool omits false.
		info.AppendClaims("email_verified", user.EmailVerified)
	}
	for name, value := range user.Attributes {
		if strings.HasPrefix(name, "custom:") {
			info.AppendClaims(name, value) // always strings, as in Cognito
			continue
		}
		if !released(name) {
			continue
		}
		switch name {
		case "phone_number_verified":
			// Sent with phone_number, below, or not at all: a flag
			// says nothing without the number it is about.
		case "phone_number":
			info.AppendClaims(name, value)
			if value != "" {
				// A boolean, false when it was never stored, as
				// email_verified is and as Cognito sends it.
				info.AppendClaims("phone_number_verified", user.Attributes["phone_number_verified"] == "true")
			}
		case "updated_at":
			// A number of seconds (OIDC Core §5.1), as Cognito sends it.
			// Stored values were checked to be one (ValidateAttributes);
			// one that is not is left out rather than sent as a string
			// that relying parties' libraries refuse to read.
			if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
				info.AppendClaims(name, seconds)
			}
		case "address":
			info.Address = addressClaim(value)
		default:
			info.AppendClaims(name, value)
		}
	}
}

// scopeCognitoAdmin is Cognito's reserved scope, in every client's scopes
// by default. In Cognito it lets the access token call the user-pool API
// on the user's own account; here it is granted as any scope the client
// has, and, as in Cognito, it selects no claims.
const scopeCognitoAdmin = "aws.cognito.signin.user.admin"

// releasedScopes returns the scopes whose claims a grant of scopes
// releases, to a client whose scope list is clientScopes: scopes itself,
// or, for openid with none of the scopes that select claims, scopes and
// each scope of the client's list that selects claims. Cognito answers
// openid alone with every attribute the client may read, in the ID token
// and at userinfo, and relying parties built for it ask for openid alone
// and read email. aws.cognito.signin.user.admin, offline_access and an
// API's own scopes select no claims, so they change nothing.
func releasedScopes(scopes, clientScopes []string) []string {
	if !slices.Contains(scopes, oidc.ScopeOpenID) || slices.ContainsFunc(scopes, selectsClaims) {
		return scopes
	}
	released := slices.Clone(scopes)
	for _, s := range clientScopes {
		if selectsClaims(s) {
			released = append(released, s)
		}
	}
	return released
}

// selectsClaims reports whether scope is one that releases claims of
// attributes (claimScopes).
func selectsClaims(scope string) bool {
	switch scope {
	case oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeAddress:
		return true
	}
	return false
}

// claimScopes are the scopes that release the claim of attribute name
// (see releasedScopes for openid alone):
// those of OIDC Core §5.4 (email with email, phone_number and
// phone_number_verified with phone, address with address, the rest with
// profile). The address comes with profile too: Cognito has no address
// scope, and its profile scope releases every attribute the client may
// read, so relying parties built for Cognito ask for profile to get it.
func claimScopes(name string) []string {
	switch name {
	case "email":
		return []string{oidc.ScopeEmail}
	case "phone_number", "phone_number_verified":
		return []string{oidc.ScopePhone}
	case "address":
		return []string{oidc.ScopeAddress, oidc.ScopeProfile}
	}
	return []string{oidc.ScopeProfile}
}

// addressClaim is the address claim, a JSON object (OIDC Core §5.1.1), of
// an address attribute. Cognito holds the address as text and sends it as
// {"formatted": text}; an attribute that is itself a JSON object of
// §5.1.1's members, with text values (as some pools store an address),
// gives those members instead.
func addressClaim(value string) *oidc.UserInfoAddress {
	dec := json.NewDecoder(strings.NewReader(value))
	dec.DisallowUnknownFields()
	var members oidc.UserInfoAddress
	if dec.Decode(&members) == nil && dec.Decode(new(json.RawMessage)) == io.EOF && members != (oidc.UserInfoAddress{}) {
		return &members
	}
	return &oidc.UserInfoAddress{Formatted: value}
}

func (s *storage) user(ctx context.Context, sub string) (tenant.User, error) {
	slug, err := s.slug(ctx)
	if err != nil {
		return tenant.User{}, err
	}
	var u tenant.User
	err = s.store.View(ctx, func(tx tenant.Tx) (err error) { u, err = tenant.GetUser(tx, slug, sub); return err })
	return u, err
}

// grantUser is the user a code or refresh token is exchanged for. One
// deleted or disabled since the grant was given makes the grant invalid:
// invalid_grant (RFC 6749 §5.2), as TokenRequestByRefreshToken answers a
// refresh token of such a user; neither a failure of the server's nor
// access_denied, which is the authorization endpoint's.
//
// A refresh grant's user was read with its token (refreshLookup), a moment
// ago, and is taken from there: the ID token's claims and the access
// token's each ask for it.
func (s *storage) grantUser(ctx context.Context, sub string) (tenant.User, error) {
	if l, ok := ctx.Value(refreshLookupKey{}).(*refreshLookup); ok && l.standing == refreshUsable && l.user.Sub == sub {
		return l.user, nil
	}
	user, err := s.user(ctx, sub)
	reason := "the user is disabled"
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		reason = "the user no longer exists"
	case err != nil:
		return tenant.User{}, s.oauthError(ctx, "read the user", err)
	case user.Enabled:
		return user, nil
	}
	s.logger.WarnContext(ctx, "token request refused", "reason", reason)
	return tenant.User{}, oidc.ErrInvalidGrant().WithDescription("the user may no longer sign in")
}

// SetUserinfoFromScopes is left empty: SetUserinfoFromRequest does the work
// with the whole request in view.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	user, err := s.grantUser(ctx, req.GetSubject())
	if err != nil {
		return err
	}
	clientScopes, err := s.clientScopes(ctx, req.GetClientID())
	if err != nil {
		return err
	}
	setUserClaims(info, user, scopes, clientScopes)
	info.AppendClaims("token_use", "id")
	// Each ID token has its own jti; origin_jti and event_id are those of
	// the sign-in the token stems from (signInIDs).
	info.AppendClaims("jti", tenant.NewUUID())
	if ids, ok := signInIDsOf(req); ok {
		info.AppendClaims("origin_jti", ids.originJTI)
		info.AppendClaims("event_id", ids.eventID)
	}
	return nil
}

// signInIDs are Cognito's origin_jti and event_id claims (COGNITO.md §6.2,
// §6.3) of a token: the same in every access and ID token that one sign-in
// gives, refreshes included.
//
//   - origin_jti identifies the token family: the tokens one authorization
//     code gave a client, and every token refreshed from them. In Cognito it
//     is the identifier revocation checks; here too revoking the refresh
//     token ends everything that carries it.
//   - event_id identifies the authentication event: the user's sign-in at
//     auth_time. Several families share it when an SSO session answers
//     authorization requests of several clients without asking again; a new
//     sign-in (prompt=login, max_age, another session) gives a new one.
//
// Neither is stored: origin_jti is derived from the family's ID, which is
// random and never shown, and event_id from the subject and the exact
// auth_time (nanoseconds, kept so by every record that carries it), which
// one sign-in has and no other of that user. Both are formatted as UUIDs,
// as Cognito's are.
type signInIDs struct {
	originJTI, eventID string
}

func signInIDsOf(req any) (signInIDs, bool) {
	var familyID, sub string
	var authTime time.Time
	switch r := req.(type) {
	case *authRequest:
		familyID, sub, authTime = r.FamilyID, r.Subject, r.AuthTime
	case *refreshToken:
		familyID, sub, authTime = r.FamilyID, r.Sub, r.AuthTime
	default:
		return signInIDs{}, false
	}
	if familyID == "" {
		return signInIDs{}, false
	}
	ids := signInIDs{originJTI: derivedUUID("origin_jti", familyID)}
	if authTime.IsZero() {
		ids.eventID = derivedUUID("event_id", familyID)
	} else {
		ids.eventID = derivedUUID("event_id", sub, strconv.FormatInt(authTime.UnixNano(), 10))
	}
	return ids, true
}

// derivedUUID is a UUID (version 8, RFC 9562 §5.8) made of the SHA-256 of
// label and parts.
func derivedUUID(label string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(label))
	for _, part := range parts {
		h.Write([]byte{0})
		h.Write([]byte(part))
	}
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return tenant.FormatUUID(b)
}

// SetUserinfoFromToken serves /oauth2/userInfo. The library has checked the
// JWT's signature and expiry; this checks it was not revoked since, that the
// client it was issued to still exists, and that the user may still sign in
// (accessTokenStandingOf).
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	// The library's verifier takes any token this tenant signed; userinfo
	// describes the user of a sign-in, which only a user's access token
	// names. A machine token is told what it is; any other token it has no
	// record of may be an ID token as well as a revoked one.
	if strings.HasPrefix(tokenID, machinePrefix) {
		return errInvalidToken("a client_credentials access token is not a user's access token: userinfo describes the user of a sign-in")
	}
	at, user, cl, standing, err := s.accessTokenStandingOf(ctx, tokenID)
	switch {
	case err != nil:
		// Not invalid_token: a relying party told so drops a good token,
		// and its user must sign in again, for what may pass in a moment.
		return s.oauthError(ctx, "userinfo", err)
	case standing == accessInactive:
		return errInvalidToken("access token is revoked or expired, or is not a user's access token (an ID token, say)")
	case standing == accessNoClient:
		return errInvalidToken("the client the token was issued to is deleted")
	case standing == accessUserDisabled:
		return errInvalidToken("token is no longer valid")
	}
	scopes := cl.stillAllowed(at.Scopes)
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		return &oidc.Error{ErrorType: errorInsufficientScope, Description: "the access token lacks the openid scope"}
	}
	setUserClaims(info, user, scopes, cl.Scopes)
	return nil
}

// clientScopes is the scope list of client id, of the request's tenant; a
// client deleted meanwhile has none.
func (s *storage) clientScopes(ctx context.Context, id string) ([]string, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	if cl, ok := st.clients[id]; ok {
		return cl.Scopes, nil
	}
	return nil, nil
}

// errTokenInactive is the library's cue to answer an introspection with
// active false; what it says is not shown.
var errTokenInactive = errors.New("access token revoked or unknown")

// RFC 6750's error codes of a protected resource, which the library does
// not name. userinfo.go turns them into the statuses RFC 6750 asks for.
const (
	errorInvalidToken      = "invalid_token"
	errorInsufficientScope = "insufficient_scope"
)

func errInvalidToken(description string) *oidc.Error {
	return &oidc.Error{ErrorType: errorInvalidToken, Description: description}
}

// accessStanding is whether a user's access token may still be used, and if
// not, why not: the one rule userinfo (SetUserinfoFromToken) and
// introspection (SetIntrospectionFromToken) both answer by, each in its own
// words, as refreshStanding is for refresh tokens.
type accessStanding int

const (
	accessUsable       accessStanding = iota
	accessInactive                    // unknown (an ID token, say), revoked, expired, or of a revoked family
	accessNoClient                    // its client was deleted
	accessUserDisabled                // its user is disabled or deleted
)

// accessTokenStandingOf reads the user's access token whose ID (jti) is
// tokenID at the request's tenant, with its user and client, and says
// whether it may still be used: it must be stored, unexpired, its family
// not revoked, its client still there and its user enabled, checked in
// that order. An error is a read of the store that failed (or the tenant
// that could not be loaded: an *oidc.Error, already logged), never a
// refusal: a token the store could not be asked about is not known to be
// inactive.
func (s *storage) accessTokenStandingOf(ctx context.Context, tokenID string) (accessToken, tenant.User, *client, accessStanding, error) {
	st, err := s.state(ctx)
	if err != nil {
		return accessToken{}, tenant.User{}, nil, 0, err
	}
	slug, now := st.tenant.Slug, s.now()
	var at accessToken
	var user tenant.User
	var cl *client
	standing := accessUsable
	err = s.store.View(ctx, func(tx tenant.Tx) error {
		var err error
		at, err = tenant.GetJSON[accessToken](tx, tenant.CollAccessTokens, slug, prefixAccess+tokenID)
		if errors.Is(err, tenant.ErrNotFound) {
			standing = accessInactive
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the access token: %w", err)
		}
		revoked, err := familyRevoked(tx, slug, at.FamilyID)
		if err != nil {
			return fmt.Errorf("read the access token's family: %w", err)
		}
		if revoked || !now.Before(at.ExpiresAt) {
			standing = accessInactive
			return nil
		}
		if cl = st.clients[at.ClientID]; cl == nil {
			standing = accessNoClient
			return nil
		}
		user, err = tenant.GetUser(tx, slug, at.Sub)
		if errors.Is(err, tenant.ErrNotFound) || err == nil && !user.Enabled {
			standing = accessUserDisabled
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the access token's user: %w", err)
		}
		return nil
	})
	if err != nil {
		return accessToken{}, tenant.User{}, nil, 0, err
	}
	return at, user, cl, standing, nil
}

// SetIntrospectionFromToken answers introspection. Only the client the
// token was issued to learns about it; to anyone else it is inactive. A
// store that cannot be read is a failure of the server's (oauthError),
// which serveIntrospect answers with server_error: the library would say
// active false, and the resource server would drop a good token.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	if strings.HasPrefix(tokenID, machinePrefix) {
		// A machine token: the library verified signature and expiry
		// against this tenant's keys; its subject is its client.
		claims, ok := machineIntrospection(ctx, tokenID)
		if subject != clientID || !ok {
			return errTokenInactive
		}
		resp.Active = true
		resp.ClientID = clientID
		resp.Subject = subject
		resp.TokenType = "Bearer"
		resp.Scope = strings.Fields(claims.Scope)
		resp.Expiration = oidc.Time(claims.Expiry)
		resp.IssuedAt = oidc.Time(claims.IssuedAt)
		resp.NotBefore = oidc.Time(claims.NotBefore)
		resp.Issuer = claims.Issuer
		resp.JWTID = claims.JWTID
		return nil
	}
	at, user, cl, standing, err := s.accessTokenStandingOf(ctx, tokenID)
	if err != nil {
		return s.oauthError(ctx, "introspect access token", err)
	}
	if standing != accessUsable || at.ClientID != clientID {
		return errTokenInactive
	}
	scopes := cl.stillAllowed(at.Scopes)
	info := new(oidc.UserInfo)
	setUserClaims(info, user, scopes, cl.Scopes)
	resp.SetUserInfo(info)
	resp.Active = true
	resp.Scope = scopes
	resp.ClientID = at.ClientID
	resp.Subject = at.Sub
	resp.Username = user.Username
	resp.TokenType = "Bearer"
	resp.Expiration = oidc.FromTime(at.ExpiresAt)
	if !at.AuthTime.IsZero() {
		resp.AuthTime = oidc.FromTime(at.AuthTime)
	}
	resp.Issuer = op.IssuerFromContext(ctx)
	return nil
}

// grantedScopes is the scope a token of req carries: for a code exchange,
// without the offline_access the library needed to issue a refresh token
// (authRequest.GetScopes).
func grantedScopes(req op.TokenRequest) []string {
	if ar, ok := req.(*authRequest); ok {
		return ar.granted()
	}
	return req.GetScopes()
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest adds Cognito's access-token claims. The
// library emits no scope claim of its own.
func (s *storage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	claims := map[string]any{
		"token_use": "access",
		"scope":     strings.Join(grantedScopes(req), " "),
	}
	if ids, ok := signInIDsOf(req); ok {
		claims["origin_jti"] = ids.originJTI
		claims["event_id"] = ids.eventID
	}
	user, err := s.grantUser(ctx, req.GetSubject())
	if err != nil {
		return nil, err
	}
	claims["username"] = user.Username
	if len(user.Groups) > 0 {
		claims["cognito:groups"] = slices.Clone(user.Groups)
	}
	if ir, ok := req.(op.IDTokenRequest); ok && !ir.GetAuthTime().IsZero() {
		claims["auth_time"] = ir.GetAuthTime().Unix()
	}
	return claims, nil
}
