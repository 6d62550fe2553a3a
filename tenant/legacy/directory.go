package legacy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// DefaultTimeout bounds one conversation with a legacy pool (a sign-in may
// take several calls: SRP, then the administrator's reads). Cognito gives
// its own migration Lambda five seconds; a person waiting at the sign-in
// page should not wait longer.
const DefaultTimeout = 5 * time.Second

// Directory is the tenant.LegacyDirectory of Cognate. The zero value works:
// a shared HTTP client, DefaultTimeout, the wall clock and crypto/rand.
type Directory struct {
	// HTTPClient sends every request; nil means http.DefaultTransport.
	// Its own Timeout, if any, applies besides Timeout.
	HTTPClient *http.Client
	// Timeout bounds one Authenticate or Lookup; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now stamps SRP proofs and webhook signatures; nil means time.Now.
	Now func() time.Time
	// Rand draws SRP secrets; nil means crypto/rand.
	Rand io.Reader
	// Sealer opens the pool secrets that tenant.Service stored sealed
	// (tenant.Service.LegacySealer). Secrets of older records, stored in
	// clear, need none; a sealed pool without it is unavailable.
	Sealer tenant.Sealer
}

var _ tenant.LegacyDirectory = (*Directory)(nil)

// Authenticate checks login and password at pool.
func (d *Directory) Authenticate(ctx context.Context, tenantID string, pool tenant.LegacyPool, login, password string) (tenant.LegacyAccount, error) {
	pool, err := d.open(tenantID, pool)
	if err != nil {
		return tenant.LegacyAccount{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	switch pool.Kind {
	case tenant.LegacyCognito:
		return d.cognitoAuthenticate(ctx, pool, login, password)
	case tenant.LegacyWebhook:
		return d.webhookCall(ctx, tenantID, pool, triggerAuthentication, login, password)
	}
	return tenant.LegacyAccount{}, fmt.Errorf("%w: no legacy pool of kind %q", tenant.ErrLegacyUnavailable, pool.Kind)
}

// Lookup finds the user login names at pool, for a forgotten password. A
// Cognito pool needs administrator keys for this; without them every name
// is refused.
func (d *Directory) Lookup(ctx context.Context, tenantID string, pool tenant.LegacyPool, login string) (tenant.LegacyAccount, error) {
	pool, err := d.open(tenantID, pool)
	if err != nil {
		return tenant.LegacyAccount{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	switch pool.Kind {
	case tenant.LegacyCognito:
		return d.cognitoLookup(ctx, pool, login)
	case tenant.LegacyWebhook:
		return d.webhookCall(ctx, tenantID, pool, triggerForgotPassword, login, "")
	}
	return tenant.LegacyAccount{}, fmt.Errorf("%w: no legacy pool of kind %q", tenant.ErrLegacyUnavailable, pool.Kind)
}

// open gives pool's secrets in clear, for this one conversation. A secret
// that does not open makes the pool unavailable, with the tenant named: the
// sign-in is refused as temporarily unavailable, and never tried without
// the secret.
func (d *Directory) open(tenantID string, pool tenant.LegacyPool) (tenant.LegacyPool, error) {
	opened, err := tenant.OpenLegacyPool(d.Sealer, tenantID, pool)
	if err != nil {
		return tenant.LegacyPool{}, fmt.Errorf("%w: %w", tenant.ErrLegacyUnavailable, err)
	}
	return opened, nil
}

func (d *Directory) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultTimeout
}

func (d *Directory) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Directory) httpClient() *http.Client {
	if d.HTTPClient != nil {
		return d.HTTPClient
	}
	return &http.Client{Transport: http.DefaultTransport}
}
