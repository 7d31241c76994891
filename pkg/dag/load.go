package dag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
	"gopkg.in/yaml.v3"
)

// Format names a workflow file format.
type Format string

const (
	YAML    Format = "yaml"
	JSON    Format = "json"
	Msgpack Format = "msgpack"
)

// Formats lists the formats Load accepts, for messages.
var Formats = []Format{YAML, JSON, Msgpack}

// FormatOf infers a format from a file name's extension.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return YAML, nil
	case ".json":
		return JSON, nil
	case ".msgpack", ".mpk", ".msgp":
		return Msgpack, nil
	}
	return "", fmt.Errorf("cannot tell the format of %s from its extension: use .yaml, .yml, .json or .msgpack, or --format yaml|json|msgpack", path)
}

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case YAML, JSON, Msgpack:
		return f, nil
	case "yml":
		return YAML, nil
	}
	return "", fmt.Errorf("unknown format %q: want yaml, json or msgpack", s)
}

// LoadFile reads and decodes the workflow at path ("-" reads stdin from r).
// format may be empty to infer it from the extension (stdin defaults to
// YAML, which also reads JSON).
func LoadFile(path string, format Format, stdin io.Reader) (*Workflow, error) {
	var data []byte
	var err error
	if path == "-" {
		if format == "" {
			format = YAML
		}
		data, err = io.ReadAll(stdin)
	} else {
		if format == "" {
			if format, err = FormatOf(path); err != nil {
				return nil, err
			}
		}
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	w, err := Load(path, data, format)
	if w != nil {
		w.Dir = "."
		if path != "-" {
			w.Dir = filepath.Dir(path)
		}
	}
	return w, err
}

// Load decodes a workflow from data. name is used in positions. On bad
// input it returns Problems listing everything found; the Workflow is
// returned too when the document could be read at all, so that callers
// can still show what loaded.
func Load(name string, data []byte, format Format) (*Workflow, error) {
	d := &decoder{file: name}
	var root *yaml.Node
	if format == YAML && len(data) >= chunkThreshold {
		if header, chunks, ok := splitNodes(data); ok {
			if r, err := parseYAML(name, header); err == nil {
				root, d.chunks = r, chunks
			}
		}
	}
	if root == nil {
		var err error
		switch format {
		case JSON:
			root, err = parseJSON(name, data, d.streamNode)
		case Msgpack:
			root, err = parseMsgpack(name, data, d.streamNode)
		default:
			root, err = parseTree(name, data, format)
		}
		if err != nil {
			return nil, err
		}
		resolveAliases(root, map[*yaml.Node]bool{})
	}
	w := d.workflow(root)
	w.File = name
	if len(d.problems) > 0 {
		d.problems.sort()
		return w, d.problems
	}
	return w, nil
}

// parseTree turns any of the three formats into a yaml.Node tree, so one
// decoder serves them all. YAML and JSON trees carry line and column.
func parseTree(name string, data []byte, format Format) (*yaml.Node, error) {
	switch format {
	case YAML:
		return parseYAML(name, data)
	case JSON:
		return parseJSON(name, data, nil)
	case Msgpack:
		return parseMsgpack(name, data, nil)
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

func parseYAML(name string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg, line := err.Error(), 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		if line == 0 {
			line = 1
		}
		line = problemLine(data, line, msg)
		return nil, Problems{{Pos: Pos{File: name, Line: line, Col: firstCol(data, line)}, Msg: "invalid YAML: " + msg}}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, Problems{{Pos: Pos{File: name, Line: 1, Col: 1}, Msg: "empty workflow: expected a mapping with version, name and nodes"}}
	}
	return doc.Content[0], nil
}

// problemLine finds the line of a YAML syntax error. yaml.v3 names the
// line where the enclosing block or flow collection starts, which can be
// far above the mistake; the mistake is on the first line from there at
// which the document, cut after that line, fails with the same complaint.
// A binary search keeps this to a few parses; files too big for even that
// to be quick (generated ones, usually) keep yaml.v3's line.
func problemLine(data []byte, reported int, msg string) int {
	if len(data) > 1<<20 {
		return reported
	}
	var ends []int // ends[i] is the offset just past line i+1
	for i, c := range data {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	fails := func(line int) bool {
		var doc yaml.Node
		err := yaml.Unmarshal(data[:ends[line-1]], &doc)
		if err == nil {
			return false
		}
		m := yamlLine.FindStringSubmatch(err.Error())
		return m != nil && m[2] == msg
	}
	lo, hi := reported, len(ends)
	if lo < 1 || lo > hi || !fails(hi) {
		return reported
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// firstCol is the column of the first non-blank character of line, which
// is where yaml.v3 (which reports only lines) found the problem or near it.
func firstCol(data []byte, line int) int {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return 1
	}
	l := lines[line-1]
	return len(l) - len(bytes.TrimLeft(l, " \t")) + 1
}

var badChar = regexp.MustCompile(`^invalid character '(.)'`)

func jsonProblem(name string, data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// json.Decoder's offset is at the offending byte or just past it,
		// depending on where its scanner stopped; the message names it.
		off = se.Offset
		if m := badChar.FindStringSubmatch(se.Error()); m != nil && off > 0 && int(off) <= len(data) &&
			(int(off) == len(data) || string(data[off]) != m[1]) && string(data[off-1]) == m[1] {
			off--
		}
	case errors.As(err, &te):
		off = te.Offset
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// Point just past the last thing written, not at a final newline.
		off = int64(len(bytes.TrimRight(data, " \t\r\n")))
		msg = "unexpected end of JSON input"
	}
	pos := Pos{File: name, Line: 1, Col: 1}
	if off >= 0 {
		pos.Line, pos.Col = lineCol(data, int(off))
	}
	return Problems{{Pos: pos, Msg: "invalid JSON: " + msg}}
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, off int) (int, int) {
	off = min(off, len(data))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := off - bytes.LastIndexByte(before, '\n')
	return line, max(col, 1)
}

const maxDepth = 200

// parseMsgpack reads a msgpack document. With stream set, the entries of
// the top-level nodes map go to it one at a time instead of into the tree.
func parseMsgpack(name string, data []byte, stream func(k, v *yaml.Node)) (*yaml.Node, error) {
	d := msgpack.NewDecoder(bytes.NewReader(data))
	n, err := msgpackTree(d, 0, stream)
	if err == nil {
		if _, perr := d.PeekCode(); perr != io.EOF {
			err = errors.New("unexpected data after the top-level value")
		}
	}
	if err != nil {
		return nil, Problems{{Pos: Pos{File: name}, Msg: "invalid msgpack: " + err.Error()}}
	}
	return n, nil
}

func isMsgpackMap(c byte) bool {
	return msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32
}

func msgpackKey(d *msgpack.Decoder) (string, error) {
	k, err := d.DecodeInterface()
	if err != nil {
		return "", err
	}
	ks, ok := k.(string)
	if !ok || !utf8.ValidString(ks) {
		return "", fmt.Errorf("map key %q is not a UTF-8 string", fmt.Sprint(k))
	}
	return ks, nil
}

// msgpackTree reads one msgpack value into a yaml.Node, keeping map order.
func msgpackTree(d *msgpack.Decoder, depth int, stream func(k, v *yaml.Node)) (*yaml.Node, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	c, err := d.PeekCode()
	if err != nil {
		return nil, err
	}
	switch {
	case isMsgpackMap(c):
		n, err := d.DecodeMapLen()
		if err != nil {
			return nil, err
		}
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for range max(n, 0) {
			ks, err := msgpackKey(d)
			if err != nil {
				return nil, err
			}
			if c, err := d.PeekCode(); err == nil && depth == 0 && ks == "nodes" && stream != nil && isMsgpackMap(c) {
				nn, err := d.DecodeMapLen()
				if err != nil {
					return nil, err
				}
				for range max(nn, 0) {
					name, err := msgpackKey(d)
					if err != nil {
						return nil, err
					}
					v, err := msgpackTree(d, depth+2, nil)
					if err != nil {
						return nil, err
					}
					stream(scalarNode(name), v)
				}
				m.Content = append(m.Content, scalarNode(ks), &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"})
				continue
			}
			v, err := msgpackTree(d, depth+1, nil)
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, scalarNode(ks), v)
		}
		return m, nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := d.DecodeArrayLen()
		if err != nil {
			return nil, err
		}
		s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for range max(n, 0) {
			v, err := msgpackTree(d, depth+1, nil)
			if err != nil {
				return nil, err
			}
			s.Content = append(s.Content, v)
		}
		return s, nil
	}
	v, err := d.DecodeInterface()
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case string:
		if !utf8.ValidString(v) {
			return nil, fmt.Errorf("string %q is not valid UTF-8", v)
		}
		return scalarNode(v), nil
	case nil, bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64:
		return scalarNode(v), nil
	case []byte:
		if !utf8.Valid(v) {
			return nil, fmt.Errorf("binary value is not a UTF-8 string")
		}
		return scalarNode(string(v)), nil
	}
	return nil, fmt.Errorf("unsupported msgpack value of type %T", v)
}

// scalarNode makes a tagged yaml scalar from a Go value. Floats always keep
// a decimal point or exponent so they stay floats through every format.
func scalarNode(v any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode}
	switch v := v.(type) {
	case nil:
		n.Tag, n.Value = "!!null", "null"
	case bool:
		n.Tag, n.Value = "!!bool", strconv.FormatBool(v)
	case string:
		n.Tag, n.Value = "!!str", v
		if strings.Contains(v, "\n") && !literalSafe(v) {
			// yaml.v3 writes such strings in block style and reads back
			// something else (a leading newline is lost); quote them.
			n.Style = yaml.DoubleQuotedStyle
		}
	case int, int8, int16, int32, int64:
		n.Tag, n.Value = "!!int", strconv.FormatInt(reflect.ValueOf(v).Int(), 10)
	case uint8, uint16, uint32, uint64:
		n.Tag, n.Value = "!!int", strconv.FormatUint(reflect.ValueOf(v).Uint(), 10)
	case float32:
		n.Tag, n.Value = "!!float", formatFloat(float64(v))
	case float64:
		n.Tag, n.Value = "!!float", formatFloat(v)
	default:
		n.Tag, n.Value = "!!str", fmt.Sprint(v)
	}
	return n
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	case math.IsNaN(f):
		return ".nan"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// literalSafe reports whether a multi-line string survives YAML's literal
// block style unchanged.
func literalSafe(s string) bool {
	if strings.HasPrefix(s, "\n") || strings.HasPrefix(s, " ") || strings.ContainsAny(s, "\r\t") {
		return false
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.HasSuffix(line, " ") {
			return false
		}
	}
	return true
}
