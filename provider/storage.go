package provider

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cognate-idp/cognate/tenant"
)

// storage implements op.Storage over tenant.Store. Every method works in the
// tenant of the request's site, so a code, token or client of tenant A is
// simply not found at tenant B.
type storage struct {
	store   tenant.Store
	cache   *cache
	pending *pending
	now     func() time.Time
	logger  *slog.Logger
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

// authRequestTTL bounds how long a person may take to sign in.
const authRequestTTL = 30 * time.Minute

// codeTTL is the lifetime of an authorization code (RFC 6749 advises ≤ 10 min).
const codeTTL = 5 * time.Minute

var (
	errNoTenant        = errors.New("request is not addressed to a tenant")
	errAuthRequestGone = fmt.Errorf("auth request unknown or expired: %w", tenant.ErrNotFound)
)

func (s *storage) slug(ctx context.Context) (string, error) {
	site, ok := SiteFromContext(ctx)
	if !ok || site.Apex {
		return "", errNoTenant
	}
	return site.Slug, nil
}

// state is the state of the request's tenant. One deleted since the Router
// found it is refused as organizationGone; any other that cannot be loaded
// (the Router found it could, a moment before) is a failure of the
// server's, as oauthError answers it.
func (s *storage) state(ctx context.Context) (*tenantState, error) {
	slug, err := s.slug(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.cache.get(ctx, slug)
	if errors.Is(err, tenant.ErrNotFound) {
		return nil, organizationGone(ctx, s.logger)
	}
	if err != nil {
		return nil, s.oauthError(ctx, "load the organization", err)
	}
	return st, nil
}

// organizationGone is the refusal of an endpoint request whose
// organization was deleted after the Router found it, which a request a
// moment later would find missing: logged at info level, as the Router
// logs a request for an organization that does not exist, and refused as
// invalid_client, since its clients went with it. Not a failure of the
// server's: trying again cannot succeed.
func organizationGone(ctx context.Context, logger *slog.Logger) *oidc.Error {
	logger.InfoContext(ctx, "request for an organization that does not exist; it was deleted while the request was under way")
	return oidc.ErrInvalidClient().WithDescription("the organization does not exist")
}

// serverErrorDescription is all a client learns of a failure on the
// server's side: the error itself may name the data file's path, or what
// the operating system said of it ("no space left on device"), which are
// for the operator's log.
const serverErrorDescription = "the server could not complete the request; try again later"

// errServerFailure is the OAuth error of a failure on the server's side.
func errServerFailure() *oidc.Error {
	return oidc.ErrServerError().WithDescription(serverErrorDescription)
}

// oauthError is what the library answers the client for err, which a
// storage method met: a refusal of the request (an *oidc.Error) as it is;
// anything else (the store could not be read or written) is a failure of
// the server's, which is logged here, as the request's one line (the
// library's own is then left out, requestlog.go), with what failed, and
// answered with server_error in general words. zitadel/oidc would put the
// text of a plain error in error_description, and the text of an
// *oidc.Error's parent in some answers too (Error), so the one returned
// has none. Where the library makes another error of it (invalid_grant,
// for the refresh token's lookup), the token endpoint still answers
// server_error: the request's context says a failure was met
// (libraryToken).
func (s *storage) oauthError(ctx context.Context, failed string, err error) *oidc.Error {
	if refusal := new(oidc.Error); errors.As(err, &refusal) {
		return refusal
	}
	s.logger.ErrorContext(ctx, failed, "err", err)
	if met, ok := ctx.Value(serverFailureKey{}).(*atomic.Bool); ok {
		met.Store(true)
	}
	return errServerFailure()
}

// --- auth requests and codes ---

// CreateAuthRequest holds an authorization request serveAuthorize has
// checked (its PKCE too: checkPKCE) until the person signs in.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	// The scopes are kept as asked: whether the exchange gives a refresh
	// token is decided when the code is redeemed (authRequest.GetScopes).
	scopes := slices.Clone(req.Scopes)
	now := s.now()
	ar := &authRequest{
		ID:                  tenant.NewSecret(24),
		ClientID:            req.ClientID,
		RedirectURI:         req.RedirectURI,
		Scopes:              scopes,
		State:               req.State,
		Nonce:               req.Nonce,
		ResponseType:        req.ResponseType,
		ResponseMode:        req.ResponseMode,
		Prompt:              req.Prompt,
		MaxAge:              req.MaxAge,
		LoginHint:           req.LoginHint,
		HintSubject:         hintSubject,
		UILocales:           strings.Fields(req.UILocales.String()),
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: req.CodeChallengeMethod,
		FamilyID:            tenant.NewSecret(16),
		ExpiresAt:           now.Add(authRequestTTL),
	}
	if err := s.pending.addRequest(st.key(), ar, now); err != nil {
		s.logger.WarnContext(ctx, "authorization request refused", "tenant", st.tenant.Slug, "err", err)
		return nil, oidc.ErrServerError().WithDescription("too many sign-ins are in progress; try again in a few minutes")
	}
	return ar, nil
}

// getAuthRequest returns a live authorization request of the tenant that
// has slug now. A request that a tenant deleted since left under the slug
// is not found: it is kept under that tenant's key (tenantKey).
func (s *storage) getAuthRequest(ctx context.Context, slug, id string) (*authRequest, error) {
	st, err := s.cache.get(ctx, slug)
	if errors.Is(err, tenant.ErrNotFound) {
		return nil, errAuthRequestGone // with the organization
	}
	if err != nil {
		return nil, fmt.Errorf("load the organization: %w", err)
	}
	return s.authRequestOf(st, id)
}

func (s *storage) authRequestOf(st *tenantState, id string) (*authRequest, error) {
	ar, ok := s.pending.request(st.key(), id, s.now())
	if !ok {
		return nil, errAuthRequestGone
	}
	return &ar, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	return s.authRequestOf(st, id)
}

// AuthRequestByCode consumes the code atomically: the library's own check is
// not, so two concurrent exchanges could otherwise both succeed. A second use
// of a code revokes every token the first one produced. The library calls
// it before it authenticates the client; Cognate's token endpoint has made
// every check of the request by then (Provider.exchangeCode), so only the
// client the code was issued to, with its redirect URI and PKCE verifier,
// gets here.
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	slug := st.tenant.Slug
	now := s.now()
	codeHash := tenant.HashSecret(code)
	ar, outcome := s.pending.redeemCode(st.key(), codeHash, now)
	switch outcome {
	case codeReplayed:
		s.logger.WarnContext(ctx, "authorization code replayed; its tokens are revoked", "tenant", slug)
		if err := s.store.Update(ctx, func(tx tenant.Tx) error { return revokeFamily(tx, slug, ar.FamilyID, now) }); err != nil {
			s.logger.ErrorContext(ctx, "revoke token family", "tenant", slug, "err", err)
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code already used")
	case codeUnknown:
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code is invalid or expired")
	}
	if cl := st.clients[ar.ClientID]; cl != nil {
		cl.redeeming(&ar)
	}
	return &ar, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	st, err := s.state(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if !s.pending.addCode(st.key(), id, tenant.HashSecret(code), now, now.Add(codeTTL)) {
		return errAuthRequestGone
	}
	return nil
}

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	st, err := s.state(ctx)
	if err != nil {
		return err
	}
	s.pending.deleteRequest(st.key(), id)
	return nil
}

// --- tokens ---

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	st, err := s.state(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	switch r := req.(type) {
	case *authRequest:
		cl := st.clients[r.ClientID]
		if cl == nil {
			return "", time.Time{}, oidc.ErrInvalidClient()
		}
		at := accessToken{ID: tenant.NewSecret(16), FamilyID: r.FamilyID, Sub: r.Subject, ClientID: r.ClientID,
			Scopes: r.granted(), AuthTime: r.AuthTime, ExpiresAt: now.Add(cl.AccessTokenTTL)}
		// Update, not Batch: the code exchange is what commits the
		// sign-in's own records (queued with Store.Later), and only Update
		// takes them, so they are durable once the client has its tokens.
		err := s.store.Update(ctx, func(tx tenant.Tx) error {
			if err := signInHolds(tx, st.tenant.Slug, r); err != nil {
				return err
			}
			return tenant.PutExpiring(tx, tenant.CollAccessTokens, st.tenant.Slug, prefixAccess+at.ID, at, at.ExpiresAt)
		})
		if errors.Is(err, errSignInEnded) {
			return "", time.Time{}, s.signInEnded(ctx, st.tenant.Slug, r, err)
		}
		if err != nil {
			return "", time.Time{}, s.oauthError(ctx, "issue an access token", err)
		}
		return at.ID, at.ExpiresAt, nil
	default:
		return "", time.Time{}, s.oauthError(ctx, "issue an access token", fmt.Errorf("unsupported token request %T", req))
	}
}

// CreateAccessAndRefreshTokens issues an access token and a new refresh
// token. On a refresh it rotates in one transaction: the presented token must
// be unused, is marked used, and its successor joins the same family. A
// token used before passes again only within the client's retry grace
// period; its first successor then stays valid beside the new one.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRT string) (string, string, time.Time, error) {
	st, err := s.state(ctx)
	if err != nil {
		return "", "", time.Time{}, err
	}
	slug := st.tenant.Slug
	now := s.now()
	base, code, err := refreshBase(req)
	if err != nil {
		return "", "", time.Time{}, s.oauthError(ctx, "issue tokens", err)
	}
	cl := st.clients[base.ClientID]
	if cl == nil {
		return "", "", time.Time{}, oidc.ErrInvalidClient()
	}
	newRT := tenant.NewSecret(32)
	next := base
	next.Hash, next.Used, next.current = tenant.HashSecret(newRT), false, nil
	at := accessToken{ID: tenant.NewSecret(16), FamilyID: base.FamilyID, Sub: base.Sub, ClientID: base.ClientID,
		Scopes: base.GetScopes(), AuthTime: base.AuthTime, ExpiresAt: now.Add(cl.AccessTokenTTL)}

	// One transaction: the grant is checked where the tokens are written,
	// and a refresh token is used up in the same commit that issues its
	// successor, so two uses at once cannot both pass as a first.
	var retried bool
	err = s.store.Update(ctx, func(tx tenant.Tx) error {
		if err := grantHolds(tx, slug, base.FamilyID, code); err != nil {
			return err
		}
		var err error
		if currentRT == "" {
			next.ExpiresAt, err = startFamily(tx, slug, base, cl, now)
		} else {
			next.ExpiresAt, retried, err = rotateRefreshToken(tx, slug, currentRT, cl, now)
		}
		if err != nil {
			return err
		}
		if err := tenant.PutExpiring(tx, tenant.CollRefreshTokens, slug, prefixRefresh+next.Hash, next, next.ExpiresAt); err != nil {
			return err
		}
		return tenant.PutExpiring(tx, tenant.CollAccessTokens, slug, prefixAccess+at.ID, at, at.ExpiresAt)
	})
	if err != nil {
		return "", "", time.Time{}, s.issueRefused(ctx, slug, base.FamilyID, code, err)
	}
	if retried {
		s.logger.InfoContext(ctx, "refresh token used again within the client's retry grace period",
			"tenant", slug, "client_id", base.ClientID)
	}
	return at.ID, newRT, at.ExpiresAt, nil
}

