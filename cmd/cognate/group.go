package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// The `cognate group` verbs: a tenant's groups and who is in them. A
// user's groups are the cognito:groups claim of their tokens, and the
// members of the tenant's admin group may use its admin console.

// groupPath is the admin API path of a tenant's group.
func groupPath(slug, name string) (string, error) {
	tenant, err := tenantPath(slug)
	if err != nil {
		return "", err
	}
	seg, err := pathSegment("group name", name)
	return tenant + "/groups/" + seg, err
}

// groupCommand is a `cognate group` verb whose only flag is --tenant.
func groupCommand(verb string, args []string, summary string, do func(ctx context.Context, c *apiClient, slug string, args []string) (output, error)) adminCommand {
	return adminCommand{
		verb: verb, args: args, summary: summary, needsTenant: true,
		setup: func(*flag.FlagSet, io.Reader) (checkFunc, runFunc) {
			return nil, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
				return do(ctx, c, in.tenant, in.args)
			}
		},
	}
}

// adminGroupOf reads which group is the tenant's admin group.
func adminGroupOf(ctx context.Context, c *apiClient, slug string) (string, error) {
	path, err := tenantPath(slug)
	if err != nil {
		return "", err
	}
	var t adminapi.Tenant
	_, err = c.call(ctx, http.MethodGet, path, nil, &t)
	return t.Settings.AdminGroup, err
}

// membership is add-user or remove-user: USER is a username or a sub, as
// in the user verbs.
func membership(verb, summary, method, done string) adminCommand {
	return groupCommand(verb, []string{"GROUP", "USER"}, summary,
		func(ctx context.Context, c *apiClient, slug string, args []string) (output, error) {
			group, err := groupPath(slug, args[0])
			if err != nil {
				return output{}, err
			}
			sub, err := resolveUser(ctx, c, slug, args[1])
			if err != nil {
				return output{}, err
			}
			member, err := userSegment(sub, args[1])
			if err != nil {
				return output{}, err
			}
			raw, err := c.call(ctx, method, group+"/members/"+member, nil, nil)
			return message(raw, done, args[1], args[0]), err
		})
}

func groupCommands() []adminCommand {
	return []adminCommand{
		{
			verb: "create", args: []string{"NAME"}, needsTenant: true,
			summary: "Create a group; NAME is 1 to 128 characters, spaces allowed inside.",
			setup: func(fs *flag.FlagSet, _ io.Reader) (checkFunc, runFunc) {
				details := addGroupDetailFlags(fs)
				var precedence adminapi.Nullable[int]
				check := func(in invocation) (err error) {
					if precedence, err = details.precedence(); err != nil {
						return err
					}
					// The service's own check of a new group.
					return ruleRefusal(tenant.ValidateGroup(tenant.Group{Name: in.args[0], Description: *details.description,
						Precedence: precedence.Value}))
				}
				return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := tenantPath(in.tenant)
					if err != nil {
						return output{}, err
					}
					req := adminapi.CreateGroupRequest{Name: in.args[0], Description: *details.description, Precedence: precedence.Value}
					var g adminapi.Group
					raw, err := c.call(ctx, http.MethodPost, path+"/groups", req, &g)
					return output{raw: raw, text: func(w io.Writer) { showGroup(w, g, "") }}, err
				}
			},
		},
		groupCommand("list", nil, "List a tenant's groups.",
			func(ctx context.Context, c *apiClient, slug string, _ []string) (output, error) {
				path, err := tenantPath(slug)
				if err != nil {
					return output{}, err
				}
				var list adminapi.GroupList
				raw, err := c.call(ctx, http.MethodGet, path+"/groups", nil, &list)
				if err != nil {
					return output{}, err
				}
				admin, err := adminGroupOf(ctx, c, slug)
				return output{raw: raw, text: func(w io.Writer) {
					if len(list.Groups) == 0 {
						fmt.Fprintf(w, "Tenant %s has no groups yet. Create one with: cognate group create --tenant %s NAME\n", slug, slug)
						return
					}
					var rows [][]string
					for _, g := range list.Groups {
						rows = append(rows, []string{g.Name, yesNo(g.Name == admin), formatTime(g.CreatedAt)})
					}
					printTable(w, []string{"NAME", "ADMIN GROUP", "CREATED"}, rows)
				}}, err
			}),
		groupCommand("get", []string{"NAME"}, "Show a group.",
			func(ctx context.Context, c *apiClient, slug string, args []string) (output, error) {
				path, err := groupPath(slug, args[0])
				if err != nil {
					return output{}, err
				}
				var g adminapi.Group
				raw, err := c.call(ctx, http.MethodGet, path, nil, &g)
				if err != nil {
					return output{}, err
				}
				admin, err := adminGroupOf(ctx, c, slug)
				return output{raw: raw, text: func(w io.Writer) {
					showGroup(w, g, admin)
					fmt.Fprintf(w, "\nMembers: cognate group members --tenant %s %s\n", slug, shellArg(g.Name))
				}}, err
			}),
		{
			verb: "update", args: []string{"NAME"}, needsTenant: true,
			summary: "Rename a group (its members, and the admin group setting if it names the group, move with it) or change its description or precedence.",
			setup: func(fs *flag.FlagSet, _ io.Reader) (checkFunc, runFunc) {
				newName := fs.String("name", "", "new name of the group")
				details := addGroupDetailFlags(fs)
				var req adminapi.UpdateGroupRequest
				check := func(invocation) (err error) {
					// NAME is the group as it is: one named before a rule
					// was tightened may still be renamed. The new name is
					// checked.
					if *newName != "" {
						if err := tenant.ValidateGroupName(*newName); err != nil {
							return ruleRefusal(err)
						}
						req.Name = newName
					}
					if flagGiven(fs, "description") {
						if err := tenant.ValidateGroupDescription(*details.description); err != nil {
							return ruleRefusal(err)
						}
						req.Description = details.description
					}
					if req.Precedence, err = details.precedence(); err != nil {
						return err
					}
					if req.Name == nil && req.Description == nil && !req.Precedence.Set {
						return usageError{"nothing to change: give --name, --description or --precedence"}
					}
					return nil
				}
				return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
					path, err := groupPath(in.tenant, in.args[0])
					if err != nil {
						return output{}, err
					}
					var g adminapi.Group
					raw, err := c.call(ctx, http.MethodPatch, path, req, &g)
					return output{raw: raw, text: func(w io.Writer) { showGroup(w, g, "") }}, err
				}
			},
		},
		groupCommand("delete", []string{"NAME"}, "Delete a group; its members leave it. The admin group cannot be deleted.",
			func(ctx context.Context, c *apiClient, slug string, args []string) (output, error) {
				path, err := groupPath(slug, args[0])
				if err != nil {
					return output{}, err
				}
				raw, err := c.call(ctx, http.MethodDelete, path, nil, nil)
				return message(raw, "Deleted group %s of tenant %s.", args[0], slug), err
			}),
		userListing{
			verb: "members", args: []string{"NAME"}, summary: "List a group's members, a page at a time.", noun: "members",
			path: func(slug string, args []string) (string, error) {
				path, err := groupPath(slug, args[0])
				return path + "/members", err
			},
			empty: func(slug string, args []string) string {
				return fmt.Sprintf("Group %s has no members. Add one with: cognate group add-user --tenant %s %s USER", args[0], slug, shellArg(args[0]))
			},
			more: func(slug string) string { return "cognate group members --tenant " + slug },
		}.command(),
		membership("add-user", "Make a user a member of a group (a member already is one); their next tokens carry it in cognito:groups. USER is a username or a sub.",
			http.MethodPut, "Added %s to group %s."),
		membership("remove-user", "End a user's membership of a group (one who is not a member stays so). USER is a username or a sub.",
			http.MethodDelete, "Removed %s from group %s."),
	}
}

