package ui

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/cognate-idp/cognate/mail"
)

// The apex site sends a person to their organization's own host, where its
// sign-in pages and issuer live.

type findOrgPage struct {
	frame
	Query string
	Error string
	// DevMailURL links to the development mailbox; empty outside dev mode.
	DevMailURL string
}

func (findOrgPage) template() string { return tmplFindOrg }

// orgLookupRefused is the event of the apex form's refusal lines
// (logRefusal).
const orgLookupRefused = "organization lookup refused"

// errNoSuchOrganization: no organization has the name or slug typed (which
// is not logged: it may be anything).
var errNoSuchOrganization = errors.New("no organization has that name")

// errSeveralOrganizations: more than one organization has the name typed,
// which tenants named before names were kept apart (tenant.NameKey) may
// share. Picking one would send the others' people to it.
var errSeveralOrganizations = errors.New("several organizations have that name")

// maxOrgQuery bounds the organization field: a name is at most 128
// characters, and the answer echoes what was typed.
const maxOrgQuery = 256

func (p *Pages) findOrgPage(w http.ResponseWriter, r *http.Request, e env) *findOrgPage {
	page := &findOrgPage{frame: p.frame(e, p.csrfToken(w, r))}
	// The answer is a redirect to a tenant's host: allow any of them.
	page.formAction = []string{p.Provider.Hosts().TenantURL("*")}
	if p.Dev && devMailClient(r) {
		page.DevMailURL = "/dev/mail"
	}
	return page
}

func (p *Pages) getFindOrg(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	return p.render(w, http.StatusOK, p.findOrgPage(w, r, e))
}

// postFindOrg looks an organization up by its slug or its display name,
// both without regard to case, and sends the browser to its host.
func (p *Pages) postFindOrg(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	if err := p.parseForm(w, r, p.origin(e)); err != nil {
		return err
	}
	query := formText(r.PostForm.Get("organization"), maxOrgQuery)
	page := p.findOrgPage(w, r, e)
	page.Query = query
	switch {
	case query == "":
		p.logRefusal(r, e, orgLookupRefused, errFieldEmpty)
		page.Error = e.lang.text(msgFindEmpty)
		return p.render(w, http.StatusUnprocessableEntity, page)
	case strings.Contains(query, "@"):
		return p.findOrgByEmail(w, r, e, page, query)
	}

	found, err := p.Service.FindTenants(r.Context(), query)
	if err != nil {
		return fmt.Errorf("find the organization: %w", err)
	}
	switch len(found) {
	case 1:
		http.Redirect(w, r, p.Provider.Hosts().TenantURL(found[0].Slug)+"/", http.StatusSeeOther)
		return nil
	case 0:
		p.logRefusal(r, e, orgLookupRefused, errNoSuchOrganization)
		page.Error = e.lang.text(msgFindNotFound, query)
	default:
		// Which organizations they are is not said: the page is public.
		p.logRefusal(r, e, orgLookupRefused, errSeveralOrganizations, "organizations", len(found))
		page.Error = e.lang.text(msgFindAmbiguous, query)
	}
	return p.render(w, http.StatusUnprocessableEntity, page)
}

// --- development mailbox ---

type devMailListPage struct {
	frame
	Available bool
	Mails     []devMailItem
}

func (devMailListPage) template() string { return tmplDevMailList }

type devMailItem struct {
	Href    string
	To      string
	Subject string
}

type devMailPage struct {
	frame
	Mail    mail.Message
	To      string
	HTMLURL string
}

func (devMailPage) template() string { return tmplDevMail }

// devMailKey names a kept mail in URLs: its outbox ID, or else its place
// counted from the oldest, which stays put until the sink drops old mail.
func devMailKey(m mail.Message, fromOldest int) string {
	if m.ID != "" && !strings.HasPrefix(m.ID, "pos-") {
		return m.ID
	}
	return "pos-" + strconv.Itoa(fromOldest)
}

