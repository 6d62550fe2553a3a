package adminapi

import (
	"net/http"
	"net/url"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

func (a *API) createTenant(w http.ResponseWriter, r *http.Request) error {
	var req CreateTenantRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	t, err := a.Service.CreateTenant(r.Context(), tenant.NewTenant{
		Slug:     req.Slug,
		Name:     req.Name,
		Settings: req.Settings.domain().Apply(tenant.Settings{}),
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", tenantPath(t.Slug))
	return writeJSON(w, http.StatusCreated, tenantOut(t))
}

func (a *API) listTenants(w http.ResponseWriter, r *http.Request) error {
	tenants, err := a.Service.Tenants(r.Context())
	if err != nil {
		return err
	}
	out := TenantList{Tenants: make([]Tenant, 0, len(tenants))}
	for _, t := range tenants {
		out.Tenants = append(out.Tenants, tenantOut(t))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getTenant(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Service.Tenant(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tenantOut(t))
}

func (a *API) updateTenant(w http.ResponseWriter, r *http.Request) error {
	var req UpdateTenantRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	t, err := a.Service.UpdateTenant(r.Context(), r.PathValue("slug"), tenant.TenantChange{
		Name:     req.Name,
		Settings: req.Settings.domain(),
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tenantOut(t))
}

func (a *API) deleteTenant(w http.ResponseWriter, r *http.Request) error {
	if err := a.Service.DeleteTenant(r.Context(), r.PathValue("slug")); err != nil {
		return err
	}
	return noContent(w)
}

// Key rotation overlap: the default gives relying parties that cache the
// JWKS for an hour (a common max-age) time to see the new key before it
// signs; the limit keeps a typo from parking a key for years. Exported for
// the CLI, which checks its --overlap against it.
const (
	defaultKeyOverlap = time.Hour
	MaxKeyOverlap     = 7 * 24 * time.Hour
)

func (a *API) rotateKey(w http.ResponseWriter, r *http.Request) error {
	var req RotateKeyRequest
	if err := decodeOptionalJSON(w, r, &req); err != nil {
		return err
	}
	rotation := tenant.KeyRotation{Overlap: defaultKeyOverlap, RetirePrevious: req.RetirePrevious}
	if req.RetirePrevious {
		rotation.Overlap = 0
	}
	if req.OverlapSeconds != nil {
		overlap := seconds(*req.OverlapSeconds)
		switch {
		case overlap < 0 || overlap > MaxKeyOverlap:
			return badRequest("overlap_seconds must be from 0 to %d", int64(MaxKeyOverlap/time.Second))
		case req.RetirePrevious && overlap != 0:
			// The keys it retires would leave nothing to sign with until
			// the new key takes over.
			return badRequest("retire_previous makes a key that signs at once: leave out overlap_seconds or give 0")
		}
		rotation.Overlap = overlap
	}
	key, err := a.Service.RotateSigningKey(r.Context(), r.PathValue("slug"), rotation)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, keyOut(key))
}

func tenantPath(slug string) string { return Prefix + "tenants/" + url.PathEscape(slug) }
