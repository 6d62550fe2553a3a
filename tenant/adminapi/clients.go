package adminapi

import (
	"net/http"
	"net/url"

	"github.com/cognate-idp/cognate/tenant"
)

func (a *API) createClient(w http.ResponseWriter, r *http.Request) error {
	var req CreateClientRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	slug := r.PathValue("slug")
	c, secret, err := a.Service.CreateClient(r.Context(), slug, tenant.NewClient{
		Name:                   req.Name,
		Public:                 req.Public,
		RedirectURIs:           req.RedirectURIs,
		PostLogoutRedirectURIs: req.PostLogoutRedirectURIs,
		GrantTypes:             req.GrantTypes,
		Scopes:                 req.Scopes,
		AccessTokenTTL:         seconds(req.AccessTokenTTLSeconds),
		IDTokenTTL:             seconds(req.IDTokenTTLSeconds),
		RefreshTokenTTL:        seconds(req.RefreshTokenTTLSeconds),
		RefreshRetryGrace:      seconds(req.RefreshTokenRetryGraceSeconds),
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", tenantPath(slug)+"/clients/"+url.PathEscape(c.ID))
	return writeJSON(w, http.StatusCreated, ClientWithSecret{Client: clientOut(c), ClientSecret: secret})
}

func (a *API) listClients(w http.ResponseWriter, r *http.Request) error {
	clients, err := a.Service.Clients(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	out := ClientList{Clients: make([]Client, 0, len(clients))}
	for _, c := range clients {
		out.Clients = append(out.Clients, clientOut(c))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getClient(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Service.Client(r.Context(), r.PathValue("slug"), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, clientOut(c))
}

// updateClient changes what UpdateClientRequest names. Cognate's own
// clients are refused (tenant.ErrBuiltinClient, a 400), as on delete.
func (a *API) updateClient(w http.ResponseWriter, r *http.Request) error {
	var req UpdateClientRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := a.Service.UpdateClient(r.Context(), r.PathValue("slug"), r.PathValue("id"), req.domain())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, clientOut(c))
}

func (a *API) deleteClient(w http.ResponseWriter, r *http.Request) error {
	if err := a.Service.DeleteClient(r.Context(), r.PathValue("slug"), r.PathValue("id")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) rotateClientSecret(w http.ResponseWriter, r *http.Request) error {
	c, secret, err := a.Service.RotateClientSecret(r.Context(), r.PathValue("slug"), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ClientWithSecret{Client: clientOut(c), ClientSecret: secret})
}