// devMails returns the kept mails, newest first, with their keys.
func (p *Pages) devMails() ([]mail.Message, []string) {
	if p.DevMail == nil {
		return nil, nil
	}
	msgs := p.DevMail.Messages()
	keys := make([]string, len(msgs))
	for i, m := range msgs {
		keys[i] = devMailKey(m, len(msgs)-1-i)
	}
	return msgs, keys
}

func (p *Pages) findDevMail(key string) (mail.Message, bool) {
	msgs, keys := p.devMails()
	for i, k := range keys {
		if k == key {
			return msgs[i], true
		}
	}
	return mail.Message{}, false
}

// devMailClient reports whether r may read the development mailbox, whose
// mails hold temporary passwords: only a client on this machine may. That
// is judged by the connection's own peer address, never by X-Forwarded-For,
// which anyone can write; but a proxy on this machine that forwards a
// client from elsewhere says so in X-Forwarded-For, and then the request is
// refused too (the header can take access away, never give it).
func devMailClient(r *http.Request) bool {
	if !loopbackAddr(r.RemoteAddr) {
		return false
	}
	for _, list := range r.Header.Values("X-Forwarded-For") {
		for hop := range strings.SplitSeq(list, ",") {
			if !loopbackAddr(strings.TrimSpace(hop)) {
				return false
			}
		}
	}
	return true
}

// loopbackAddr reports whether addr, an IP address with or without a port,
// is a loopback address.
func loopbackAddr(addr string) bool {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ip, err := netip.ParseAddr(addr)
	return err == nil && ip.Unmap().IsLoopback()
}

// devMailAllowed is devMailClient with the one log line of a refusal. The
// client gets the page of any unknown address, which does not say that a
// mailbox is here.
func (p *Pages) devMailAllowed(r *http.Request) bool {
	if devMailClient(r) {
		return true
	}
	p.Logger.WarnContext(r.Context(), "development mailbox refused to a client not on this machine",
		"peer", r.RemoteAddr, "path", r.URL.Path)
	return false
}

func (p *Pages) devMailList(w http.ResponseWriter, r *http.Request) error {
	if !p.devMailAllowed(r) {
		return errNotFound(w, r)
	}
	e, err := p.env(r)
	if err != nil {
		return err
	}
	page := &devMailListPage{frame: p.frame(e, ""), Available: p.DevMail != nil}
	msgs, keys := p.devMails()
	for i, m := range msgs {
		page.Mails = append(page.Mails, devMailItem{Href: "/dev/mail/" + url.PathEscape(keys[i]), To: strings.Join(m.To, ", "), Subject: m.Subject})
	}
	return p.render(w, http.StatusOK, page)
}

func (p *Pages) devMail(w http.ResponseWriter, r *http.Request) error {
	if !p.devMailAllowed(r) {
		return errNotFound(w, r)
	}
	e, err := p.env(r)
	if err != nil {
		return err
	}
	key := r.PathValue("id")
	m, ok := p.findDevMail(key)
	if !ok {
		msg := msgDevMailGone
		if p.DevMail == nil {
			msg = msgDevMailUnavailable
		}
		return &pageError{status: http.StatusNotFound, msg: msg, next: &next{"/dev/mail", msgDevMailBack}}
	}
	page := &devMailPage{frame: p.frame(e, ""), Mail: m, To: strings.Join(m.To, ", ")}
	if m.HTML != "" {
		page.HTMLURL = "/dev/mail/" + url.PathEscape(key) + "/html"
	}
	return p.render(w, http.StatusOK, page)
}

// devMailHTML serves a mail's HTML part for the sandboxed frame of the mail
// page, under a policy of its own: the mail's inline styles apply, and
// nothing in it runs or reaches out.
func (p *Pages) devMailHTML(w http.ResponseWriter, r *http.Request) {
	if !p.devMailAllowed(r) {
		p.fail(w, r, errNotFound(w, r))
		return
	}
	m, ok := p.findDevMail(r.PathValue("id"))
	if !ok || m.HTML == "" {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN") // the Router's DENY would hide it from its own page
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(m.HTML))
}
