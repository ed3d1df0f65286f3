package glimesh

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the simulator's small GraphQL front end: a lexer and parser
// for the executable subset the console (and the platform doc) sends —
// one operation (query, mutation or subscription, optionally named, with
// variable definitions), fields with aliases and arguments (variables,
// strings, numbers, booleans, null, enums, lists, input objects), nested
// selections and inline fragments (`... on Type`). Named fragments,
// directives and multiple operations are refused with a parse error. The
// parsed document is validated against schema (below) like Absinthe does:
// unknown fields and arguments, missing required arguments, undefined
// variables and sub-selections are validation errors.

type gqlDoc struct {
	Op      string            // query | mutation | subscription
	Name    string            // operation name, may be empty
	VarDefs map[string]string // variable name -> type as written
	Sel     []*gqlField
}

type gqlField struct {
	Alias, Name string
	On          string // inline fragment type condition; Name is empty
	Args        []gqlArg
	Sel         []*gqlField
	Line, Col   int
}

func (f *gqlField) key() string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Name
}

type gqlArg struct {
	Name      string
	Value     gqlValue
	Line, Col int
}

type gqlValue struct {
	Kind string // var string int float bool null enum object list
	Str  string
	Obj  []gqlArg
	List []gqlValue
}

type gqlErr struct {
	Message   string           `json:"message"`
	Locations []map[string]int `json:"locations,omitempty"`
	Path      []any            `json:"path,omitempty"`
}

func errAt(line, col int, format string, args ...any) gqlErr {
	return gqlErr{Message: fmt.Sprintf(format, args...), Locations: []map[string]int{{"line": line, "column": col}}}
}

type gqlTok struct {
	kind      string // punct name int float string eof
	val       string
	line, col int
}

func lexGQL(src string) ([]gqlTok, *gqlErr) {
	var out []gqlTok
	line, col := 1, 1
	i := 0
	adv := func(n int) {
		for k := 0; k < n && i < len(src); k++ {
			if src[i] == '\n' {
				line++
				col = 1
			} else if src[i]&0xC0 != 0x80 {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			adv(1)
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				adv(1)
			}
		case strings.HasPrefix(src[i:], "..."):
			out = append(out, gqlTok{"punct", "...", line, col})
			adv(3)
		case strings.IndexByte("{}():$![]=@", c) >= 0:
			out = append(out, gqlTok{"punct", string(c), line, col})
			adv(1)
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			out = append(out, gqlTok{"name", src[i:j], line, col})
			adv(j - i)
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			kind := "int"
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == 'e' || src[j] == 'E' || src[j] == '+' || src[j] == '-') {
				if src[j] == '.' || src[j] == 'e' || src[j] == 'E' {
					kind = "float"
				}
				j++
			}
			tok := src[i:j]
			if _, err := strconv.ParseFloat(tok, 64); err != nil {
				e := errAt(line, col, "Parsing failed at `%s`", tok)
				return nil, &e
			}
			out = append(out, gqlTok{kind, tok, line, col})
			adv(j - i)
		case c == '"':
			if strings.HasPrefix(src[i:], `"""`) {
				e := errAt(line, col, "Parsing failed at `\"\"\"`: block strings are not supported by this simulator")
				return nil, &e
			}
			sl, sc := line, col
			j := i + 1
			var sb strings.Builder
			for {
				if j >= len(src) || src[j] == '\n' {
					e := errAt(sl, sc, "Parsing failed at `\"`: unterminated string")
					return nil, &e
				}
				if src[j] == '"' {
					break
				}
				if src[j] == '\\' && j+1 < len(src) {
					switch src[j+1] {
					case 'n':
						sb.WriteByte('\n')
					case 't':
						sb.WriteByte('\t')
					case 'r':
						sb.WriteByte('\r')
					case 'b':
						sb.WriteByte('\b')
					case 'f':
						sb.WriteByte('\f')
					case 'u':
						if j+6 <= len(src) {
							if n, err := strconv.ParseUint(src[j+2:j+6], 16, 32); err == nil {
								sb.WriteRune(rune(n))
								j += 6
								continue
							}
						}
						e := errAt(sl, sc, "Parsing failed at `\\u`: bad escape")
						return nil, &e
					default:
						sb.WriteByte(src[j+1])
					}
					j += 2
					continue
				}
				sb.WriteByte(src[j])
				j++
			}
			out = append(out, gqlTok{"string", sb.String(), sl, sc})
			adv(j + 1 - i)
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			e := errAt(line, col, "Parsing failed at `%s`", string(r))
			return nil, &e
		}
	}
	out = append(out, gqlTok{"eof", "", line, col})
	return out, nil
}

