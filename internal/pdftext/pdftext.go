// Package pdftext reads the text back out of the PDFs vakt writes (go-pdf/fpdf with the core
// fonts), so that tests can check what a report says rather than only that it is a PDF. It
// understands what fpdf produces — content streams, optionally Flate-compressed, with literal
// strings shown by Tj in Windows-1252 — and is no general PDF reader.
package pdftext

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// MaxStream bounds one decompressed stream, so that a hostile file cannot exhaust memory.
const MaxStream = 64 << 20

var (
	streamRE = regexp.MustCompile(`<<([^<>]*)>>\s*stream\r?\n`)
	lengthRE = regexp.MustCompile(`/Length (\d{1,9})\b`)
)

// Text returns the strings the PDF's content streams show, one per line, in the order they are
// drawn, decoded from Windows-1252.
func Text(pdf []byte) (string, error) {
	var out strings.Builder
	rest := pdf
	for {
		loc := streamRE.FindSubmatchIndex(rest)
		if loc == nil {
			break
		}
		dict := rest[loc[2]:loc[3]]
		body := rest[loc[1]:]
		end := bytes.Index(body, []byte("endstream"))
		if end < 0 {
			return out.String(), errors.New("pdftext: a stream has no end")
		}
		// The dictionary's /Length is exact; trimming the line end before "endstream" would cut
		// compressed bytes that happen to be '\r' or '\n'.
		data := bytes.TrimRight(body[:end], "\r\n")
		if m := lengthRE.FindSubmatch(dict); m != nil {
			if n, err := strconv.Atoi(string(m[1])); err == nil && n <= end {
				data = body[:n]
			}
		}
		rest = body[end+len("endstream"):]
		if bytes.Contains(dict, []byte("/FlateDecode")) {
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				return out.String(), err
			}
			data, err = io.ReadAll(io.LimitReader(zr, MaxStream+1))
			if err != nil {
				return out.String(), err
			}
			if len(data) > MaxStream {
				return out.String(), errors.New("pdftext: a stream is too large")
			}
		}
		shown(&out, data)
	}
	return out.String(), nil
}

// shown appends every literal string of content that a Tj operator shows.
func shown(out *strings.Builder, content []byte) {
	for i := 0; i < len(content); i++ {
		if content[i] != '(' {
			continue
		}
		s, next := literal(content, i+1)
		j := next
		for j < len(content) && (content[j] == ' ' || content[j] == '\n' || content[j] == '\r' || content[j] == '\t') {
			j++
		}
		if bytes.HasPrefix(content[j:], []byte("Tj")) {
			out.WriteString(decode(s))
			out.WriteByte('\n')
		}
		i = next - 1
	}
}

// literal reads a PDF literal string starting after its '(' at i and returns its bytes and
// the position after its ')'. Balanced parentheses nest; escapes are those of PDF 1.7 7.3.4.2.
func literal(b []byte, i int) ([]byte, int) {
	var s []byte
	depth := 0
	for i < len(b) {
		c := b[i]
		i++
		switch {
		case c == '\\' && i < len(b):
			e := b[i]
			i++
			switch e {
			case 'n':
				s = append(s, '\n')
			case 'r':
				s = append(s, '\r')
			case 't':
				s = append(s, '\t')
			case 'b':
				s = append(s, '\b')
			case 'f':
				s = append(s, '\f')
			case '\r', '\n':
				// a line continuation
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && i < len(b) && b[i] >= '0' && b[i] <= '7'; k++ {
						v = v*8 + int(b[i]-'0')
						i++
					}
					s = append(s, byte(v))
				} else {
					s = append(s, e)
				}
			}
		case c == '(':
			depth++
			s = append(s, c)
		case c == ')':
			if depth == 0 {
				return s, i
			}
			depth--
			s = append(s, c)
		default:
			s = append(s, c)
		}
	}
	return s, i
}

// cp1252 maps the bytes 0x80–0x9F of Windows-1252 that differ from Latin-1; the others are the
// Unicode code point of the same number.
var cp1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8d, 'Ž', 0x8f,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9d, 'ž', 'Ÿ',
}

func decode(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x80 && c < 0xa0 {
			sb.WriteRune(cp1252[c-0x80])
		} else {
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}