// refreshBase is what the tokens of req are issued for, as the refresh
// token they succeed: the code's sign-in, whose request is code, on a code
// exchange (the grant starts a family), or the presented refresh token on
// a refresh (code is nil).
func refreshBase(req op.TokenRequest) (base refreshToken, code *authRequest, err error) {
	switch r := req.(type) {
	case *authRequest:
		return refreshToken{FamilyID: r.FamilyID, Sub: r.Subject, ClientID: r.ClientID, Scopes: r.granted(), AMR: r.AMR, AuthTime: r.AuthTime}, r, nil
	case *refreshToken:
		return *r, nil, nil
	}
	return refreshToken{}, nil, fmt.Errorf("unsupported token request %T", req)
}

// grantHolds checks again, in the transaction that writes the tokens,
// what was checked when the code or the refresh token was looked up: the
// family may have been revoked since (a replayed code, which leaves a
// record even before the family exists; a reuse, a revocation, a
// deactivation), and a code's sign-in may have ended (signInHolds).
func grantHolds(tx tenant.Tx, slug, familyID string, code *authRequest) error {
	revoked, err := familyRevoked(tx, slug, familyID)
	if err != nil {
		return err
	}
	if revoked {
		return errFamilyRevoked
	}
	if code != nil {
		return signInHolds(tx, slug, code)
	}
	return nil
}