type gqlParser struct {
	toks []gqlTok
	pos  int
}

type parseError struct{ e gqlErr }

func (p *gqlParser) peek() gqlTok { return p.toks[p.pos] }
func (p *gqlParser) next() gqlTok {
	t := p.toks[p.pos]
	if p.pos < len(p.toks)-1 {
		p.pos++
	}
	return t
}

func (p *gqlParser) fail(t gqlTok) *parseError {
	v := t.val
	if t.kind == "eof" {
		return &parseError{errAt(t.line, t.col, "syntax error before: end of input")}
	}
	if t.kind == "string" {
		v = strconv.Quote(v)
	}
	return &parseError{errAt(t.line, t.col, "syntax error before: %s", v)}
}

func (p *gqlParser) expect(v string) (gqlTok, *parseError) {
	t := p.next()
	if t.kind != "punct" || t.val != v {
		return t, p.fail(t)
	}
	return t, nil
}

func (p *gqlParser) is(v string) bool {
	t := p.peek()
	return t.kind == "punct" && t.val == v
}

// parseGQL parses one executable document.
func parseGQL(src string) (*gqlDoc, *gqlErr) {
	toks, lerr := lexGQL(src)
	if lerr != nil {
		return nil, lerr
	}
	p := &gqlParser{toks: toks}
	d := &gqlDoc{Op: "query", VarDefs: map[string]string{}}
	t := p.peek()
	if t.kind == "name" {
		switch t.val {
		case "query", "mutation", "subscription":
			d.Op = t.val
			p.next()
		case "fragment":
			e := errAt(t.line, t.col, "named fragments are not supported by this simulator")
			return nil, &e
		default:
			return nil, &p.fail(t).e
		}
		if p.peek().kind == "name" {
			d.Name = p.next().val
		}
		if p.is("(") {
			p.next()
			for !p.is(")") {
				if _, err := p.expect("$"); err != nil {
					return nil, &err.e
				}
				n := p.next()
				if n.kind != "name" {
					return nil, &p.fail(n).e
				}
				if _, err := p.expect(":"); err != nil {
					return nil, &err.e
				}
				typ, err := p.parseType()
				if err != nil {
					return nil, &err.e
				}
				if p.is("=") {
					p.next()
					if _, err := p.parseValue(); err != nil {
						return nil, &err.e
					}
				}
				d.VarDefs[n.val] = typ
			}
			p.next()
		}
	} else if !p.is("{") {
		return nil, &p.fail(t).e
	}
	sel, err := p.parseSelection()
	if err != nil {
		return nil, &err.e
	}
	d.Sel = sel
	if t := p.peek(); t.kind != "eof" {
		return nil, &p.fail(t).e
	}
	return d, nil
}

func (p *gqlParser) parseType() (string, *parseError) {
	var s string
	if p.is("[") {
		p.next()
		inner, err := p.parseType()
		if err != nil {
			return "", err
		}
		if _, err := p.expect("]"); err != nil {
			return "", err
		}
		s = "[" + inner + "]"
	} else {
		t := p.next()
		if t.kind != "name" {
			return "", p.fail(t)
		}
		s = t.val
	}
	if p.is("!") {
		p.next()
		s += "!"
	}
	return s, nil
}

