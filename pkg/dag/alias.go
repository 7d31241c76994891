package dag

import (
	"gopkg.in/yaml.v3"
)

// resolveAliases replaces alias nodes by what they name and applies merge
// keys ("<<: *defaults"), so the decoder sees plain trees. Shared subtrees
// are walked once, which keeps alias bombs linear.
func resolveAliases(n *yaml.Node, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	for i, c := range n.Content {
		for c != nil && c.Kind == yaml.AliasNode {
			c = c.Alias
		}
		n.Content[i] = c
		resolveAliases(c, seen)
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	var merged []*yaml.Node
	var own []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			srcs := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				srcs = v.Content
			}
			for _, s := range srcs {
				if s.Kind == yaml.MappingNode {
					merged = append(merged, s.Content...)
				}
			}
			continue
		}
		own = append(own, k, v)
	}
	if merged == nil {
		return
	}
	// Keys written in the mapping win over merged ones; the first merged
	// source wins over later ones.
	have := map[string]bool{}
	for i := 0; i < len(own); i += 2 {
		have[own[i].Value] = true
	}
	out := own
	for i := 0; i+1 < len(merged); i += 2 {
		if k := merged[i].Value; !have[k] {
			have[k] = true
			out = append(out, merged[i], merged[i+1])
		}
	}
	n.Content = out
}
