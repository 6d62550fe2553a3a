package tenant

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Groups: creating, listing, members, changing and deleting.
//
// Membership lives on the user (User.Groups, which becomes cognito:groups)
// and, so that a group's members are found without reading every user, in
// the CollGroupMembers index: group name + "\x00" + sub. records.go keeps
// the index in step whenever a user is inserted, updated or deleted, so
// every writer of users (the service, the importer) maintains it. A group
// renamed or deleted moves its members in batches (group_move.go).

// Cognito's limits on a group's name, description and precedence.
const (
	MaxGroupNameLength  = 128
	MaxGroupDescription = 2048
	MaxGroupPrecedence  = math.MaxInt32
)

// ErrSelfLockout refuses a change by which administrators would lock
// themselves out of the console: disabling or deleting themselves, or
// leaving the admin group.
var ErrSelfLockout = fmt.Errorf("%w: administrators cannot disable, delete or remove themselves from the admin group", ErrInvalid)

// ErrAdminGroupWithoutActor refuses an administrator choosing as admin
// group one they are not a member of: the same lockout, by another road.
var ErrAdminGroupWithoutActor = fmt.Errorf("%w: you are not a member of the group you chose as admin group; join it first", ErrSelfLockout)

// ErrAdminGroup refuses deleting the group that admits administrators.
var ErrAdminGroup = fmt.Errorf("%w: the admin group cannot be deleted; choose another admin group first", ErrInvalid)

// CreateGroup adds a group to a tenant's pool. Its name, description and
// precedence follow Cognito's rules (see ValidateGroup); CreatedAt is set
// here.
func (s *Service) CreateGroup(ctx context.Context, tenantID string, g Group) (Group, error) {
	if err := ValidateGroup(g); err != nil {
		return Group{}, err
	}
	g.CreatedAt = s.Time()
	err := s.Store.Update(ctx, func(tx Tx) error {
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		if err := CheckGroupNameFree(tx, tenantID, g.Name); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditGroupCreate, AuditTarget{Kind: TargetGroup, ID: g.Name}, nil); err != nil {
			return err
		}
		return PutJSON(tx, CollGroups, tenantID, g.Name, g)
	})
	return g, err
}

// Groups lists a tenant's groups by name.
func (s *Service) Groups(ctx context.Context, tenantID string) ([]Group, error) {
	var out []Group
	err := s.Store.View(ctx, func(tx Tx) error {
		out = nil
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		return ScanJSON(tx, CollGroups, tenantID, "", "", func(_ string, g Group) bool {
			out = append(out, g)
			return true
		})
	})
	return out, err
}

// Group reads one group.
func (s *Service) Group(ctx context.Context, tenantID, name string) (Group, error) {
	var g Group
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		g, err = GetJSON[Group](tx, CollGroups, tenantID, name)
		if err != nil {
			return fmt.Errorf("group %q: %w", name, err)
		}
		return nil
	})
	return g, err
}

// GroupMembers pages through a group's members in sub order. Members of a
// group renamed a moment ago may still be indexed under its old name
// (group_move.go), so those are listed too.
func (s *Service) GroupMembers(ctx context.Context, tenantID, name, after string, limit int) (UserPage, error) {
	limit = pageLimit(limit, MaxPageSize, DefaultPageSize)
	var page UserPage
	err := s.Store.View(ctx, func(tx Tx) error {
		page = UserPage{}
		if _, err := GetJSON[Group](tx, CollGroups, tenantID, name); err != nil {
			return fmt.Errorf("group %q: %w", name, err)
		}
		moves, err := groupMoves(tx, tenantID)
		if err != nil {
			return err
		}
		names := []string{name}
		for _, m := range moves {
			if m.To == name {
				names = append(names, m.From)
			}
		}
		subs, next, err := groupMemberSubs(tx, tenantID, names, after, limit)
		if err != nil {
			return err
		}
		page.Next = next
		for _, sub := range subs {
			u, err := getMovedUser(tx, tenantID, sub, moves)
			if err != nil {
				return err
			}
			page.Users = append(page.Users, u)
		}
		return nil
	})
	return page, err
}

