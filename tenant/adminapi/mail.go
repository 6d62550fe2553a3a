package adminapi

import (
	"net/http"
	"time"
)

// The mail outbox, for the operator: how many mails wait for the relay,
// and which were given up on and why. A mail's body may hold a temporary
// password or a code, so no response carries one.

// MailStatus is the outbox: the number of mails waiting for delivery
// (retries included) and the mails given up on, newest first.
type MailStatus struct {
	Pending int          `json:"pending"`
	Failed  []FailedMail `json:"failed"`
}

// FailedMail is a mail given up on after a permanent refusal or its last
// attempt: its recipients, subject and the relay's last answer, never its
// body. Tenant and sub are absent for the apex's mail, which belongs to no
// user, and for mail queued by older versions.
type FailedMail struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant,omitempty"`
	Sub       string    `json:"sub,omitempty"`
	To        []string  `json:"to"`
	Subject   string    `json:"subject"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
	FailedAt  time.Time `json:"failed_at"`
}

func (a *API) mailStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := a.Service.MailStatus(r.Context())
	if err != nil {
		return err
	}
	out := MailStatus{Pending: st.Pending, Failed: make([]FailedMail, 0, len(st.Failed))}
	for _, f := range st.Failed {
		out.Failed = append(out.Failed, FailedMail{ID: f.ID, Tenant: f.TenantID, Sub: f.Sub, To: f.To, Subject: f.Subject,
			Attempts: f.Attempts, LastError: f.LastError, CreatedAt: f.CreatedAt, FailedAt: f.FailedAt})
	}
	return writeJSON(w, http.StatusOK, out)
}