// startFamily writes the record of the token family a code exchange
// starts, and the user's index entry that RevokeUser finds it by, and
// returns when the family ends. Its lifetime is the client's refresh
// lifetime from this sign-in, and rotation never extends it.
func startFamily(tx tenant.Tx, slug string, base refreshToken, cl *client, now time.Time) (time.Time, error) {
	fam := family{Sub: base.Sub, ClientID: base.ClientID, ExpiresAt: now.Add(cl.RefreshTokenTTL)}
	if err := tenant.PutExpiring(tx, tenant.CollRefreshTokens, slug, prefixFamily+base.FamilyID, fam, fam.ExpiresAt); err != nil {
		return time.Time{}, err
	}
	if err := tx.Put(tenant.CollRefreshTokens, slug, prefixUserFamily+base.Sub+":"+base.FamilyID, []byte{}); err != nil {
		return time.Time{}, err
	}
	return fam.ExpiresAt, nil
}

// rotateRefreshToken uses up the presented refresh token currentRT and
// returns when its successor expires: when it does, at the family's end,
// which rotation never extends. A token used before is errRefreshReused,
// unless the client's retry grace since its first use still runs: then
// retried is true and the token stays as it is. It reads the token again,
// looked up already (refreshLookup): in this transaction, so that of two
// uses at once only the first finds it unused.
func rotateRefreshToken(tx tenant.Tx, slug, currentRT string, cl *client, now time.Time) (expiresAt time.Time, retried bool, err error) {
	key := prefixRefresh + tenant.HashSecret(currentRT)
	old, err := tenant.GetJSON[refreshToken](tx, tenant.CollRefreshTokens, slug, key)
	if errors.Is(err, tenant.ErrNotFound) {
		return time.Time{}, false, oidc.ErrInvalidGrant().WithDescription("refresh token is invalid")
	} else if err != nil {
		return time.Time{}, false, err
	}
	switch {
	case !old.Used:
		old.Used, old.UsedAt = true, now
		if err := tenant.PutExpiring(tx, tenant.CollRefreshTokens, slug, key, old, old.ExpiresAt); err != nil {
			return time.Time{}, false, err
		}
	case cl.mayRetry(old, now):
		// A retry: the successor of the first use stays valid,
		// since the client may or may not have received it.
		retried = true
	default:
		return time.Time{}, false, errRefreshReused
	}
	return old.ExpiresAt, retried, nil
}