// groupMemberSubs returns up to limit members, in sub order, of the groups
// the member index has under names (one group, which may have members
// under its old name too) after the sub `after`, and the cursor of the
// rest.
func groupMemberSubs(tx Tx, tenantID string, names []string, after string, limit int) (subs []string, next string, err error) {
	for _, name := range names {
		prefix := groupMemberKey(name, "")
		start := ""
		if after != "" {
			start = prefix + after
		}
		n := 0
		err = tx.Scan(CollGroupMembers, tenantID, prefix, start, func(key string, _ []byte) bool {
			subs = append(subs, key[len(prefix):])
			n++
			return n <= limit // one more than the page: is there a rest?
		})
		if err != nil {
			return nil, "", err
		}
	}
	subs = slices.Compact(slices.Sorted(slices.Values(subs)))
	if len(subs) > limit {
		subs, next = subs[:limit], subs[limit-1]
	}
	return subs, next, nil
}

// GroupChange changes a group. Fields left nil stay as they are.
type GroupChange struct {
	// Name renames the group: every member moves with it, and the
	// tenant's admin group setting follows. Members beyond the first
	// batch move in the background; every read shows them under the new
	// name from the moment the change returns (group_move.go).
	Name        *string
	Description *string
	// Precedence replaces the precedence when SetPrecedence is true; nil
	// then removes it.
	SetPrecedence bool
	Precedence    *int
}

// UpdateGroup changes a group's name, description or precedence in one
// transaction, and the members of a renamed group beyond the first batch
// in transactions of their own (group_move.go). A change that changes
// nothing writes nothing. The group a rename's members still move to
// cannot be renamed again, nor its old name taken, until they have moved
// (ErrGroupMoving).
func (s *Service) UpdateGroup(ctx context.Context, tenantID, name string, in GroupChange) (Group, error) {
	if err := in.validate(); err != nil {
		return Group{}, err
	}
	renamed := in.Name != nil && *in.Name != name
	var counted int // the members, when more than one transaction moves
	if renamed {
		var err error
		if counted, err = s.countGroupMembers(ctx, tenantID, name); err != nil {
			return Group{}, err
		}
	}
	now := s.Time()
	var (
		g Group
		r groupRenamed
	)
	err := s.Store.Update(ctx, func(tx Tx) (err error) {
		r = groupRenamed{} // the closure may run more than once
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		if g, err = GetJSON[Group](tx, CollGroups, tenantID, name); err != nil {
			return fmt.Errorf("group %q: %w", name, err)
		}
		changed := in.applyTo(&g)
		if !renamed {
			return s.saveGroupChange(ctx, tx, tenantID, name, g, changed)
		}
		r, err = s.renameGroup(ctx, tx, t, name, *in.Name, &g, changed, counted, now)
		return err
	})
	if err != nil {
		return Group{}, err
	}
	if r.adminGroupMoved {
		s.changed(ctx, tenantID)
	}
	if r.movesLeft {
		s.groupMoveStarted(ctx, tenantID, name)
	}
	return g, nil
}

// validate checks the values in gives, before anything is read.
func (in GroupChange) validate() error {
	if in.Name != nil {
		if err := ValidateGroupName(*in.Name); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if err := ValidateGroupDescription(*in.Description); err != nil {
			return err
		}
	}
	if in.SetPrecedence {
		return ValidateGroupPrecedence(in.Precedence)
	}
	return nil
}

// applyTo sets on g the description and precedence in gives, and returns
// the names of the fields that changed.
func (in GroupChange) applyTo(g *Group) []string {
	var changed []string
	if in.Description != nil && *in.Description != g.Description {
		g.Description = *in.Description
		changed = append(changed, "description")
	}
	if in.SetPrecedence && !equalPrecedence(in.Precedence, g.Precedence) {
		g.Precedence = in.Precedence
		changed = append(changed, "precedence")
	}
	return changed
}

// saveGroupChange stores group g under its name, the fields changed
// changed, and records the change; with none changed it writes nothing.
func (s *Service) saveGroupChange(ctx context.Context, tx Tx, tenantID, name string, g Group, changed []string) error {
	if len(changed) == 0 {
		return nil
	}
	if err := PutJSON(tx, CollGroups, tenantID, name, g); err != nil {
		return err
	}
	return s.audit(ctx, tx, tenantID, AuditGroupUpdate, AuditTarget{Kind: TargetGroup, ID: name},
		map[string]string{"fields": strings.Join(changed, ",")})
}

