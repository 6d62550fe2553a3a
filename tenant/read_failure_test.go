package tenant_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/tenant"
)

// errRead is a read that failed for a reason other than the record not
// being there: a disk error, a record the backend cannot decode.
var errRead = errors.New("the disk said no")

// readFailStore is a store whose reads of the collection failing fail
// with errRead: what a caller does with a read it cannot make. With once
// set only the first read fails, as one that a moment's trouble broke.
type readFailStore struct {
	tenant.Store
	failing tenant.Collection
	once    bool
	failed  bool
}

func (s *readFailStore) wrap(fn func(tenant.Tx) error) func(tenant.Tx) error {
	return func(tx tenant.Tx) error { return fn(readFailTx{Tx: tx, s: s}) }
}

func (s *readFailStore) View(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.View(ctx, s.wrap(fn))
}

func (s *readFailStore) Update(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.Update(ctx, s.wrap(fn))
}

func (s *readFailStore) Batch(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.Batch(ctx, s.wrap(fn))
}

type readFailTx struct {
	tenant.Tx
	s *readFailStore
}

func (tx readFailTx) Get(c tenant.Collection, tenantID, key string) ([]byte, error) {
	if c == tx.s.failing && !(tx.s.once && tx.s.failed) {
		tx.s.failed = true
		return nil, errRead
	}
	return tx.Tx.Get(c, tenantID, key)
}

// A read that fails is not a record that is not there: a writer that took
// it for one would create over an existing record (wiping a tenant), or
// report as done a change it never made (a mail delivered stays queued,
// to be sent again; a logout leaves the session alive). Each passes the
// error on and leaves the records as they were.
func TestReadFailureIsNotAbsence(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const token = "session-token"
	for _, tc := range []struct {
		name    string
		failing tenant.Collection
		once    bool
		change  func(svc *tenant.Service, ann tenant.User) error
		kept    func(svc *tenant.Service, ann tenant.User) error
	}{
		{"creating a tenant over one that is there", tenant.CollTenants, true,
			func(svc *tenant.Service, _ tenant.User) error {
				_, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: "Another organization"})
				return err
			},
			func(svc *tenant.Service, ann tenant.User) error {
				_, err := svc.User(ctx, "acme", ann.Sub)
				return err
			}},
		{"creating a user with the sub of one that is there", tenant.CollUsers, false,
			func(svc *tenant.Service, ann tenant.User) error {
				_, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "mallory", Sub: ann.Sub})
				return err
			},
			func(svc *tenant.Service, ann tenant.User) error {
				u, err := svc.User(ctx, "acme", ann.Sub)
				if err == nil && u.Username != "ann" {
					err = errors.New("ann's record is " + u.Username + "'s now")
				}
				return err
			}},
		{"creating a user with the name of one that is there", tenant.CollUsersByName, false,
			func(svc *tenant.Service, _ tenant.User) error {
				_, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann"})
				return err
			},
			func(svc *tenant.Service, _ tenant.User) error {
				page, err := svc.ListUsers(ctx, "acme", "", 0)
				if err == nil && len(page.Users) != 1 {
					err = errors.New("a second ann was created")
				}
				return err
			}},
		{"a mail delivered", tenant.CollOutbox, false,
			func(svc *tenant.Service, _ tenant.User) error {
				return tenant.MailQueue{Store: svc.Store}.Delivered(ctx, "m1")
			},
			func(svc *tenant.Service, _ tenant.User) error {
				due, err := tenant.MailQueue{Store: svc.Store}.Due(ctx, now, 10)
				if err == nil && len(due) != 1 {
					err = errors.New("the mail is gone")
				}
				return err
			}},
		{"a mail's failure", tenant.CollOutbox, false,
			func(svc *tenant.Service, _ tenant.User) error {
				return tenant.MailQueue{Store: svc.Store}.Failed(ctx, "m1", 1, now.Add(time.Hour), "refused", false)
			},
			nil},
		{"a logout", tenant.CollSessions, false,
			func(svc *tenant.Service, _ tenant.User) error {
				return svc.Store.Update(ctx, func(tx tenant.Tx) error { return tenant.EndSession(tx, "acme", token) })
			},
			func(svc *tenant.Service, _ tenant.User) error {
				return svc.Store.View(ctx, func(tx tenant.Tx) error {
					_, err := tenant.SessionByToken(tx, "acme", token)
					return err
				})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, _ := newService(t)
			if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
				t.Fatal(err)
			}
			ann, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Password: "Correct-Horse-9!"})
			if err != nil {
				t.Fatal(err)
			}
			err = svc.Store.Update(ctx, func(tx tenant.Tx) error {
				if err := tenant.EnqueueMail(tx, tenant.MailOwner{}, mail.Message{ID: "m1", To: []string{"ann@example.com"}, Subject: "s", Text: "t"}, now); err != nil {
					return err
				}
				return tenant.StartSession(tx, "acme", token, ann.Sub, []string{"pwd"}, now, now, time.Hour)
			})
			if err != nil {
				t.Fatal(err)
			}

			failing := *svc
			failing.Store = &readFailStore{Store: svc.Store, failing: tc.failing, once: tc.once}
			if err := tc.change(&failing, ann); !errors.Is(err, errRead) {
				t.Errorf("with reads of %s failing: %v, want the read's error", tc.failing, err)
			}
			if tc.kept != nil {
				if err := tc.kept(svc, ann); err != nil {
					t.Errorf("afterwards: %v", err)
				}
			}
		})
	}
}
