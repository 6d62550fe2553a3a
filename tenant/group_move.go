package tenant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Renaming or deleting a group changes the record of every member
// (User.Groups and the member index). Done in one transaction, a group of
// 100,000 members held the store's only writer for five seconds, stopping
// every write of every tenant, and took hundreds of megabytes. So it is
// done in steps:
//
//  1. One transaction renames or deletes the group record and writes a
//     groupMove: from the old name to the new one, or to none for a
//     deletion. The first batch of members moves in the same transaction;
//     for a group that fits in one batch that is the whole change, and
//     the record is gone again when it commits.
//  2. The other members move groupMoveBatch at a time, a transaction each
//     (moveMemberBatch); the last batch removes the record. A GroupMover
//     runs them in the background, so the change returns at once;
//     without one (Service.GroupMoveQueued nil) the caller runs them
//     before it returns.
//
// While the record exists, every read of a user's groups (GetUser, and so
// tokens' cognito:groups, sign-in and the console; ListUsers, SearchUsers)
// reads the old name as the new one, or not at all, and GroupMembers lists
// the members under both names: from outside, the change is made at once
// and nobody sees some members under each name. A user written meanwhile
// is written as read, and so moves early.
//
// Each batch takes the members still indexed under the old name, so a
// batch that runs twice, two movers at once or a move resumed after a
// crash (GroupMover.Run at start-up) end in the same state. Until a move
// is done the old name cannot be taken again (a new group, or another
// group renamed to it) and the new one can be neither renamed nor
// deleted: ErrGroupMoving. Moves therefore never chain, and the order in
// which a reader applies them does not matter.

// groupMoveBatch is how many members one transaction moves: like the
// import's 1,000 lines, few enough that other writers wait milliseconds.
const groupMoveBatch = 1000

// ErrGroupMoving refuses a change to a group whose members are still
// moving from a rename or a deletion: renaming or deleting the group they
// move to, or taking the name they move from.
var ErrGroupMoving = fmt.Errorf("%w: the group is still moving its members after a rename or deletion; try again in a moment", ErrConflict)

// ErrGroupNameMoving is the ErrGroupMoving of a name asked for (a new
// group's, or a group's new name) that a group renamed or deleted a moment
// ago had: its members are still moving out of it. The other kind, a
// group renamed or deleted while its members still move to it, is
// ErrGroupMoving alone; the console words the two differently.
var ErrGroupNameMoving = fmt.Errorf("%w (the name was another group's until a moment ago)", ErrGroupMoving)

// groupMove is the record of a rename or deletion whose members are not
// all moved yet. It lives in the tenant's CollGroupMembers under
// groupMoveKey(From), which no member key can be (group names are never
// empty, so no member key starts with "\x00").
type groupMove struct {
	From string `json:"from"`
	// To is the group's new name; empty when the group was deleted.
	To      string    `json:"to,omitempty"`
	Started time.Time `json:"started"`
}

const groupMovePrefix = "\x00move\x00"

func groupMoveKey(from string) string { return groupMovePrefix + from }

// groupMoves returns a tenant's unfinished moves; usually none, at the
// cost of one seek.
func groupMoves(tx Tx, tenantID string) ([]groupMove, error) {
	var moves []groupMove
	err := ScanJSON(tx, CollGroupMembers, tenantID, groupMovePrefix, "", func(_ string, m groupMove) bool {
		moves = append(moves, m)
		return true
	})
	return moves, err
}