// groupRenamed is what a rename leaves to do after its transaction.
type groupRenamed struct {
	adminGroupMoved bool // the tenant's admin group setting followed: its cache is stale
	movesLeft       bool // members beyond the first batch still move
}

// renameGroup is UpdateGroup's transaction for the rename of group g of
// tenant t from name to newName, its fields changed already changed: the
// group under its new name, the move of its members started
// (group_move.go), t's admin group setting following it, and the record
// of it all. counted is the members as countGroupMembers counted them.
func (s *Service) renameGroup(ctx context.Context, tx Tx, t Tenant, name, newName string, g *Group, changed []string, counted int, now time.Time) (groupRenamed, error) {
	var r groupRenamed
	tenantID := t.Slug
	if err := CheckGroupNameFree(tx, tenantID, newName); err != nil {
		return r, err
	}
	if err := checkNoMoveInto(tx, tenantID, name); err != nil {
		return r, err
	}
	if err := tx.Delete(CollGroups, tenantID, name); err != nil {
		return r, err
	}
	g.Name = newName
	if err := PutJSON(tx, CollGroups, tenantID, newName, *g); err != nil {
		return r, err
	}
	moved, done, err := startGroupMove(tx, tenantID, groupMove{From: name, To: newName, Started: now})
	if err != nil {
		return r, err
	}
	r.movesLeft = !done
	details := map[string]string{"from": name, "members": membersText(moved, done, counted)}
	if t.Settings.AdminGroup == name {
		// The administrators stay administrators under the new name.
		t.Settings.AdminGroup, t.UpdatedAt = newName, now
		if err := PutTenant(tx, t); err != nil {
			return r, err
		}
		r.adminGroupMoved = true
	}
	if len(changed) > 0 {
		details["fields"] = strings.Join(changed, ",")
	}
	return r, s.audit(ctx, tx, tenantID, AuditGroupRename, AuditTarget{Kind: TargetGroup, ID: newName}, details)
}

// countGroupMembers counts a group's members for the audit record of its
// rename or deletion. It reads outside the change's transaction, so that
// a large group does not hold the writer while it is counted; for a group
// that fits in one batch the change counts them itself (membersText).
func (s *Service) countGroupMembers(ctx context.Context, tenantID, name string) (int, error) {
	n := 0
	err := s.Store.View(ctx, func(tx Tx) error {
		n = 0
		return tx.Scan(CollGroupMembers, tenantID, groupMemberKey(name, ""), "", func(string, []byte) bool {
			n++
			return true
		})
	})
	return n, err
}

// membersText is the number of members an audit record of a rename or a
// deletion gives: those the change moved when that was all of them, else
// those counted as it began.
func membersText(moved int, done bool, counted int) string {
	if done {
		return strconv.Itoa(moved)
	}
	return strconv.Itoa(max(moved, counted))
}

func equalPrecedence(a, b *int) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// DeleteGroup removes a group and every membership of it. The tenant's
// admin group cannot be deleted (ErrAdminGroup). The members of a large
// group leave it in the background (group_move.go); nobody sees it in a
// user's groups from the moment it returns.
func (s *Service) DeleteGroup(ctx context.Context, tenantID, name string) error {
	counted, err := s.countGroupMembers(ctx, tenantID, name)
	if err != nil {
		return err
	}
	now := s.Time()
	movesLeft := false
	err = s.Store.Update(ctx, func(tx Tx) error {
		movesLeft = false // the closure may run more than once
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		if _, err := GetJSON[Group](tx, CollGroups, tenantID, name); err != nil {
			return fmt.Errorf("group %q: %w", name, err)
		}
		if t.Settings.AdminGroup == name {
			return ErrAdminGroup
		}
		if err := checkNoMoveInto(tx, tenantID, name); err != nil {
			return err
		}
		if err := tx.Delete(CollGroups, tenantID, name); err != nil {
			return err
		}
		moved, done, err := startGroupMove(tx, tenantID, groupMove{From: name, Started: now})
		if err != nil {
			return err
		}
		movesLeft = !done
		return s.audit(ctx, tx, tenantID, AuditGroupDelete, AuditTarget{Kind: TargetGroup, ID: name},
			map[string]string{"members": membersText(moved, done, counted)})
	})
	if err != nil {
		return err
	}
	if movesLeft {
		s.groupMoveStarted(ctx, tenantID, name)
	}
	return nil
}