// issueRefused is the answer to a token request whose transaction failed
// with err. A revoked family, an ended sign-in and a reused refresh token
// are the client's to hear as invalid_grant, code (nil on a refresh, as
// refreshBase gives it) saying which grant it was; a reuse revokes the
// family first, as a stolen copy or a replay may be in other hands.
// Anything else is the server's (oauthError).
func (s *storage) issueRefused(ctx context.Context, slug, familyID string, code *authRequest, err error) error {
	switch {
	case errors.Is(err, errFamilyRevoked) && code == nil:
		return oidc.ErrInvalidGrant().WithDescription("refresh token is revoked or expired")
	case errors.Is(err, errFamilyRevoked):
		return oidc.ErrInvalidGrant().WithDescription("authorization code already used")
	case errors.Is(err, errSignInEnded):
		return s.signInEnded(ctx, slug, code, err)
	case errors.Is(err, errRefreshReused):
		s.revokeFamilyAfterReuse(ctx, slug, familyID)
		return oidc.ErrInvalidGrant().WithDescription("refresh token already used; the session is revoked")
	}
	return s.oauthError(ctx, "issue tokens", err)
}

var (
	errRefreshReused = errors.New("refresh token reused")
	errFamilyRevoked = errors.New("token family revoked")
	errSignInEnded   = errors.New("the sign-in's session has ended")
	// errSignInSwitched is a sign-in whose session another account's
	// sign-in in the same browser replaced.
	errSignInSwitched = fmt.Errorf("%w: another account signed in in the same browser", errSignInEnded)
)