func (p *gqlParser) parseSelection() ([]*gqlField, *parseError) {
	if _, err := p.expect("{"); err != nil {
		return nil, err
	}
	var out []*gqlField
	for !p.is("}") {
		t := p.peek()
		if t.kind == "eof" {
			return nil, p.fail(t)
		}
		if p.is("...") {
			p.next()
			on := p.next()
			if on.kind != "name" || on.val != "on" {
				return nil, &parseError{errAt(on.line, on.col, "named fragments are not supported by this simulator")}
			}
			typ := p.next()
			if typ.kind != "name" {
				return nil, p.fail(typ)
			}
			sel, err := p.parseSelection()
			if err != nil {
				return nil, err
			}
			out = append(out, &gqlField{On: typ.val, Sel: sel, Line: t.line, Col: t.col})
			continue
		}
		n := p.next()
		if n.kind != "name" {
			return nil, p.fail(n)
		}
		f := &gqlField{Name: n.val, Line: n.line, Col: n.col}
		if p.is(":") {
			p.next()
			n2 := p.next()
			if n2.kind != "name" {
				return nil, p.fail(n2)
			}
			f.Alias, f.Name = n.val, n2.val
		}
		if p.is("(") {
			p.next()
			for !p.is(")") {
				an := p.next()
				if an.kind != "name" {
					return nil, p.fail(an)
				}
				if _, err := p.expect(":"); err != nil {
					return nil, err
				}
				v, err := p.parseValue()
				if err != nil {
					return nil, err
				}
				f.Args = append(f.Args, gqlArg{Name: an.val, Value: v, Line: an.line, Col: an.col})
			}
			p.next()
		}
		if p.is("@") {
			t := p.peek()
			return nil, &parseError{errAt(t.line, t.col, "directives are not supported by this simulator")}
		}
		if p.is("{") {
			sel, err := p.parseSelection()
			if err != nil {
				return nil, err
			}
			f.Sel = sel
		}
		out = append(out, f)
	}
	p.next()
	if len(out) == 0 {
		return nil, p.fail(p.toks[p.pos-1])
	}
	return out, nil
}

func (p *gqlParser) parseValue() (gqlValue, *parseError) {
	t := p.next()
	switch {
	case t.kind == "punct" && t.val == "$":
		n := p.next()
		if n.kind != "name" {
			return gqlValue{}, p.fail(n)
		}
		return gqlValue{Kind: "var", Str: n.val}, nil
	case t.kind == "string", t.kind == "int", t.kind == "float":
		return gqlValue{Kind: t.kind, Str: t.val}, nil
	case t.kind == "name":
		switch t.val {
		case "true", "false":
			return gqlValue{Kind: "bool", Str: t.val}, nil
		case "null":
			return gqlValue{Kind: "null"}, nil
		}
		return gqlValue{Kind: "enum", Str: t.val}, nil
	case t.kind == "punct" && t.val == "[":
		v := gqlValue{Kind: "list"}
		for !p.is("]") {
			if p.peek().kind == "eof" {
				return gqlValue{}, p.fail(p.peek())
			}
			e, err := p.parseValue()
			if err != nil {
				return gqlValue{}, err
			}
			v.List = append(v.List, e)
		}
		p.next()
		return v, nil
	case t.kind == "punct" && t.val == "{":
		v := gqlValue{Kind: "object"}
		for !p.is("}") {
			n := p.next()
			if n.kind != "name" {
				return gqlValue{}, p.fail(n)
			}
			if _, err := p.expect(":"); err != nil {
				return gqlValue{}, err
			}
			e, err := p.parseValue()
			if err != nil {
				return gqlValue{}, err
			}
			v.Obj = append(v.Obj, gqlArg{Name: n.val, Value: e, Line: n.line, Col: n.col})
		}
		p.next()
		return v, nil
	}
	return gqlValue{}, p.fail(t)
}

// resolveValue turns a literal or variable into a Go value (strings, json
// numbers, bools, nil, []any, map[string]any).
func resolveValue(v gqlValue, vars map[string]any) any {
	switch v.Kind {
	case "var":
		return vars[v.Str]
	case "string", "enum":
		return v.Str
	case "int", "float":
		return json.Number(v.Str)
	case "bool":
		return v.Str == "true"
	case "list":
		out := make([]any, 0, len(v.List))
		for _, e := range v.List {
			out = append(out, resolveValue(e, vars))
		}
		return out
	case "object":
		out := map[string]any{}
		for _, a := range v.Obj {
			out[a.Name] = resolveValue(a.Value, vars)
		}
		return out
	}
	return nil
}

// idString reads an ID argument (string or integer).
func idString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, x != ""
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

// schema describes the fields of the types the simulator serves: for each
// object type, its fields; each field's type ("User!", "[ChatMessageToken]")
// and arguments (name -> type; "!" marks required).
type fieldDef struct {
	Type string
	Args map[string]string
}