// AddUserToGroup makes a user a member of a group; already being one is
// not an error.
func (s *Service) AddUserToGroup(ctx context.Context, tenantID, group, sub string) error {
	return s.changeMembership(ctx, tenantID, group, sub, true)
}

// RemoveUserFromGroup ends a user's membership of a group; not being a
// member is not an error. Administrators cannot remove themselves from the
// admin group (ErrSelfLockout).
func (s *Service) RemoveUserFromGroup(ctx context.Context, tenantID, group, sub string) error {
	return s.changeMembership(ctx, tenantID, group, sub, false)
}

func (s *Service) changeMembership(ctx context.Context, tenantID, group, sub string, add bool) error {
	now := s.Time()
	return s.Store.Update(ctx, func(tx Tx) error {
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		if _, err := GetJSON[Group](tx, CollGroups, tenantID, group); err != nil {
			return fmt.Errorf("group %q: %w", group, err)
		}
		u, err := GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		member := slices.Contains(u.Groups, group)
		if member == add {
			return nil
		}
		action, groups := AuditGroupMemberRemove, slices.DeleteFunc(slices.Clone(u.Groups), func(g string) bool { return g == group })
		if add {
			action, groups = AuditGroupMemberAdd, uniqueGroups(append(groups, group))
		}
		if err := checkAdminGroupKept(ctx, t, u, groups); err != nil {
			return err
		}
		u.Groups = groups
		u.UpdatedAt = now
		if err := UpdateUser(tx, tenantID, u); err != nil {
			return err
		}
		return s.audit(ctx, tx, tenantID, action, userTarget(u), map[string]string{"group": group})
	})
}

// actingOnSelf reports whether the actor in ctx is the administrator sub,
// acting on themselves: who may not lock themselves out (ErrSelfLockout).
func actingOnSelf(ctx context.Context, sub string) bool {
	a := ActorFrom(ctx)
	return a.Kind == ActorAdmin && a.Sub == sub
}

// checkAdminGroupKept refuses administrators taking themselves out of t's
// admin group (ErrSelfLockout): u as they are, with groups as the change
// would leave them. It is the one rule for a membership removed and a
// user's groups replaced.
func checkAdminGroupKept(ctx context.Context, t Tenant, u User, groups []string) error {
	admin := t.Settings.AdminGroup
	if actingOnSelf(ctx, u.Sub) && slices.Contains(u.Groups, admin) && !slices.Contains(groups, admin) {
		return ErrSelfLockout
	}
	return nil
}

// uniqueGroups is a user's group list as stored: sorted, each group once.
func uniqueGroups(names []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(names)))
}