// maxReplacements bounds the chain of sessions signInHolds follows: more
// sign-ins in one browser than a code's lifetime can hold is no person's.
const maxReplacements = 32

// signInHolds checks, inside the transaction that issues a code's tokens,
// that the SSO session of the sign-in the code came from still exists, or
// was replaced by a newer sign-in of the same user in the same browser
// (replacedSession) whose session does, following such replacements. A
// sign-in that no longer held when its records committed started none
// (tenant/auth: the account changed while the password was checked); a
// logout, a deactivation, a reset or a password set since the sign-in
// ended the browser's session (RevokeUser ends all the user's) before this
// token family existed for it to revoke. A replacement by another
// account's sign-in ends it too: the user's own revocation could no longer
// be seen. Whether the session has expired does not matter here: it
// answered the sign-in while it was live.
func signInHolds(tx tenant.Tx, slug string, ar *authRequest) error {
	if ar.SessionID == "" {
		return nil // a sign-in that started no session
	}
	id := ar.SessionID
	for range maxReplacements {
		sess, err := tenant.SessionByID(tx, slug, id)
		switch {
		case err == nil && sess.Sub == ar.Subject:
			return nil
		case err == nil && id == ar.SessionID:
			return errSignInEnded
		case err == nil:
			return errSignInSwitched
		case !errors.Is(err, tenant.ErrNotFound):
			return err
		}
		note, err := tenant.GetJSON[replacedSession](tx, tenant.CollSessions, slug, prefixReplacedSession+id)
		switch {
		case errors.Is(err, tenant.ErrNotFound):
			return errSignInEnded
		case err != nil:
			return err
		case note.Sub != ar.Subject:
			return errSignInSwitched
		}
		id = note.ReplacedBy
	}
	return errSignInEnded
}

// signInEnded is the refusal of a code whose sign-in has ended
// (signInHolds, whose error is why): nothing was written, and the person
// signs in again. The line says why, as far as the code's user tells:
// deleted, disabled, another account signed in in the browser, or else
// its account changed or it signed out.
func (s *storage) signInEnded(ctx context.Context, slug string, code *authRequest, why error) *oidc.Error {
	reason := "its sign-in has ended (account changed, or signed out)"
	switch user, err := s.user(ctx, code.Subject); {
	case errors.Is(err, tenant.ErrNotFound):
		reason = "the user no longer exists"
	case err == nil && !user.Enabled:
		reason = "the user is disabled"
	case errors.Is(why, errSignInSwitched):
		reason = "its sign-in has ended: another account signed in in the same browser"
	}
	s.logger.WarnContext(ctx, "code refused", "tenant", slug, "reason", reason,
		"client_id", code.ClientID, "grant_type", string(oidc.GrantTypeCode))
	return oidc.ErrInvalidGrant().WithDescription("the sign-in this code came from has ended; sign in again")
}

