package rivta

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/orisano/gosax"
)

// The XML reader: gosax splits the input into markup and text at about a gigabyte a second,
// and this file checks what gosax leaves to its caller — that names, attributes, references,
// comments and CDATA sections are well formed, that end tags match, that the text is UTF-8
// made of XML characters — and resolves namespaces. encoding/xml does all that too, but at
// ~28 µs per log entry it would cost more than everything else the service does with an entry.
//
// What SOAP does not need is refused rather than supported: document type declarations (so
// there are no entity definitions to expand and no external entities to fetch), processing
// instructions other than the XML declaration, and encodings other than UTF-8.

// errMalformed marks input that is not well-formed XML (or uses what we refuse).
var errMalformed = errors.New("malformed XML")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

// maxDepth bounds element nesting; a log entry is six levels deep inside the envelope.
const maxDepth = 64

// xname is a namespace-qualified name.
type xname struct{ space, local string }

func (n xname) String() string {
	if n.space == "" {
		return n.local
	}
	return "{" + n.space + "}" + n.local
}

type tokenKind uint8

const (
	tokStart tokenKind = iota + 1
	tokEnd
	tokText
	tokEOF
)

// token is one start tag, end tag or run of character data. For a start tag, attrs holds the
// attributes other than namespace declarations, with prefixed names resolved.
type token struct {
	kind  tokenKind
	name  xname
	attrs []attr
	text  []byte // character data, references resolved; valid until the next call
}

type attr struct {
	name  xname
	value string
}

type nsBinding struct{ prefix, uri string }

type openElement struct {
	raw      string // the qualified name as written (interned), for matching the end tag
	name     xname  // the resolved name
	bindings int    // namespace bindings this element added
}

// xmlReader reads a document token by token.
type xmlReader struct {
	sax        *gosax.Reader
	src        *trackingReader
	open       []openElement
	ns         []nsBinding
	seenRoot   bool
	started    bool // something other than whitespace has been read
	text       []byte
	pending    gosax.Event // markup read while collecting text, handed out next
	hasPending bool
	names      map[string]string // interned names: element names repeat in every entry
	known      map[string]knownName
	nsGen      uint32 // changes whenever namespace bindings come into or go out of scope
}

// knownName is a start tag's name already checked and resolved under the bindings of nsGen.
type knownName struct {
	gen  uint32
	raw  string
	name xname
}

// trackingReader remembers the first read error of the underlying reader, so that a body over
// its size limit is told apart from malformed XML.
type trackingReader struct {
	r   io.Reader
	err error
}

