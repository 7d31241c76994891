package dag

import (
	"bytes"
	"regexp"

	"gopkg.in/yaml.v3"
)

// Large YAML workflows are decoded a node at a time. yaml.v3 builds a tree
// of about 150 bytes per YAML node before anything can be decoded, which
// for a 100,000-node workflow is 200 MB alive at once; cut into one small
// document per node, each tree is garbage as soon as its node is decoded.
// Only plain block layouts are cut (the ones generators write); anything
// else, such as anchors that one node's text refers to in another's, falls
// back to the whole-document parse, which is always correct.

// chunkThreshold is the size from which cutting pays for itself, and
// chunkSize about how much text each parse gets.
const (
	chunkThreshold = 1 << 20
	chunkSize      = 256 << 10
)

// nodeChunk is the text of some consecutive entries of the top-level
// nodes mapping.
type nodeChunk struct {
	line int // lines before the chunk in the file
	text []byte
}

var (
	nodesLine   = regexp.MustCompile(`^nodes:[ \t]*(#.*)?\r?$`)
	anchorAlias = regexp.MustCompile(`(^|[\s\[{,:])[&*][A-Za-z0-9_]`)
)

// splitNodes cuts data into a header, in which the nodes mapping's lines
// are blanked (so line numbers hold), and one chunk per node.
func splitNodes(data []byte) (header []byte, chunks []nodeChunk, ok bool) {
	if anchorAlias.Match(data) {
		return nil, nil, false
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	start := -1
	for i, l := range lines {
		if bytes.HasPrefix(l, []byte("---")) || bytes.HasPrefix(l, []byte("...")) {
			return nil, nil, false
		}
		if nodesLine.Match(bytes.TrimRight(l, "\n")) {
			if start >= 0 {
				return nil, nil, false
			}
			start = i
		}
	}
	if start < 0 {
		return nil, nil, false
	}
	indent, end := -1, len(lines)
	for i := start + 1; i < len(lines); i++ {
		l := lines[i]
		body := bytes.TrimLeft(l, " ")
		n := len(l) - len(body)
		if len(bytes.TrimSpace(body)) == 0 || body[0] == '#' {
			continue // blank lines and comments belong to the chunk they are in
		}
		if n == 0 {
			end = i // the next top-level key
			break
		}
		if body[0] == '\t' {
			return nil, nil, false
		}
		if indent < 0 {
			if body[0] == '-' || body[0] == '{' || body[0] == '[' {
				return nil, nil, false
			}
			indent = n
		}
		switch {
		case n < indent:
			return nil, nil, false
		case n == indent:
			chunks = append(chunks, nodeChunk{line: i})
		}
	}
	if len(chunks) == 0 {
		return nil, nil, false
	}
	// Batch entries into chunks of about chunkSize bytes: one parse per
	// node would spend more on parser set-up than on parsing.
	var batched []nodeChunk
	for c := 0; c < len(chunks); {
		from, size := chunks[c].line, 0
		for ; c < len(chunks) && size < chunkSize; c++ {
			to := end
			if c+1 < len(chunks) {
				to = chunks[c+1].line
			}
			for _, l := range lines[chunks[c].line:to] {
				size += len(l)
			}
		}
		to := end
		if c < len(chunks) {
			to = chunks[c].line
		}
		batched = append(batched, nodeChunk{line: from, text: bytes.Join(lines[from:to], nil)})
	}
	chunks = batched
	var h bytes.Buffer
	h.Grow(len(data) / 16)
	for i, l := range lines {
		if i > start && i < end {
			h.WriteByte('\n')
			continue
		}
		h.Write(l)
	}
	return h.Bytes(), chunks, true
}

// chunkedNodes decodes the nodes of a cut document, one chunk at a time.
func (d *decoder) chunkedNodes() []*Node {
	var ns []*Node
	first := map[string]int{}
	for _, c := range d.chunks {
		root, err := parseYAML(d.file, c.text)
		if err != nil {
			for _, p := range err.(Problems) {
				p.Pos.Line += c.line
				d.problems = append(d.problems, p)
			}
			continue
		}
		shiftLines(root, c.line)
		if root.Kind != yaml.MappingNode {
			d.errorf(root, "nodes: expected a mapping of node name to node, found %s", kindName(root))
			continue
		}
		for i := 0; i+1 < len(root.Content); i += 2 {
			if n := d.nodeEntry(first, root.Content[i], root.Content[i+1]); n != nil {
				ns = append(ns, n)
			}
		}
	}
	return ns
}

func shiftLines(n *yaml.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}