func (s *storage) revokeFamilyAfterReuse(ctx context.Context, slug, familyID string) {
	s.logger.WarnContext(ctx, "refresh token reused; revoking its family", "tenant", slug)
	err := s.store.Update(ctx, func(tx tenant.Tx) error { return revokeFamily(tx, slug, familyID, s.now()) })
	if err != nil {
		s.logger.ErrorContext(ctx, "revoke token family", "tenant", slug, "err", err)
	}
}

// revokeFamily marks a token family revoked: its refresh tokens stop
// working and its access tokens stop passing userinfo and introspection.
func revokeFamily(tx tenant.Tx, slug, familyID string, now time.Time) error {
	fam, err := tenant.GetJSON[family](tx, tenant.CollRefreshTokens, slug, prefixFamily+familyID)
	if errors.Is(err, tenant.ErrNotFound) {
		// No tokens were issued yet (a code replayed before its exchange
		// finished); record the revocation so nothing is issued later.
		fam = family{ExpiresAt: now.Add(revokedFamilyTTL)}
	} else if err != nil {
		return err
	}
	fam.Revoked = true
	return tenant.PutExpiring(tx, tenant.CollRefreshTokens, slug, prefixFamily+familyID, fam, fam.ExpiresAt)
}

// revokedFamilyTTL is how long the revocation of a family that has no
// record yet is kept: longer than any exchange of its code can take.
const revokedFamilyTTL = 24 * time.Hour

func familyRevoked(tx tenant.Tx, slug, familyID string) (bool, error) {
	if familyID == "" {
		return false, nil
	}
	fam, err := tenant.GetJSON[family](tx, tenant.CollRefreshTokens, slug, prefixFamily+familyID)
	if errors.Is(err, tenant.ErrNotFound) {
		return false, nil
	}
	return fam.Revoked, err
}

// TokenRequestByRefreshToken looks a refresh token up, or takes the
// lookup the refresh grant made of it (exchangeRefreshToken). A token that
// was already used is a stolen copy or a replay, and the whole family is
// revoked, unless the client's retry grace period since its first use
// still runs (a client retrying after a lost answer).
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	slug := st.tenant.Slug
	l, ok := ctx.Value(refreshLookupKey{}).(*refreshLookup)
	if !ok || l.token != token {
		if l, err = s.lookUpRefreshToken(ctx, st, token); err != nil {
			// Not invalid_grant: a client told so drops the token, and
			// its user must sign in again, for what may pass in a
			// moment.
			return nil, s.oauthError(ctx, "refresh token grant", err)
		}
	}
	rt := l.rt
	switch l.standing {
	case refreshUsable:
	case refreshUnknown:
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token is invalid")
	case refreshReused:
		s.revokeFamilyAfterReuse(ctx, slug, rt.FamilyID)
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token already used; the session is revoked")
	default:
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token is revoked or expired")
	}
	// A scope the operator has taken from the client since, a standard
	// one too, is not carried into the new tokens, nor into the rotated
	// refresh token; and the library refuses a refresh asking for more
	// than what is left (op.ValidateRefreshTokenScopes, RFC 6749 §6).
	rt.Scopes = st.clients[rt.ClientID].stillAllowed(rt.Scopes)
	return &rt, nil
}

// refreshStanding is whether a refresh token can be used now, and if not,
// why not: the one rule the refresh grant (TokenRequestByRefreshToken)
// and introspection (introspectRefreshToken) both answer by, each in its
// own words.
type refreshStanding int

