package dag

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// jsonTree reads JSON into the decoder's yaml.Node form with exact
// positions, from encoding/json's tokens. Unlike handing JSON to yaml.v3,
// it parses once, reports syntax errors at their byte, and can stream the
// top-level nodes mapping a node at a time (see chunk.go for why).
type jsonTree struct {
	name   string
	data   []byte
	dec    *json.Decoder
	lines  []int // offsets at which lines start
	stream func(k, v *yaml.Node)
}

func parseJSON(name string, data []byte, stream func(k, v *yaml.Node)) (*yaml.Node, error) {
	t := &jsonTree{name: name, data: data, stream: stream, lines: []int{0}}
	for i, c := range data {
		if c == '\n' {
			t.lines = append(t.lines, i+1)
		}
	}
	t.dec = json.NewDecoder(bytes.NewReader(data))
	t.dec.UseNumber()
	root, err := t.value(0)
	if err == nil {
		line, col := t.next()
		if _, terr := t.dec.Token(); terr != io.EOF {
			return nil, Problems{{Pos: Pos{File: name, Line: line, Col: col}, Msg: "invalid JSON: unexpected data after the top-level value"}}
		}
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, jsonProblem(name, data, err)
	}
	return root, nil
}

// next returns the position of the next token.
func (t *jsonTree) next() (line, col int) {
	off := int(t.dec.InputOffset())
	for off < len(t.data) {
		switch t.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	line = sort.Search(len(t.lines), func(i int) bool { return t.lines[i] > off })
	return line, off - t.lines[line-1] + 1
}

func (t *jsonTree) value(depth int) (*yaml.Node, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	line, col := t.next()
	tok, err := t.dec.Token()
	if err != nil {
		return nil, err
	}
	n := &yaml.Node{Line: line, Column: col}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
			for t.dec.More() {
				kl, kc := t.next()
				kt, err := t.dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				k := scalarNode(key)
				k.Line, k.Column = kl, kc
				if depth == 0 && key == "nodes" && t.stream != nil {
					if v, ok, err := t.streamNodes(depth + 1); err != nil {
						return nil, err
					} else if ok {
						n.Content = append(n.Content, k, v)
						continue
					}
				}
				v, err := t.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, k, v)
			}
		case '[':
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			for t.dec.More() {
				v, err := t.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
		}
		if _, err := t.dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case json.Number:
		s := tok.String()
		sn := scalarNode(nil)
		sn.Tag, sn.Value = "!!int", s
		if strings.ContainsAny(s, ".eE") {
			sn.Tag = "!!float"
		}
		sn.Line, sn.Column = line, col
		return sn, nil
	}
	sn := scalarNode(tok) // string, bool or nil
	sn.Line, sn.Column = line, col
	return sn, nil
}

// streamNodes reads the nodes object an entry at a time, handing each to
// the stream, and returns an empty mapping in its place. ok is false when
// the value is not an object: it is then read as usual, for the decoder
// to report.
func (t *jsonTree) streamNodes(depth int) (*yaml.Node, bool, error) {
	line, col := t.next()
	off := int(t.dec.InputOffset())
	for off < len(t.data) && strings.IndexByte(" \t\r\n:", t.data[off]) >= 0 {
		off++
	}
	if off >= len(t.data) || t.data[off] != '{' {
		return nil, false, nil
	}
	if _, err := t.dec.Token(); err != nil {
		return nil, false, err
	}
	for t.dec.More() {
		kl, kc := t.next()
		kt, err := t.dec.Token()
		if err != nil {
			return nil, false, err
		}
		key, _ := kt.(string)
		k := scalarNode(key)
		k.Line, k.Column = kl, kc
		v, err := t.value(depth + 1)
		if err != nil {
			return nil, false, err
		}
		t.stream(k, v)
	}
	if _, err := t.dec.Token(); err != nil {
		return nil, false, err
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line, Column: col}, true, nil
}
