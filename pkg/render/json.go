package render

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// runJSON holds the run fields of a node in the JSON formats.
type runJSON struct {
	Status          string            `json:"status,omitempty"`
	DurationSeconds float64           `json:"duration_seconds"`
	PeakMemBytes    int64             `json:"peak_mem_bytes,omitempty"`
	Cache           string            `json:"cache,omitempty"`
	ExitCode        *int              `json:"exit_code,omitempty"`
	OutputPreviews  map[string]string `json:"output_previews,omitempty"`
	Error           string            `json:"error,omitempty"`
}

type nodeJSON struct {
	ID      string            `json:"id"`
	Label   string            `json:"label"`
	Kind    string            `json:"kind,omitempty"`
	Command string            `json:"command,omitempty"`
	Join    string            `json:"join,omitempty"`
	Outputs []string          `json:"outputs,omitempty"`
	Style   map[string]string `json:"style,omitempty"`
	*runJSON
}

type linkJSON struct {
	ID         string            `json:"id,omitempty"`
	Source     string            `json:"source"`
	Target     string            `json:"target"`
	Kind       string            `json:"kind"`
	FromOutput string            `json:"from_output,omitempty"`
	ToInput    string            `json:"to_input,omitempty"`
	Label      string            `json:"label,omitempty"`
	Style      map[string]string `json:"style,omitempty"`
}

func (m *model) nodeJSON(i int) nodeJSON {
	n := &m.g.Nodes[i]
	j := nodeJSON{ID: n.Name, Label: m.labels[i], Kind: n.Kind, Command: n.Command, Join: n.Join,
		Outputs: n.Outputs, Style: m.g.Styles.Nodes[n.Name]}
	if r := n.Run; r != nil {
		j.runJSON = &runJSON{Status: r.Status, DurationSeconds: r.Duration.Seconds(), PeakMemBytes: r.PeakMemBytes,
			Cache: r.Cache, ExitCode: r.ExitCode, OutputPreviews: r.Outputs, Error: r.Error}
	}
	return j
}

func (m *model) linkJSON(e Edge) linkJSON {
	return linkJSON{Source: e.From, Target: e.To, Kind: e.Kind, FromOutput: e.FromOutput, ToInput: e.ToInput,
		Label: edgeLabel(e), Style: m.g.Styles.Edges[[2]string{e.From, e.To}]}
}

func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// D3 writes D3.js force-layout JSON:
//
//	{"name":..,"direction":..,"nodes":[{"id","label","kind",...run fields}],
//	 "links":[{"source","target","kind","from_output","to_input","label"}]}
//
// Run fields (status, duration_seconds, peak_mem_bytes, cache, exit_code,
// output_previews, error) are present on nodes with a run overlay. Keys are
// in a fixed order (maps sorted), indented by two spaces.
func D3(w io.Writer, g *Graph, opts Options) error {
	m, err := newModel(g, opts)
	if err != nil {
		return err
	}
	doc := struct {
		Name        string     `json:"name,omitempty"`
		Description string     `json:"description,omitempty"`
		Direction   string     `json:"direction"`
		Nodes       []nodeJSON `json:"nodes"`
		Links       []linkJSON `json:"links"`
	}{Name: g.Name, Description: g.Description, Direction: m.dir, Nodes: []nodeJSON{}, Links: []linkJSON{}}
	for i := range g.Nodes {
		doc.Nodes = append(doc.Nodes, m.nodeJSON(i))
	}
	for _, e := range m.edges {
		doc.Links = append(doc.Links, m.linkJSON(e))
	}
	return writeJSON(w, doc)
}

// Cytoscape writes Cytoscape.js JSON:
//
//	{"data":{"name":..},"elements":{"nodes":[{"data":{"id","label",...},"classes":"shell success"}],
//	 "edges":[{"data":{"id","source","target","kind",...}}]}}
//
// Node data has the same fields as D3's nodes; classes are the kind (up to
// a ':') and the status. Edge ids are "from->to" (".output" after from when
// named), with "#2", "#3"... on duplicates.
func Cytoscape(w io.Writer, g *Graph, opts Options) error {
	m, err := newModel(g, opts)
	if err != nil {
		return err
	}
	type cyNode struct {
		Data    nodeJSON `json:"data"`
		Classes string   `json:"classes,omitempty"`
	}
	type cyEdge struct {
		Data linkJSON `json:"data"`
	}
	type graphData struct {
		Name        string `json:"name,omitempty"`
		Description string `json:"description,omitempty"`
		Direction   string `json:"direction"`
	}
	doc := struct {
		Data     graphData `json:"data"`
		Elements struct {
			Nodes []cyNode `json:"nodes"`
			Edges []cyEdge `json:"edges"`
		} `json:"elements"`
	}{Data: graphData{g.Name, g.Description, m.dir}}
	doc.Elements.Nodes = []cyNode{}
	doc.Elements.Edges = []cyEdge{}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		var cls []string
		if k, _, _ := strings.Cut(n.Kind, ":"); k != "" {
			cls = append(cls, k)
		}
		if s := statusOf(n); s != "" {
			cls = append(cls, s)
		}
		doc.Elements.Nodes = append(doc.Elements.Nodes, cyNode{Data: m.nodeJSON(i), Classes: strings.Join(cls, " ")})
	}
	used := map[string]int{}
	for _, e := range m.edges {
		l := m.linkJSON(e)
		id := e.From
		if e.FromOutput != "" {
			id += "." + e.FromOutput
		}
		id += "->" + e.To
		used[id]++
		if k := used[id]; k > 1 {
			id += "#" + strconv.Itoa(k)
		}
		l.ID = id
		doc.Elements.Edges = append(doc.Elements.Edges, cyEdge{Data: l})
	}
	return writeJSON(w, doc)
}
