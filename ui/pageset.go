package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
)

// PageSet is every page of a user interface (the sign-in pages, or the
// admin console) with their layout and shared partials, parsed once into
// one template set.
//
// A page file defines "title" and "content", and may define "fulltitle",
// for the layout that frames every page. In one set those names would
// collide, so a page's blocks are kept as "<page>/title" and so on, and a
// page is rendered in two steps: its blocks, then the layout with them in
// PageBlocks. Parsing the layout and the partials with each page instead,
// as one set per page, held their parse trees once per page: 1.3 MB of the
// idle server's 2.7 MB of heap, which every collection also had to scan.
type PageSet struct {
	set   *template.Template
	pages map[string]blockNames
}

// blockNames are a page's blocks' names in the set, worked out once at
// start-up; fullTitle is empty for a page that does not define one.
type blockNames struct{ title, fullTitle, content string }

// PageBlocks are a page's blocks, rendered, for the layout: it shows them
// with {{.Page.Title}} and so on.
type PageBlocks struct {
	Title template.HTML
	// FullTitle replaces the layout's whole <title> when the page defines
	// "fulltitle"; empty otherwise.
	FullTitle template.HTML
	Content   template.HTML
}

// ParsePages parses templates/<name>.html of fsys for each name in shared
// (the layout, which defines "layout", and partials) and in pages. Every
// page must define "title" and "content", and nothing but those and
// "fulltitle"; every message key a template names must be known to
// knownKey. Any failure names the file, so it fails start-up, not a page.
func ParsePages(fsys fs.FS, shared, pages []string, knownKey func(string) bool) (*PageSet, error) {
	s := &PageSet{set: template.New(""), pages: make(map[string]blockNames, len(pages))}
	for _, name := range shared {
		src, err := fs.ReadFile(fsys, "templates/"+name+".html")
		if err == nil {
			_, err = s.set.New(name).Parse(string(src))
		}
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
	}
	if s.set.Lookup("layout") == nil {
		return nil, fmt.Errorf("no template defines %q", "layout")
	}
	for _, page := range pages {
		if err := s.addPage(fsys, page); err != nil {
			return nil, fmt.Errorf("template %s: %w", page, err)
		}
	}
	for _, t := range s.set.Templates() {
		if t.Tree == nil {
			continue
		}
		for _, key := range templateMessageKeys(t.Tree) {
			if !knownKey(key) {
				return nil, fmt.Errorf("template %s: unknown message key %q", t.Tree.ParseName, key)
			}
		}
	}
	return s, nil
}

// addPage parses one page file on its own and adds its blocks to the set
// under the page's names.
func (s *PageSet) addPage(fsys fs.FS, page string) error {
	src, err := fs.ReadFile(fsys, "templates/"+page+".html")
	if err != nil {
		return err
	}
	// text/template parses exactly as html/template does; the escaping
	// happens in the set, at the first execution.
	parsed, err := texttemplate.New(page).Parse(string(src))
	if err != nil {
		return err
	}
	defined := map[string]bool{}
	for _, t := range parsed.Templates() {
		name := t.Name()
		switch {
		case name == page:
			if strings.TrimSpace(t.Tree.Root.String()) != "" {
				return fmt.Errorf("text outside a {{define}}")
			}
			continue
		case !isPageBlock(name):
			return fmt.Errorf("defines %q; a page defines only title, content and fulltitle", name)
		}
		defined[name] = true
		// A page may show its own blocks ({{template "title" .}} in its
		// content); those calls follow the blocks to their new names.
		walkTemplate(t.Tree, func(n parse.Node) {
			if call, ok := n.(*parse.TemplateNode); ok && isPageBlock(call.Name) {
				call.Name = page + "/" + call.Name
			}
		})
		t.Tree.Name = page + "/" + name
		if _, err := s.set.AddParseTree(t.Tree.Name, t.Tree); err != nil {
			return err
		}
	}
	for _, block := range []string{"title", "content"} {
		if !defined[block] {
			return fmt.Errorf("does not define %q", block)
		}
	}
	names := blockNames{title: page + "/title", content: page + "/content"}
	if defined["fulltitle"] {
		names.fullTitle = page + "/fulltitle"
	}
	s.pages[page] = names
	return nil
}

func isPageBlock(name string) bool {
	return name == "title" || name == "content" || name == "fulltitle"
}

// Render executes page with data into buf: the page's blocks into blocks,
// which must be the PageBlocks that data shows, then the layout.
func (s *PageSet) Render(buf *bytes.Buffer, page string, data any, blocks *PageBlocks) error {
	var names blockNames
	if s != nil {
		names = s.pages[page]
	}
	if names.content == "" {
		return fmt.Errorf("no page %q", page)
	}
	*blocks = PageBlocks{}
	for _, b := range []struct {
		name string
		into *template.HTML
	}{{names.title, &blocks.Title}, {names.fullTitle, &blocks.FullTitle}, {names.content, &blocks.Content}} {
		if b.name == "" {
			continue // a page need not define fulltitle
		}
		var out strings.Builder
		if err := s.set.ExecuteTemplate(&out, b.name, data); err != nil {
			return err
		}
		// The blocks were escaped as they were executed.
		*b.into = template.HTML(out.String())
	}
	return s.set.ExecuteTemplate(buf, "layout", data)
}

// templateMessageKeys returns the message keys a template names as the
// first argument of a T or Tf call ({{.T "key"}}, {{$.Tf "key" …}}), so a
// start-up check can find keys no catalogue holds.
func templateMessageKeys(tree *parse.Tree) []string {
	var keys []string
	walkTemplate(tree, func(n parse.Node) {
		if cmd, ok := n.(*parse.CommandNode); ok && len(cmd.Args) >= 2 && isTranslateCall(cmd.Args[0]) {
			if s, ok := cmd.Args[1].(*parse.StringNode); ok {
				keys = append(keys, s.Text)
			}
		}
	})
	return keys
}

// walkTemplate calls visit for every node of tree that can hold a call:
// actions, branches and their pipelines, template calls, commands.
func walkTemplate(tree *parse.Tree, visit func(parse.Node)) {
	if tree == nil || tree.Root == nil {
		return
	}
	var walk func(n parse.Node)
	walkPipe := func(p *parse.PipeNode) {
		if p == nil {
			return
		}
		for _, cmd := range p.Cmds {
			walk(cmd)
		}
	}
	walk = func(n parse.Node) {
		visit(n)
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walkPipe(n.Pipe)
		case *parse.IfNode:
			walkPipe(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walkPipe(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walkPipe(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walkPipe(n.Pipe)
		case *parse.CommandNode:
			for _, a := range n.Args {
				if p, ok := a.(*parse.PipeNode); ok {
					walkPipe(p)
				}
			}
		}
	}
	walk(tree.Root)
}

func isTranslateCall(n parse.Node) bool {
	var idents []string
	switch n := n.(type) {
	case *parse.FieldNode:
		idents = n.Ident
	case *parse.VariableNode:
		idents = n.Ident
	default:
		return false
	}
	last := idents[len(idents)-1]
	return last == "T" || last == "Tf"
}