var schema = map[string]map[string]fieldDef{
	"Query": {
		"channel":   {"Channel", map[string]string{"id": "ID", "streamerId": "ID", "streamerUsername": "String"}},
		"user":      {"User", map[string]string{"id": "ID", "username": "String"}},
		"myself":    {"User", nil},
		"followers": {"[Follower]", map[string]string{"streamerId": "ID", "streamerUsername": "String", "userId": "ID", "userUsername": "String"}},
	},
	"Mutation": {
		"createChatMessage": {"ChatMessage", map[string]string{"channelId": "ID!", "message": "ChatMessageInput!"}},
		"shortTimeoutUser":  {"ChannelModerationLog", map[string]string{"channelId": "ID!", "userId": "ID!"}},
		"longTimeoutUser":   {"ChannelModerationLog", map[string]string{"channelId": "ID!", "userId": "ID!"}},
		"banUser":           {"ChannelModerationLog", map[string]string{"channelId": "ID!", "userId": "ID!"}},
		"unbanUser":         {"ChannelModerationLog", map[string]string{"channelId": "ID!", "userId": "ID!"}},
		"deleteChatMessage": {"ChannelModerationLog", map[string]string{"channelId": "ID!", "messageId": "ID!"}},
	},
	"Subscription": {
		"chatMessage": {"ChatMessage", map[string]string{"channelId": "ID"}},
		"channel":     {"Channel", map[string]string{"id": "ID"}},
		"followers":   {"Follower", map[string]string{"streamerId": "ID"}},
	},
	"ChatMessage": {
		"id": {"ID!", nil}, "message": {"String", nil}, "tokens": {"[ChatMessageToken]", nil},
		"metadata": {"ChatMessageMetadata", nil}, "isFollowedMessage": {"Boolean", nil},
		"isSubscriptionMessage": {"Boolean", nil}, "channel": {"Channel!", nil}, "user": {"User!", nil},
		"insertedAt": {"NaiveDateTime!", nil}, "updatedAt": {"NaiveDateTime!", nil},
	},
	"ChatMessageToken": {"type": {"String", nil}, "text": {"String", nil}},
	"TextToken":        {"type": {"String", nil}, "text": {"String", nil}},
	"UrlToken":         {"type": {"String", nil}, "text": {"String", nil}, "url": {"String", nil}},
	"EmoteToken":       {"type": {"String", nil}, "text": {"String", nil}, "src": {"String", nil}},
	"ChatMessageMetadata": {
		"admin": {"Boolean", nil}, "streamer": {"Boolean", nil}, "moderator": {"Boolean", nil}, "subscriber": {"Boolean", nil},
		"platform_founder_subscriber": {"Boolean", nil}, "platform_supporter_subscriber": {"Boolean", nil},
		"platformFounderSubscriber": {"Boolean", nil}, "platformSupporterSubscriber": {"Boolean", nil},
	},
	"User": {
		"id": {"ID!", nil}, "username": {"String!", nil}, "displayname": {"String!", nil}, "avatarUrl": {"String", nil},
		"teamRole": {"String", nil}, "confirmedAt": {"NaiveDateTime", nil}, "insertedAt": {"NaiveDateTime!", nil},
	},
	"Channel": {
		"id": {"ID!", nil}, "title": {"String", nil}, "status": {"ChannelStatus", nil}, "streamer": {"User!", nil},
		"blockLinks": {"Boolean", nil}, "insertedAt": {"NaiveDateTime!", nil},
	},
	"ChannelModerationLog": {
		"id": {"ID!", nil}, "channel": {"Channel!", nil}, "moderator": {"User!", nil}, "user": {"User!", nil},
		"action": {"String", nil}, "insertedAt": {"NaiveDateTime!", nil}, "updatedAt": {"NaiveDateTime!", nil},
	},
	"Follower": {"id": {"ID!", nil}, "streamer": {"User!", nil}, "user": {"User!", nil}, "insertedAt": {"NaiveDateTime!", nil}},
}

// possibleTypes lists the implementations of interface types.
var possibleTypes = map[string][]string{"ChatMessageToken": {"TextToken", "UrlToken", "EmoteToken"}}

var leafTypes = map[string]bool{"ID": true, "String": true, "Boolean": true, "Int": true, "NaiveDateTime": true, "ChannelStatus": true}

func namedType(t string) string { return strings.Trim(t, "[]!") }

var rootType = map[string]string{"query": "RootQueryType", "mutation": "RootMutationType", "subscription": "RootSubscriptionType"}