const (
	refreshUsable           refreshStanding = iota
	refreshUnknown                          // no such refresh token at the tenant
	refreshReused                           // used before, and the client's retry grace period is over (or it has none)
	refreshRevokedOrExpired                 // its family is revoked, or its lifetime is over
	refreshUserDisabled                     // its user is disabled or deleted
	refreshNoClient                         // its client was deleted
)

var refreshStandingNames = [...]string{"usable", "unknown", "reused", "revoked or expired", "user disabled", "no client"}

func (r refreshStanding) String() string { return refreshStandingNames[r] }

// refreshStandingOf reads refresh token token of tenant st, with its user,
// in tx, and says whether it can be used at now: it must exist, be unused
// (or used within its client's retry grace period), its family not
// revoked, unexpired, its user enabled and its client still there. The
// conditions are checked in that order, so a reused token is refreshReused
// whatever else holds of it (the grant revokes its family for that); the
// user is read only for a token that passes the checks before. An error is
// a read of the store that failed, never a refusal.
func refreshStandingOf(tx tenant.Tx, st *tenantState, token string, now time.Time) (refreshToken, tenant.User, refreshStanding, error) {
	slug := st.tenant.Slug
	rt, err := getRefreshToken(tx, slug, token)
	if errors.Is(err, tenant.ErrNotFound) {
		return refreshToken{}, tenant.User{}, refreshUnknown, nil
	}
	if err != nil {
		return refreshToken{}, tenant.User{}, 0, fmt.Errorf("read the refresh token: %w", err)
	}
	revoked, err := familyRevoked(tx, slug, rt.FamilyID)
	if err != nil {
		return refreshToken{}, tenant.User{}, 0, fmt.Errorf("read the refresh token's family: %w", err)
	}
	cl := st.clients[rt.ClientID]
	if rt.Used && (cl == nil || !cl.mayRetry(rt, now)) {
		return rt, tenant.User{}, refreshReused, nil
	}
	if revoked || !now.Before(rt.ExpiresAt) {
		return rt, tenant.User{}, refreshRevokedOrExpired, nil
	}
	user, err := tenant.GetUser(tx, slug, rt.Sub)
	if errors.Is(err, tenant.ErrNotFound) {
		return rt, tenant.User{}, refreshUserDisabled, nil
	}
	if err != nil {
		return refreshToken{}, tenant.User{}, 0, fmt.Errorf("read the refresh token's user: %w", err)
	}
	if !user.Enabled {
		return rt, user, refreshUserDisabled, nil
	}
	if cl == nil {
		return rt, user, refreshNoClient, nil
	}
	return rt, user, refreshUsable, nil
}

// refreshLookup is a refresh token read with its standing
// (refreshStandingOf) for the request that presents it: by the refresh
// grant where it checks the token (exchangeRefreshToken), which hands it
// to the library's lookup of the same token (TokenRequestByRefreshToken)
// in the request's context, so that the lookup reads and hashes it once
// (the use-up reads it again, in its own transaction: rotateRefreshToken).
type refreshLookup struct {
	token    string
	rt       refreshToken
	user     tenant.User
	standing refreshStanding
}

type refreshLookupKey struct{}

// LogValue leaves the token, and the user's secrets, out of any log line.
func (l *refreshLookup) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client_id", l.rt.ClientID), slog.String("standing", l.standing.String()))
}

// lookUpRefreshToken reads refresh token token of tenant st, with its
// standing now. An error is a store that could not be read.
func (s *storage) lookUpRefreshToken(ctx context.Context, st *tenantState, token string) (*refreshLookup, error) {
	l := &refreshLookup{token: token}
	err := s.store.View(ctx, func(tx tenant.Tx) (err error) {
		l.rt, l.user, l.standing, err = refreshStandingOf(tx, st, token, s.now())
		return err
	})
	return l, err
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	slug, err := s.slug(ctx)
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	var rt refreshToken
	err = s.store.View(ctx, func(tx tenant.Tx) (err error) {
		rt, err = getRefreshToken(tx, slug, token)
		return err
	})
	if err != nil || rt.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.Sub, rt.Hash, nil
}