func (t *trackingReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

func newXMLReader(r io.Reader) *xmlReader {
	src := &trackingReader{r: r}
	x := &xmlReader{sax: gosax.NewReaderSize(src, 64<<10), src: src, names: map[string]string{}, known: map[string]knownName{}}
	x.sax.EmitSelfClosingTag = true
	return x
}

func (x *xmlReader) intern(b []byte) string {
	if s, ok := x.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(x.names) < 1024 {
		x.names[s] = s
	}
	return s
}

// next returns the next token: tokEOF after the root element has ended and only whitespace,
// comments and the end of input follow. Comments are skipped; adjacent text and CDATA come
// as one text token.
func (x *xmlReader) next() (tok token, err error) {
	defer func() {
		// gosax trusts its input in places; whatever it trips over is malformed input.
		if v := recover(); v != nil {
			tok, err = token{}, malformed("unreadable markup")
		}
	}()
	return x.nextToken()
}

// nextToken is next without the recover, apart so that next's defer stays cheap.
func (x *xmlReader) nextToken() (token, error) {
	if x.hasPending {
		x.hasPending = false
		return x.markup(x.pending)
	}
	x.text = x.text[:0]
	haveText := false
	for {
		ev, err := x.sax.Event()
		if err != nil {
			if x.src.err != nil {
				return token{}, x.src.err
			}
			return token{}, malformed("%v", err)
		}
		b := ev.Bytes
		switch ev.Type() {
		case gosax.EventEOF:
			if x.src.err != nil {
				return token{}, x.src.err
			}
			if len(x.open) > 0 {
				return token{}, malformed("the input ends inside element %s", clip([]byte(x.open[len(x.open)-1].raw)))
			}
			if !x.seenRoot {
				return token{}, malformed("no root element")
			}
			return token{kind: tokEOF}, nil
		case gosax.EventText:
			if len(x.open) == 0 {
				if !isSpace(b) {
					return token{}, malformed("text outside the root element")
				}
				continue
			}
			if err := x.appendText(b); err != nil {
				return token{}, err
			}
			haveText = true
			continue
		case gosax.EventCData:
			if len(x.open) == 0 || !bytes.HasPrefix(b, []byte("<![CDATA[")) || !bytes.HasSuffix(b, []byte("]]>")) || len(b) < len("<![CDATA[]]>") {
				return token{}, malformed("misplaced or malformed CDATA section")
			}
			body := b[len("<![CDATA[") : len(b)-len("]]>")]
			if err := checkChars(body); err != nil {
				return token{}, err
			}
			x.text = append(x.text, body...)
			haveText = true
			continue
		case gosax.EventComment:
			if len(b) < len("<!---->") || !bytes.HasPrefix(b, []byte("<!--")) || !bytes.HasSuffix(b, []byte("-->")) ||
				bytes.Contains(b[4:len(b)-3], []byte("--")) || b[len(b)-4] == '-' {
				return token{}, malformed("malformed comment")
			}
			if err := checkChars(b[4 : len(b)-3]); err != nil {
				return token{}, err
			}
			x.started = true
			continue
		case gosax.EventProcessingInstruction:
			if x.started || !bytes.HasPrefix(b, []byte("<?xml ")) {
				return token{}, malformed("processing instructions are not accepted")
			}
			if err := checkDeclaration(b); err != nil {
				return token{}, err
			}
			x.started = true
			continue
		case gosax.EventDocType:
			return token{}, malformed("document type declarations (DTDs) are not accepted")
		case gosax.EventStart, gosax.EventEnd:
		default:
			return token{}, malformed("unreadable markup")
		}
		x.started = true
		if haveText {
			// gosax cannot push an event back; keep it (its bytes stay valid until the next
			// Event call) and hand out the text first.
			x.pending, x.hasPending = ev, true
			return token{kind: tokText, text: x.text}, nil
		}
		return x.markup(ev)
	}
}

// markup turns a start or end tag into a token.
func (x *xmlReader) markup(ev gosax.Event) (token, error) {
	b := ev.Bytes
	if ev.Type() == gosax.EventEnd {
		var raw []byte
		if len(b) >= 3 && b[0] == '<' && b[1] == '/' {
			raw = b[2 : len(b)-1]
			if len(raw) > 0 && isSpaceByte(raw[len(raw)-1]) {
				raw = bytes.TrimRight(raw, " \t\r\n")
			}
		} else if len(b) >= 3 && b[len(b)-2] == '/' {
			// the end of a self-closing tag: gosax hands out the start tag's bytes again
			raw, _ = splitName(b[1 : len(b)-2])
		}
		if len(x.open) == 0 {
			return token{}, malformed("end tag without a start tag")
		}
		top := x.open[len(x.open)-1]
		if string(raw) != top.raw {
			return token{}, malformed("end tag </%s> does not match <%s>", clip(raw), clip([]byte(top.raw)))
		}
		x.open = x.open[:len(x.open)-1]
		if top.bindings > 0 {
			x.ns = x.ns[:len(x.ns)-top.bindings]
			x.nsGen++
		}
		return token{kind: tokEnd, name: top.name}, nil
	}
	if len(x.open) == 0 && x.seenRoot {
		return token{}, malformed("a second root element")
	}
	if len(x.open) >= maxDepth {
		return token{}, malformed("elements nested deeper than %d", maxDepth)
	}
	inner := b[1 : len(b)-1]
	if len(inner) > 0 && inner[len(inner)-1] == '/' {
		inner = inner[:len(inner)-1]
	}
	raw, rest := splitName(inner)
	if len(trimSpace(rest)) == 0 {
		// The common case: no attributes. A name seen before under the same namespace
		// bindings is known to be valid and resolves the same way.
		if c, ok := x.known[string(raw)]; ok && c.gen == x.nsGen {
			x.open = append(x.open, openElement{raw: c.raw, name: c.name})
			return token{kind: tokStart, name: c.name}, nil
		}
	}
	if !isQName(raw) {
		return token{}, malformed("invalid element name %q", clip(raw))
	}
	type rawAttr struct{ name, value []byte }
	var attrs []rawAttr
	bindings := 0
	for {
		rest = trimSpace(rest)
		if len(rest) == 0 {
			break
		}
		eq := bytes.IndexByte(rest, '=')
		if eq <= 0 {
			return token{}, malformed("malformed attribute in <%s>", clip(raw))
		}
		an := bytes.TrimRight(rest[:eq], " \t\r\n")
		if !isQName(an) {
			return token{}, malformed("invalid attribute name in <%s>", clip(raw))
		}
		rest = trimSpace(rest[eq+1:])
		if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
			return token{}, malformed("attribute value not quoted in <%s>", clip(raw))
		}
		end := bytes.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return token{}, malformed("attribute value not closed in <%s>", clip(raw))
		}
		val := rest[1 : 1+end]
		rest = rest[2+end:]
		if len(rest) > 0 && !isSpaceByte(rest[0]) {
			return token{}, malformed("attributes not separated by whitespace in <%s>", clip(raw))
		}
		if bytes.IndexByte(val, '<') >= 0 {
			return token{}, malformed("'<' in an attribute value in <%s>", clip(raw))
		}
		for _, a := range attrs {
			if bytes.Equal(a.name, an) {
				return token{}, malformed("attribute repeated in <%s>", clip(raw))
			}
		}
		attrs = append(attrs, rawAttr{an, val})
		switch {
		case string(an) == "xmlns" || bytes.HasPrefix(an, []byte("xmlns:")):
			uri, err := unescape(nil, val)
			if err != nil {
				return token{}, err
			}
			prefix := ""
			if len(an) > 5 {
				prefix = string(an[6:])
				if len(uri) == 0 {
					return token{}, malformed("prefix %q bound to no namespace", prefix)
				}
			}
			x.ns = append(x.ns, nsBinding{prefix: prefix, uri: x.intern(uri)})
			bindings++
		}
	}
	if bindings > 0 {
		x.nsGen++
	}
	name, err := x.resolve(raw, true)
	if err != nil {
		return token{}, err
	}
	x.open = append(x.open, openElement{raw: x.intern(raw), name: name, bindings: bindings})
	x.seenRoot = true
	if len(x.known) < 1024 {
		x.known[x.intern(raw)] = knownName{gen: x.nsGen, raw: x.intern(raw), name: name}
	}
	tok := token{kind: tokStart, name: name}
	for _, a := range attrs {
		if string(a.name) == "xmlns" || bytes.HasPrefix(a.name, []byte("xmlns:")) {
			continue
		}
		an, err := x.resolve(a.name, false)
		if err != nil {
			return token{}, err
		}
		v, err := unescape(nil, a.value)
		if err != nil {
			return token{}, err
		}
		tok.attrs = append(tok.attrs, attr{name: an, value: string(v)})
	}
	return tok, nil
}