// movedGroups is a user's groups as they read with moves done: each old
// name replaced by the new one, or dropped for a deleted group, and each
// group once. groups itself is returned when no move concerns it.
func movedGroups(groups []string, moves []groupMove) []string {
	var out []string // nil until a move concerns groups
	add := func(g string) {
		if g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	for i, g := range groups {
		j := slices.IndexFunc(moves, func(m groupMove) bool { return m.From == g })
		if out == nil {
			if j < 0 {
				continue
			}
			// The first name a move concerns: the ones before it are
			// kept as they are.
			out = make([]string, 0, len(groups))
			for _, kept := range groups[:i] {
				add(kept)
			}
		}
		if j >= 0 {
			g = moves[j].To
		}
		add(g)
	}
	if out == nil {
		return groups
	}
	return out
}

// checkNoMoveInto refuses (ErrGroupMoving) renaming or deleting group
// name while members still move to it from its old name.
func checkNoMoveInto(tx Tx, tenantID, name string) error {
	moves, err := groupMoves(tx, tenantID)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(moves, func(m groupMove) bool { return m.To == name }) {
		return fmt.Errorf("group %q: %w", name, ErrGroupMoving)
	}
	return nil
}

// CheckGroupNameFree refuses a name for a new group, or a group's new
// name: one a group has (ErrAlreadyExists), or one whose members are
// still moving to the group's new name or out of the deleted group
// (ErrGroupNameMoving). Writers that create groups of their own (the import)
// call it too. It reads two keys, no range, so a dry run's transaction
// can answer it.
func CheckGroupNameFree(tx Tx, tenantID, name string) error {
	if _, err := tx.Get(CollGroups, tenantID, name); err == nil {
		return fmt.Errorf("group %q: %w", name, ErrAlreadyExists)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if _, err := tx.Get(CollGroupMembers, tenantID, groupMoveKey(name)); err == nil {
		return fmt.Errorf("group %q: %w", name, ErrGroupNameMoving)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// startGroupMove records the move of a group's members from m.From and
// moves the first batch. done reports that every member was in it, and
// moved the number of members it moved.
func startGroupMove(tx Tx, tenantID string, m groupMove) (moved int, done bool, err error) {
	if err := PutJSON(tx, CollGroupMembers, tenantID, groupMoveKey(m.From), m); err != nil {
		return 0, false, err
	}
	return moveMemberBatch(tx, tenantID, m.From, m.Started)
}

// moveMemberBatch moves up to groupMoveBatch of the members still indexed
// under the move's old name, and removes the move's record once none is
// left. A move whose record is gone (finished by another mover, or its
// tenant deleted) is done. It may run any number of times.
func moveMemberBatch(tx Tx, tenantID, from string, now time.Time) (moved int, done bool, err error) {
	m, err := GetJSON[groupMove](tx, CollGroupMembers, tenantID, groupMoveKey(from))
	if errors.Is(err, ErrNotFound) {
		return 0, true, nil
	} else if err != nil {
		return 0, false, err
	}
	prefix := groupMemberKey(m.From, "")
	var subs []string
	err = tx.Scan(CollGroupMembers, tenantID, prefix, "", func(key string, _ []byte) bool {
		subs = append(subs, key[len(prefix):])
		return len(subs) <= groupMoveBatch // one more than a batch: is there a rest?
	})
	if err != nil {
		return 0, false, err
	}
	done = len(subs) <= groupMoveBatch
	subs = subs[:min(len(subs), groupMoveBatch)]
	moves := []groupMove{m}
	for _, sub := range subs {
		u, err := getStoredUser(tx, tenantID, sub)
		switch {
		case errors.Is(err, ErrNotFound):
			// An entry its user left behind: nothing to move.
		case err != nil:
			return 0, false, err
		default:
			u.Groups = movedGroups(u.Groups, moves)
			u.UpdatedAt = now
			if err := UpdateUser(tx, tenantID, u); err != nil {
				return 0, false, err
			}
		}
		// Gone with the user's old name already, unless the entry was one
		// its user did not have: either way it must not be taken again.
		if err := tx.Delete(CollGroupMembers, tenantID, groupMemberKey(m.From, sub)); err != nil {
			return 0, false, err
		}
	}
	if done {
		if err := tx.Delete(CollGroupMembers, tenantID, groupMoveKey(m.From)); err != nil {
			return 0, false, err
		}
	}
	return len(subs), done, nil
}

// finishGroupMove moves the rest of a group's members, a batch per
// transaction, until none is left.
func finishGroupMove(ctx context.Context, store Store, now func() time.Time, tenantID, from string) error {
	for done := false; !done; {
		err := store.Update(ctx, func(tx Tx) (err error) {
			_, done, err = moveMemberBatch(tx, tenantID, from, now().UTC())
			return err
		})
		if err != nil {
			return fmt.Errorf("move the members of group %q of tenant %q: %w", from, tenantID, err)
		}
	}
	return nil
}

// FinishGroupMoves finishes every move of members that a rename or
// deletion left (one a stop or a crash cut short, or one still running
// elsewhere: batches may run twice), and returns how many it finished.
func FinishGroupMoves(ctx context.Context, store Store, now func() time.Time) (int, error) {
	type pending struct{ tenantID, from string }
	var all []pending
	err := store.View(ctx, func(tx Tx) error {
		all = nil
		slugs, err := tenantSlugs(tx)
		if err != nil {
			return err
		}
		for _, slug := range slugs {
			moves, err := groupMoves(tx, slug)
			if err != nil {
				return err
			}
			for _, m := range moves {
				all = append(all, pending{slug, m.From})
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for i, p := range all {
		if err := finishGroupMove(ctx, store, now, p.tenantID, p.from); err != nil {
			return i, err
		}
	}
	return len(all), nil
}

// GroupMover moves the members of renamed and deleted groups in the
// background: Service.GroupMoveQueued is its Wake.
type GroupMover struct {
	Store  Store
	Logger *slog.Logger
	// Now is the clock the moved users' UpdatedAt is read from; required
	// (the Service's, whose Time the moves of a Service without a mover
	// use).
	Now func() time.Time

	wakeOnce sync.Once
	wake     chan struct{}
}

// Wake tells Run that a move is waiting; it never blocks.
func (m *GroupMover) Wake() {
	select {
	case m.wakeChan() <- struct{}{}:
	default: // a wake-up is pending already
	}
}

func (m *GroupMover) wakeChan() chan struct{} {
	m.wakeOnce.Do(func() { m.wake = make(chan struct{}, 1) })
	return m.wake
}

// groupMoveRetry is how long Run waits to try again after a failure.
const groupMoveRetry = time.Minute

// Run finishes the moves left from before (a crash or a stop cut them
// short), then each one it is woken for, until ctx is cancelled.
func (m *GroupMover) Run(ctx context.Context) {
	wake := m.wakeChan()
	logger := cmp.Or(m.Logger, slog.Default())
	for {
		var retry <-chan time.Time
		n, err := FinishGroupMoves(ctx, m.Store, m.Now)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			logger.ErrorContext(ctx, "move the members of a renamed or deleted group; trying again later", "err", err)
			retry = time.After(groupMoveRetry)
		case n > 0:
			logger.InfoContext(ctx, "moved the members of renamed or deleted groups", "groups", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-retry:
		}
	}
}

// groupMoveStarted runs the rest of a move its change began: the
// GroupMover's, or, without one, here and now. The change has committed,
// so a failure is logged, not returned: every reader sees the change
// already, and the next start-up finishes the move.
func (s *Service) groupMoveStarted(ctx context.Context, tenantID, from string) {
	if s.GroupMoveQueued != nil {
		s.GroupMoveQueued()
		return
	}
	// Not cut short by the caller going away: the move is the change's.
	err := finishGroupMove(context.WithoutCancel(ctx), s.Store, s.Time, tenantID, from)
	if err != nil && s.Logger != nil {
		s.Logger.ErrorContext(ctx, "move the members of a renamed or deleted group; the next start finishes it", "err", err)
	}
}