// checkGroupsExist fails with ErrInvalid naming the first group of names
// the tenant does not have.
func checkGroupsExist(tx Tx, tenantID string, names []string) error {
	for _, g := range names {
		if _, err := tx.Get(CollGroups, tenantID, g); errors.Is(err, ErrNotFound) {
			return invalid(CodeGroupUnknown, g)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// ValidateGroup checks everything of a group that its creator chooses: its
// name, description and precedence, in that order.
func ValidateGroup(g Group) error {
	if err := ValidateGroupName(g.Name); err != nil {
		return err
	}
	if err := ValidateGroupDescription(g.Description); err != nil {
		return err
	}
	return ValidateGroupPrecedence(g.Precedence)
}

// ValidateGroupName checks a group name; the error is an *InvalidError
// naming the rule broken. Cognito allows 1–128 characters; surrounding
// spaces and control characters (which the member index uses as a
// separator) are refused, and so are "." and "..", which Cognito allows
// but a web address cannot carry as a path segment (browsers and the
// router resolve them), so the console and the admin API could not name
// the group.
//
// Its text follows the rules of an organization's name (nameTextFault):
// a group name goes into tokens and onto the console's pages, where a line
// break or a character nobody sees would make two names look alike or one
// look like two lines; Cognito's group names are letters, marks, symbols,
// digits and punctuation, which none of these is. For the same reason a
// name needs one character that can be seen, and a joiner only where a
// script joins letters with it (joinerOutOfPlace).
func ValidateGroupName(name string) error {
	fault, _ := nameTextFault(name, MaxGroupNameLength)
	switch {
	case fault == nameLength:
		return invalid(CodeGroupNameLength, strconv.Itoa(MaxGroupNameLength))
	case name == "." || name == "..":
		return invalid(CodeGroupNameDots)
	case strings.TrimSpace(name) != name:
		return invalid(CodeGroupNameSpaces)
	case fault != nameTextOK || joinerOutOfPlace(name):
		return invalid(CodeGroupNameText)
	}
	return nil
}

// joinerOutOfPlace reports whether name holds a zero-width joiner or
// non-joiner where no script needs one: at either end, beside anything
// but a letter, mark, digit, symbol or punctuation mark (another joiner, a
// space), or between two ASCII characters. There it joins nothing and only
// makes one name look like another ("adm\u200cins" is drawn as "admins"),
// while Persian words, Indic conjuncts and emoji sequences keep theirs.
func joinerOutOfPlace(name string) bool {
	runes := []rune(name)
	joins := func(r rune) bool { return visibleInName(r) || unicode.Is(unicode.M, r) }
	for i, r := range runes {
		if r != zeroWidthNonJoiner && r != zeroWidthJoiner {
			continue
		}
		if i == 0 || i == len(runes)-1 {
			return true
		}
		before, after := runes[i-1], runes[i+1]
		if !joins(before) || !joins(after) || (before < utf8.RuneSelf && after < utf8.RuneSelf) {
			return true
		}
	}
	return false
}

// ValidateGroupDescription checks a group's description: at most 2048
// characters, as in Cognito.
func ValidateGroupDescription(description string) error {
	if n := utf8.RuneCountInString(description); n > MaxGroupDescription {
		return invalid(CodeGroupDescLength, strconv.Itoa(MaxGroupDescription), strconv.Itoa(n))
	}
	if !validTextValue(description) {
		return invalid(CodeGroupDescText)
	}
	return nil
}

// ValidateGroupPrecedence checks a group's precedence, which may be absent
// (nil): Cognito takes 0 (first) to 2^31-1.
func ValidateGroupPrecedence(precedence *int) error {
	if precedence != nil && (*precedence < 0 || *precedence > MaxGroupPrecedence) {
		return invalid(CodeGroupPrecedenceRange, strconv.Itoa(MaxGroupPrecedence))
	}
	return nil
}

// groupMemberKey is a user's key in a group's member index.
func groupMemberKey(group, sub string) string { return group + "\x00" + sub }

// syncGroupIndex moves a user's member index entries from the groups in
// before to those in after.
func syncGroupIndex(tx Tx, tenantID, sub string, before, after []string) error {
	for _, g := range before {
		if !slices.Contains(after, g) {
			if err := tx.Delete(CollGroupMembers, tenantID, groupMemberKey(g, sub)); err != nil {
				return err
			}
		}
	}
	for _, g := range after {
		if !slices.Contains(before, g) {
			if err := tx.Put(CollGroupMembers, tenantID, groupMemberKey(g, sub), []byte(sub)); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupIndexMarker, in a tenant's CollGroupMembers, says the member index
// was built from the users. It cannot be a member key: group names are
// never empty, so no member key starts with "\x00".
const groupIndexMarker = "\x00indexed"

// IndexGroupMembers builds the group member index of every tenant whose
// users were written before the index existed, and returns how many
// tenants it indexed. It runs at start-up; a tenant it has indexed before
// is skipped at once (indexUsers). Writing an entry twice is harmless, so
// a concurrent change cannot make it wrong.
func IndexGroupMembers(ctx context.Context, store Store) (int, error) {
	return indexUsers(ctx, store, CollGroupMembers, groupIndexMarker, func(tx Tx, slug string, u User) error {
		return syncGroupIndex(tx, slug, u.Sub, nil, u.Groups)
	})
}