// groupDetailFlags are the flags of a group's description and precedence,
// which create and update share.
type groupDetailFlags struct {
	description   *string
	precedenceArg *string
}

func addGroupDetailFlags(fs *flag.FlagSet) groupDetailFlags {
	return groupDetailFlags{
		description:   fs.String("description", "", `a note on the group for people, up to 2048 characters (--description "" removes it)`),
		precedenceArg: fs.String("precedence", "", "Cognito's rank of the group among a user's groups: 0 (first) to 2147483647, or none"),
	}
}

// precedence reads --precedence: not Set when it was not given, Set with
// no value for "none".
func (f groupDetailFlags) precedence() (adminapi.Nullable[int], error) {
	switch *f.precedenceArg {
	case "":
		return adminapi.Nullable[int]{}, nil
	case "none":
		return adminapi.Nullable[int]{Set: true}, nil
	}
	n, err := strconv.Atoi(*f.precedenceArg)
	if err != nil {
		return adminapi.Nullable[int]{}, usageError{fmt.Sprintf("--precedence %q: give a whole number from 0 to %d, or none", *f.precedenceArg, tenant.MaxGroupPrecedence)}
	}
	if err := tenant.ValidateGroupPrecedence(&n); err != nil {
		return adminapi.Nullable[int]{}, ruleRefusal(err)
	}
	return adminapi.Nullable[int]{Set: true, Value: &n}, nil
}

func showGroup(w io.Writer, g adminapi.Group, adminGroup string) {
	precedence := ""
	if g.Precedence != nil {
		precedence = strconv.Itoa(*g.Precedence)
	}
	admin := ""
	if adminGroup != "" {
		admin = yesNo(g.Name == adminGroup)
	}
	printFields(w,
		field("Group", g.Name),
		field("Admin group", admin),
		field("Description", g.Description),
		field("Precedence", precedence),
		field("Created", formatTime(g.CreatedAt)),
	)
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9@%+=:,./_-]+$`)

// quoted is args as shellArg quotes them.
func quoted(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellArg(a)
	}
	return out
}

// shellArg quotes a value for the commands the output suggests, so that
// a group name with a space in it can be pasted back.
func shellArg(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