// resolve maps a qualified name to its namespace. Unprefixed attributes have no namespace.
func (x *xmlReader) resolve(raw []byte, element bool) (xname, error) {
	prefix, local := "", raw
	if i := bytes.IndexByte(raw, ':'); i >= 0 {
		prefix, local = string(raw[:i]), raw[i+1:]
	}
	if prefix == "" && !element {
		return xname{local: x.intern(local)}, nil
	}
	if prefix == "xml" {
		return xname{space: "http://www.w3.org/XML/1998/namespace", local: x.intern(local)}, nil
	}
	for i := len(x.ns) - 1; i >= 0; i-- {
		if x.ns[i].prefix == prefix {
			return xname{space: x.ns[i].uri, local: x.intern(local)}, nil
		}
	}
	if prefix == "" {
		return xname{local: x.intern(local)}, nil
	}
	return xname{}, malformed("namespace prefix %q is not declared", clip([]byte(prefix)))
}

// appendText appends character data with its references resolved.
func (x *xmlReader) appendText(b []byte) error {
	if bytes.Contains(b, []byte("]]>")) {
		return malformed("']]>' in text")
	}
	var err error
	x.text, err = unescape(x.text, b)
	return err
}

// unescape appends b to dst with character and the five predefined entity references
// resolved, after checking that b is UTF-8 made of XML characters. Any other entity
// reference is an error: there is no DTD to define one.
func unescape(dst, b []byte) ([]byte, error) {
	if err := checkChars(b); err != nil {
		return nil, err
	}
	for {
		i := bytes.IndexByte(b, '&')
		if i < 0 {
			return append(dst, normaliseNewlines(b)...), nil
		}
		dst = append(dst, normaliseNewlines(b[:i])...)
		b = b[i+1:]
		semi := bytes.IndexByte(b, ';')
		if semi <= 0 || semi > 12 {
			return nil, malformed("malformed reference")
		}
		ref := b[:semi]
		b = b[semi+1:]
		switch string(ref) {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "apos":
			dst = append(dst, '\'')
		case "quot":
			dst = append(dst, '"')
		default:
			if ref[0] != '#' || len(ref) < 2 {
				return nil, malformed("entity references other than the predefined five are not accepted")
			}
			var n uint64
			var err error
			if ref[1] == 'x' {
				n, err = strconv.ParseUint(string(ref[2:]), 16, 32)
			} else {
				n, err = strconv.ParseUint(string(ref[1:]), 10, 32)
			}
			if err != nil || !isXMLChar(rune(n)) || len(ref) > 2 && ref[1] == 'x' && (ref[2] == '+' || ref[2] == '-') || ref[1] == '+' || ref[1] == '-' {
				return nil, malformed("invalid character reference")
			}
			dst = utf8.AppendRune(dst, rune(n))
		}
	}
}

