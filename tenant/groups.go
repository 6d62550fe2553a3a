package tenant

import (
	"context"
	"fmt"
)

// CreateGroup adds a group to a tenant's pool. Names follow Cognito: 1–128
// characters without surrounding whitespace.
func (s *Service) CreateGroup(ctx context.Context, tenantID, name string) (Group, error) {
	if err := ValidateGroupName(name); err != nil {
		return Group{}, err
	}
	g := Group{Name: name, CreatedAt: s.now()}
	err := s.Store.Update(ctx, func(tx Tx) error {
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		if _, err := tx.Get(CollGroups, tenantID, name); err == nil {
			return fmt.Errorf("group %q: %w", name, ErrAlreadyExists)
		}
		if err := s.audit(ctx, tx, tenantID, AuditGroupCreate, AuditTarget{Kind: TargetGroup, ID: name}, nil); err != nil {
			return err
		}
		return PutJSON(tx, CollGroups, tenantID, name, g)
	})
	return g, err
}
