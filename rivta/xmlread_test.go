package rivta

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// tokens reads a whole document into a compact trace, or returns the error.
func tokens(doc string) (string, error) {
	x := newXMLReader(strings.NewReader(doc))
	var b strings.Builder
	for {
		tok, err := x.next()
		if err != nil {
			return b.String(), err
		}
		switch tok.kind {
		case tokStart:
			b.WriteString("<" + tok.name.String())
			for _, a := range tok.attrs {
				b.WriteString(" " + a.name.String() + "=" + a.value)
			}
			b.WriteString(">")
		case tokEnd:
			b.WriteString("</" + tok.name.String() + ">")
		case tokText:
			b.WriteString("[" + string(tok.text) + "]")
		case tokEOF:
			return b.String(), nil
		}
	}
}

func TestXMLReaderAccepts(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`<a/>`, `<a></a>`},
		{`<?xml version="1.0" encoding="UTF-8"?>` + "\n<a>x</a>\n", `<a>[x]</a>`},
		{`<p:a xmlns:p="urn:p"><b xmlns="urn:d"><p:c/></b></p:a>`, `<{urn:p}a><{urn:d}b><{urn:p}c></{urn:p}c></{urn:d}b></{urn:p}a>`},
		{`<a xmlns="urn:d"><b xmlns=""/></a>`, `<{urn:d}a><b></b></{urn:d}a>`},
		{`<a>&lt;&gt;&amp;&apos;&quot;&#65;&#x42;</a>`, `<a>[<>&'"AB]</a>`},
		{`<a>x<![CDATA[<y>&]]>z</a>`, `<a>[x<y>&z]</a>`},
		{`<a>x<!-- c -->y</a>`, `<a>[xy]</a>`},
		{"<a>\r\n\r</a>", "<a>[\n\n]</a>"},
		{`<a p:x='1' xmlns:p="urn:p" y="&amp;"/>`, `<a {urn:p}x=1 y=&></a>`},
		{`<!-- before --><a/><!-- after -->`, `<a></a>`},
		{`<å>ö</å>`, `<å>[ö]</å>`},
		// A prefix rebound in an inner scope, and the outer binding again after it.
		{`<p:a xmlns:p="urn:1"><p:b/><c xmlns:p="urn:2"><p:b/></c><p:b/></p:a>`,
			`<{urn:1}a><{urn:1}b></{urn:1}b><c><{urn:2}b></{urn:2}b></c><{urn:1}b></{urn:1}b></{urn:1}a>`},
	} {
		got, err := tokens(c.doc)
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.doc, got, err, c.want)
		}
	}
}

func TestXMLReaderRefuses(t *testing.T) {
	for _, doc := range []string{
		``,
		`   `,
		`<a>`,
		`<a></b>`,
		`<a></a><b/>`,
		`text<a/>`,
		`<a/>text`,
		`<!DOCTYPE a><a/>`,
		`<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`,
		`<a>&e;</a>`,
		`<a>&#0;</a>`,
		`<a>&#xD800;</a>`,
		`<a>&#-1;</a>`,
		`<a>&amp</a>`,
		`<a>]]></a>`,
		"<a>\x01</a>",
		"<a>\xff</a>",
		`<a x="1" x="2"/>`,
		`<a x=1/>`,
		`<a x="1"y="2"/>`,
		`<a x="<"/>`,
		`<p:a/>`,
		`<a xmlns:p=""/>`,
		`<1a/>`,
		`<a:b:c/>`,
		`<?xml version="1.1"?><a/>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`,
		`<a/><?pi x?>`,
		`<a><?pi x?></a>`,
		`<a><!-- x -- y --></a>`,
		`<a><!-x></a>`,
		`<a><![CDATX[x]]></a>`,
		`<![CDATA[x]]><a/>`,
		strings.Repeat("<a>", maxDepth+1) + strings.Repeat("</a>", maxDepth+1),
	} {
		if got, err := tokens(doc); !errors.Is(err, errMalformed) {
			t.Errorf("%q: accepted as %q (err %v)", doc, got, err)
		}
	}
}

func TestClipMasksDigits(t *testing.T) {
	if got := clip([]byte("x191212121212y12345")); got != "x…y12345" {
		t.Fatalf("%q", got)
	}
}

// FuzzXMLReader: the reader never panics, and what it accepts is well-formed XML by
// encoding/xml too, with the same elements and text.
func FuzzXMLReader(f *testing.F) {
	for _, s := range []string{`<a/>`, `<p:a xmlns:p="urn:p"><b>x&amp;y</b></p:a>`, `<a><![CDATA[x]]><!-- c --></a>`,
		`<?xml version="1.0"?><a x='1'/>`, `<!DOCTYPE a><a/>`, "<a>\r\n</a>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		ours, err := tokens(string(doc))
		if err != nil {
			return
		}
		d := xml.NewDecoder(bytes.NewReader(doc))
		d.Strict = true
		var b strings.Builder
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("accepted %q, which encoding/xml refuses: %v", doc, err)
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				b.WriteString("<" + xname{tok.Name.Space, tok.Name.Local}.String())
				for _, a := range tok.Attr {
					if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
						continue
					}
					b.WriteString(" " + xname{a.Name.Space, a.Name.Local}.String() + "=" + a.Value)
				}
				b.WriteString(">")
			case xml.EndElement:
				b.WriteString("</" + xname{tok.Name.Space, tok.Name.Local}.String() + ">")
			case xml.CharData:
				if d.InputOffset() > 0 && len(ours) > 0 {
					b.WriteString(string(tok))
				}
			}
		}
		// Text is compared without the brackets our trace puts around each run.
		norm := func(s string) string { return strings.NewReplacer("[", "", "]", "").Replace(s) }
		theirs := b.String()
		if strings.ContainsAny(theirs, "[]") || strings.ContainsAny(ours, "[]") && strings.Count(ours, "[") != strings.Count(ours, "]") {
			return // brackets inside text make the traces ambiguous
		}
		if norm(ours) != norm(stripOuterText(theirs)) {
			t.Fatalf("%q:\nours   %q\ntheirs %q", doc, ours, theirs)
		}
	})
}

// stripOuterText drops whitespace encoding/xml reports outside the root element.
func stripOuterText(s string) string {
	i, j := strings.IndexByte(s, '<'), strings.LastIndexByte(s, '>')
	if i < 0 || j < 0 {
		return s
	}
	return s[i : j+1]
}