// normaliseNewlines applies XML's end-of-line handling (CR LF and lone CR become LF). It
// returns b itself when there is no CR, which is nearly always.
func normaliseNewlines(b []byte) []byte {
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\r' {
			out = append(out, '\n')
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			continue
		}
		out = append(out, b[i])
	}
	return out
}

// checkChars checks that b is UTF-8 and holds only characters XML allows.
func checkChars(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return malformed("control character in text")
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return malformed("invalid UTF-8")
		}
		if !isXMLChar(r) {
			return malformed("character not allowed in XML")
		}
		i += n
	}
	return nil
}

func isXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// checkDeclaration accepts an XML declaration of version 1.0 in UTF-8 (or no encoding).
func checkDeclaration(b []byte) error {
	body := string(b[len("<?xml") : len(b)-2])
	if !bytesContainsAny(body, `version="1.0"`, `version='1.0'`) {
		return malformed("only XML 1.0 is accepted")
	}
	if i := indexFold(body, "encoding"); i >= 0 {
		if indexFold(body, `"utf-8"`) < 0 && indexFold(body, `'utf-8'`) < 0 {
			return malformed("only UTF-8 is accepted")
		}
	}
	return nil
}

func bytesContainsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if bytes.Contains([]byte(s), []byte(sub)) {
			return true
		}
	}
	return false
}

func indexFold(s, sub string) int {
	return bytes.Index(bytes.ToLower([]byte(s)), []byte(sub))
}

// splitName splits a tag's inside into its name and the rest.
func splitName(b []byte) (name, rest []byte) {
	for i, c := range b {
		if isSpaceByte(c) {
			return b[:i], b[i:]
		}
	}
	return b, nil
}

// isQName reports whether b is a name with at most one colon, neither first nor last. Names
// are checked for the characters XML allows in the ASCII range; any non-ASCII letter passes.
func isQName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	colons := 0
	for i, c := range b {
		switch {
		case c == ':':
			colons++
			if i == 0 || i == len(b)-1 || colons > 1 {
				return false
			}
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= utf8.RuneSelf:
		case c >= '0' && c <= '9', c == '-', c == '.':
			if i == 0 || b[i-1] == ':' {
				return false
			}
		default:
			return false
		}
	}
	return utf8.Valid(b)
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isSpace(b []byte) bool {
	for _, c := range b {
		if !isSpaceByte(c) {
			return false
		}
	}
	return true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpaceByte(b[0]) {
		b = b[1:]
	}
	return b
}

// clip makes a name from the input fit for an error message: short, valid UTF-8, and with
// any run of six or more digits masked, so that no identity number can travel in one.
func clip(b []byte) string {
	if len(b) > 64 {
		b = b[:64]
	}
	b = bytes.ToValidUTF8(b, []byte("?"))
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		switch {
		case j-i >= 6:
			out = append(out, "…"...)
			i = j
		case j > i:
			out = append(out, b[i:j]...)
			i = j
		default:
			out = append(out, b[i])
			i++
		}
	}
	return string(out)
}