// validate checks d against schema and returns Absinthe-style errors.
func validate(d *gqlDoc, vars map[string]any) []gqlErr {
	var errs []gqlErr
	used := map[string]bool{}
	var walk func(parent string, sel []*gqlField)
	root := map[string]string{"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}[d.Op]
	walk = func(parent string, sel []*gqlField) {
		for _, f := range sel {
			if f.On != "" {
				ok := f.On == parent
				for _, pt := range possibleTypes[parent] {
					ok = ok || pt == f.On
				}
				if _, known := schema[f.On]; !known {
					errs = append(errs, errAt(f.Line, f.Col, "Unknown type %q.", f.On))
					continue
				}
				if !ok {
					errs = append(errs, errAt(f.Line, f.Col, "Fragment cannot be spread here as objects of type %q can never be of type %q.", parent, f.On))
					continue
				}
				walk(f.On, f.Sel)
				continue
			}
			if f.Name == "__typename" {
				continue
			}
			typeName := parent
			if parent == root {
				typeName = rootType[d.Op]
			}
			def, ok := schema[parent][f.Name]
			if !ok {
				errs = append(errs, errAt(f.Line, f.Col, "Cannot query field %q on type %q.%s", f.Name, typeName, suggest(parent, f.Name)))
				continue
			}
			given := map[string]bool{}
			for _, a := range f.Args {
				if _, ok := def.Args[a.Name]; !ok {
					errs = append(errs, errAt(a.Line, a.Col, "Unknown argument %q on field %q of type %q.", a.Name, f.Name, typeName))
					continue
				}
				given[a.Name] = true
				collectVars(a.Value, used)
				if a.Value.Kind == "null" && strings.HasSuffix(def.Args[a.Name], "!") {
					errs = append(errs, errAt(a.Line, a.Col, "Argument %q has invalid value null.", a.Name))
				}
			}
			for name, typ := range def.Args {
				if strings.HasSuffix(typ, "!") && !given[name] {
					errs = append(errs, errAt(f.Line, f.Col, "In argument %q: Expected type %q, found null.", name, typ))
				}
			}
			nt := namedType(def.Type)
			switch {
			case leafTypes[nt] && f.Sel != nil:
				errs = append(errs, errAt(f.Line, f.Col, "Field %q must not have a selection since type %q has no subfields.", f.Name, def.Type))
			case !leafTypes[nt] && f.Sel == nil:
				errs = append(errs, errAt(f.Line, f.Col, "Field %q of type %q must have a selection of subfields. Did you mean \"%s { ... }\"?", f.Name, def.Type, f.Name))
			case f.Sel != nil:
				walk(nt, f.Sel)
			}
		}
	}
	walk(root, d.Sel)
	for v := range used {
		if _, ok := d.VarDefs[v]; !ok {
			errs = append(errs, gqlErr{Message: fmt.Sprintf("Variable %q is not defined.", v)})
		}
	}
	for v, typ := range d.VarDefs {
		if strings.HasSuffix(typ, "!") && vars[v] == nil {
			errs = append(errs, gqlErr{Message: fmt.Sprintf("Variable %q of required type %q was not provided.", v, typ)})
		}
	}
	return errs
}

func collectVars(v gqlValue, used map[string]bool) {
	switch v.Kind {
	case "var":
		used[v.Str] = true
	case "list":
		for _, e := range v.List {
			collectVars(e, used)
		}
	case "object":
		for _, a := range v.Obj {
			collectVars(a.Value, used)
		}
	}
}

// suggest mimics Absinthe's "Did you mean" hint for close field names.
func suggest(typ, name string) string {
	var best string
	for f := range schema[typ] {
		if strings.HasPrefix(f, name) || strings.HasPrefix(name, f) {
			if best == "" || f < best {
				best = f
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// obj is a JSON object that keeps its keys in insertion order, as Absinthe
// answers in the order of the query.
type obj []kv

type kv struct {
	K string
	V any
}

// MarshalJSON renders o with its keys in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.K)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(e.V)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// project selects sel from a source value (map[string]any with
// "__typename", or a list of them).
func project(src any, sel []*gqlField) any {
	switch v := src.(type) {
	case nil:
		return nil
	case []map[string]any:
		out := make([]any, 0, len(v))
		for _, e := range v {
			out = append(out, project(e, sel))
		}
		return out
	case map[string]any:
		var o obj
		projectInto(&o, v, sel)
		return o
	}
	return src
}

func projectInto(o *obj, v map[string]any, sel []*gqlField) {
	for _, f := range sel {
		if f.On != "" {
			if t, _ := v["__typename"].(string); t == f.On {
				projectInto(o, v, f.Sel)
			}
			continue
		}
		if f.Name == "__typename" {
			*o = append(*o, kv{f.key(), v["__typename"]})
			continue
		}
		val := v[f.Name]
		if f.Sel != nil {
			val = project(val, f.Sel)
		}
		*o = append(*o, kv{f.key(), val})
	}
}