// RevokeToken revokes a refresh token (and its family) or an access token,
// for the library. Cognate serves /oauth2/revoke itself (serveRevoke), so
// the library calls it nowhere now; it is here for op.Storage. Unknown
// tokens are not an error (RFC 7009).
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	slug, err := s.slug(ctx)
	if err != nil {
		return s.oauthError(ctx, "revoke token", err)
	}
	// GetRefreshTokenInfo hands the library the hash as the token ID.
	for _, key := range []string{prefixRefresh + tokenOrID, prefixRefresh + tenant.HashSecret(tokenOrID), prefixAccess + tokenOrID} {
		found, err := s.revokeToken(ctx, slug, key, clientID)
		switch {
		case errors.Is(err, errTokenOfAnotherClient):
			return oidc.ErrInvalidGrant().WithDescription("the token was not issued to this client")
		case err != nil:
			return s.oauthError(ctx, "revoke token", err)
		case found:
			return nil
		}
	}
	return nil
}

// RevokeUser ends everything a user holds at a tenant: token families and
// SSO sessions, inside tx. Wire it to tenant.Service.RevokeUser, which
// calls it when an account is deactivated.
func (p *Provider) RevokeUser(tx tenant.Tx, slug, sub string) error {
	now := p.now()
	var famIDs []string
	prefix := prefixUserFamily + sub + ":"
	err := tx.Scan(tenant.CollRefreshTokens, slug, prefix, "", func(key string, _ []byte) bool {
		famIDs = append(famIDs, strings.TrimPrefix(key, prefix))
		return true
	})
	if err != nil {
		return err
	}
	for _, id := range famIDs {
		if err := revokeFamily(tx, slug, id, now); err != nil {
			return err
		}
	}
	return tenant.EndUserSessions(tx, slug, sub)
}

// --- clients and keys ---

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	cl, ok := st.clients[clientID]
	if !ok {
		// invalid_client, not a plain error: the token endpoint would turn
		// that into a 500.
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	return cl, nil
}

// AuthorizeClientIDSecret is the library's check of a client's secret
// (introspection): secretMatches, as Cognate's own authenticateRequest
// checks it, and an unknown client, a public one and a wrong secret are
// answered the same, so that neither the answer nor its time tells them
// apart.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	st, err := s.state(ctx)
	if err != nil {
		return err
	}
	if !secretMatches(st.clients[clientID], secret) {
		return oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	return nil
}

// secretMatches reports whether secret is the confidential client cl's
// (nil: a client the tenant does not have). The secret is hashed whatever
// the client, and compared in constant time.
func secretMatches(cl *client, secret string) bool {
	got := tenant.HashSecret(secret)
	return cl != nil && !cl.Public() && subtle.ConstantTimeCompare([]byte(got), []byte(cl.SecretHash)) == 1
}

// SigningKey is the tenant's active key; while the library answers a code
// or refresh request, one that leaves its tokens for Cognate to shape and
// sign (tokenshape.go).
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	return signingKeyFor(ctx, st.signing), nil
}

func (s *storage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	return st.algs, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	return st.public, nil
}

// GetKeyByIDAndClientID refuses: Cognate supports neither private_key_jwt
// nor the JWT-bearer grant.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("private_key_jwt and JWT profile grants are not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grant is not supported")
}

func (s *storage) Health(ctx context.Context) error {
	return s.store.View(ctx, func(tenant.Tx) error { return nil })
}

// --- sessions ---

func (s *storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	return nil // the SSO cookie is ended by the logout middleware
}

// TerminateSessionFromRequest picks where the browser goes after logout:
// the validated post_logout_redirect_uri, or the tenant's signed-out page.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if req.RedirectURI != "" {
		return req.RedirectURI, nil
	}
	return PathLoggedOut, nil
}
