package tenant

import (
	"context"
	"fmt"
)

// Searching a tenant's users for the admin console. A tenant may hold
// hundreds of thousands of users, so no call reads them all: a search by
// prefix walks the username or email index from the prefix on, a listing
// walks the users in sub order, and a filter that matches few users stops
// after a bounded number of records and hands back a cursor, like a page
// that came back short. Every call costs at most Budget record reads,
// however large the tenant and however rare the match.

// SearchField is the attribute a prefix search looks at.
type SearchField string

const (
	SearchUsername SearchField = "username"
	SearchEmail    SearchField = "email"
)

// UserFilter selects users. Zero fields do not filter.
type UserFilter struct {
	// Prefix matches the start of the field By, case-insensitively.
	Prefix string
	By     SearchField // default SearchUsername
	// Status keeps users in this status.
	Status UserStatus
	// Enabled, when set, keeps enabled (true) or disabled (false) users.
	Enabled *bool
}

func (f UserFilter) matches(u User) bool {
	if f.Status != "" && u.Status != f.Status {
		return false
	}
	if f.Enabled != nil && u.Enabled != *f.Enabled {
		return false
	}
	return true
}

// UserSearch is the input of SearchUsers.
type UserSearch struct {
	Filter UserFilter
	// After is the cursor of the previous page (UserSearchPage.Next).
	After string
	// Limit is the page size, 1 to 100; default 25.
	Limit int
	// Budget bounds the records one call reads; default DefaultSearchBudget.
	Budget int
}

// DefaultSearchBudget is how many users one search call examines at most.
// At a few microseconds a record that is a few milliseconds a page.
const DefaultSearchBudget = 2000

// UserSearchPage is one page of a search.
type UserSearchPage struct {
	Users []User
	// Next is the cursor of the following page; empty at the end.
	Next string
	// Examined is how many users this call looked at.
	Examined int
	// BudgetSpent says the call stopped at its budget before the page was
	// full: more matches may follow Next.
	BudgetSpent bool
}

// SearchUsers returns a page of a tenant's users that match s.Filter: by
// username or email prefix in that order, otherwise in sub order.
func (s *Service) SearchUsers(ctx context.Context, tenantID string, in UserSearch) (UserSearchPage, error) {
	in.Limit = pageLimit(in.Limit, MaxPageSize, defaultSearchPageSize)
	if in.Budget <= 0 {
		in.Budget = DefaultSearchBudget
	}
	f := in.Filter
	var page UserSearchPage
	err := s.Store.View(ctx, func(tx Tx) error {
		page = UserSearchPage{}
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		moves, err := groupMoves(tx, tenantID)
		if err != nil {
			return err
		}
		// visit examines one user under the cursor key; false stops.
		more := false
		visit := func(key string, u User) bool {
			u.Groups = movedGroups(u.Groups, moves) // as GetUser reads them
			switch {
			case len(page.Users) == in.Limit:
				more = true
				return false
			case page.Examined == in.Budget:
				more, page.BudgetSpent = true, true
				return false
			}
			page.Examined++
			page.Next = key
			if f.matches(u) {
				page.Users = append(page.Users, u)
			}
			return true
		}
		if f.Prefix == "" {
			err = ScanJSON(tx, CollUsers, tenantID, "", in.After, visit)
		} else {
			err = scanIndex(tx, tenantID, f, in.After, visit)
		}
		if !more {
			page.Next = ""
		}
		return err
	})
	return page, err
}

// scanIndex walks the username or email index from the prefix on, reading
// each user it names as stored: visit reads their groups as moved, with
// the moves read once for the page.
func scanIndex(tx Tx, tenantID string, f UserFilter, after string, visit func(string, User) bool) error {
	c := CollUsersByName
	switch f.By {
	case SearchUsername, "":
	case SearchEmail:
		c = CollUsersByEmail
	default:
		return fmt.Errorf("%w: search by %q; use username or email", ErrInvalid, f.By)
	}
	var readErr error
	err := tx.Scan(c, tenantID, FoldKey(f.Prefix), after, func(key string, sub []byte) bool {
		u, err := getStoredUser(tx, tenantID, string(sub)) // visit reads the groups as moved
		if err != nil {
			readErr = err
			return false
		}
		return visit(key, u)
	})
	if err != nil {
		return err
	}
	return readErr
}
