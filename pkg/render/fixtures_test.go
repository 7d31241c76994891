package render

import "time"

func intp(i int) *int { return &i }

func fixtureHello() *Graph {
	return &Graph{Name: "hello", Description: "A single node", Nodes: []Node{
		{Name: "hello", Kind: "shell", Command: "echo hello", Outputs: []string{"stdout"}},
	}}
}

func fixtureDiamond() *Graph {
	return &Graph{Name: "diamond", Direction: "LR", Nodes: []Node{
		{Name: "a", Kind: "shell", Command: "seq 10", Outputs: []string{"nums"}},
		{Name: "b", Kind: "expr", Command: "sum(nums)", Outputs: []string{"total"}},
		{Name: "c", Kind: "exec", Command: "wc -l", Outputs: []string{"count"}},
		{Name: "d", Kind: "builtin:merge", Join: "all"},
	}, Edges: []Edge{
		{From: "c", To: "d", FromOutput: "count", ToInput: "right"},
		{From: "a", To: "b", FromOutput: "nums", ToInput: "nums"},
		{From: "a", To: "c", FromOutput: "nums", ToInput: "stdin"},
		{From: "b", To: "d", FromOutput: "total", ToInput: "left"},
		{From: "a", To: "b", FromOutput: "nums", ToInput: "nums"}, // duplicate: dropped
	}, Styles: Styles{
		Nodes: map[string]map[string]string{"d": {"fillcolor": "#ffeeaa", "penwidth": "2", "shape": "box"}},
		Edges: map[[2]string]map[string]string{{"a", "b"}: {"color": "red", "style": "dashed"}},
	}}
}

func fixtureBranch() *Graph {
	return &Graph{Name: "branch", Nodes: []Node{
		{Name: "size", Kind: "shell", Command: "du -s data", Outputs: []string{"stdout"}},
		{Name: "check", Kind: "condition", Command: "size > 100", Outputs: []string{"true", "false"}},
		{Name: "big", Kind: "shell", Command: "compress data"},
		{Name: "small", Kind: "shell", Command: "cp data out"},
		{Name: "pick", Kind: "select", Command: "env", Outputs: []string{"dev", "prod"}},
		{Name: "deploy-dev", Kind: "exec"},
		{Name: "deploy.prod", Kind: "exec"},
		{Name: "notify", Kind: "builtin:log", Join: "any"},
	}, Edges: []Edge{
		{From: "size", To: "check", FromOutput: "stdout", ToInput: "size"},
		{From: "check", To: "big", FromOutput: "true", Kind: EdgeBranch},
		{From: "check", To: "small", FromOutput: "false", Kind: EdgeBranch},
		{From: "big", To: "pick", Kind: EdgeOrder},
		{From: "small", To: "pick", Kind: EdgeOrder},
		{From: "pick", To: "deploy-dev", FromOutput: "dev", Kind: EdgeBranch},
		{From: "pick", To: "deploy.prod", FromOutput: "prod", Kind: EdgeBranch},
		{From: "deploy-dev", To: "notify", Kind: EdgeOrder},
		{From: "deploy.prod", To: "notify", Kind: EdgeOrder},
	}}
}

func fixtureRun() *Graph {
	return &Graph{Name: "run", Nodes: []Node{
		{Name: "fetch", Kind: "shell", Outputs: []string{"body"}, Run: &NodeRun{Status: StatusSuccess,
			Duration: 1234 * time.Millisecond, PeakMemBytes: 12 << 20, Cache: "miss", ExitCode: intp(0),
			Outputs: map[string]string{"body": "<html>…", "headers": "200 OK"}}},
		{Name: "parse", Kind: "expr", Outputs: []string{"items"}, Run: &NodeRun{Status: StatusCached,
			Duration: 5 * time.Millisecond, Cache: "hit", Outputs: map[string]string{"items": "[1,2,3]"}}},
		{Name: "upload", Kind: "exec", Run: &NodeRun{Status: StatusFailed, Duration: 2500 * time.Millisecond,
			PeakMemBytes: 3 << 19, ExitCode: intp(3), Error: "exit status 3"}},
		{Name: "report", Kind: "shell", Run: &NodeRun{Status: StatusSkipped}},
		{Name: "cleanup", Kind: "shell", Run: &NodeRun{Status: StatusNotRun}},
	}, Edges: []Edge{
		{From: "fetch", To: "parse", FromOutput: "body", ToInput: "text"},
		{From: "parse", To: "upload", FromOutput: "items"},
		{From: "upload", To: "report", Kind: EdgeOrder},
		{From: "fetch", To: "report", Kind: EdgeOrder},
		{From: "report", To: "cleanup", Kind: EdgeOrder},
	}}
}

// fixtureEscape has names and labels that need escaping in every format.
func fixtureEscape() *Graph {
	return &Graph{Name: `esc "q"`, Description: "line1\nline2", Nodes: []Node{
		{Name: `say "hi"`, Kind: "shell", Command: `echo "hi" > out`},
		{Name: "a[b]{c}(d)", Kind: "expr"},
		{Name: "x<y>&z #1", Kind: "condition"},
		{Name: "naïve ☃ 日本", Kind: "select"},
		{Name: "multi\nline", Kind: "shell"},
		{Name: `back\slash|pipe`, Kind: "exec"},
		{Name: "end", Kind: "shell"},
		{Name: "a-b", Kind: "shell"},
		{Name: "a.b", Kind: "shell"},
	}, Edges: []Edge{
		{From: `say "hi"`, To: "a[b]{c}(d)", FromOutput: `o"ut`},
		{From: "a[b]{c}(d)", To: "x<y>&z #1", FromOutput: "<v>"},
		{From: "x<y>&z #1", To: "naïve ☃ 日本", FromOutput: "true", Kind: EdgeBranch},
		{From: "naïve ☃ 日本", To: "multi\nline", FromOutput: "a|b", Kind: EdgeBranch},
		{From: "multi\nline", To: `back\slash|pipe`, Kind: EdgeOrder},
		{From: `back\slash|pipe`, To: "end"},
		{From: "end", To: "a-b"},
		{From: "a-b", To: "a.b"},
	}}
}
