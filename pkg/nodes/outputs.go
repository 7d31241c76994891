package nodes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// readOutputs parses the $FASTDAG_OUTPUT file a process node wrote: one
// name=value per line, or, for values spanning lines, the heredoc form
//
//	name<<DELIM
//	line one
//	line two
//	DELIM
//
// as GitHub Actions' $GITHUB_OUTPUT does. The last value for a name wins.
func readOutputs(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // the node wrote no outputs (the file is made on first write)
	}
	if err != nil {
		return nil, err
	}
	return parseOutputs(string(data))
}

func parseOutputs(data string) (map[string]string, error) {
	out := map[string]string{}
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSuffix(lines[i], "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		eq := strings.IndexByte(line, '=')
		hd := strings.Index(line, "<<")
		if hd > 0 && (eq < 0 || hd < eq) {
			name, delim := line[:hd], strings.TrimSpace(line[hd+2:])
			if delim == "" {
				return nil, fmt.Errorf("line %d: heredoc %q has no delimiter", i+1, name)
			}
			var val []string
			end := -1
			for j := i + 1; j < len(lines); j++ {
				if strings.TrimSuffix(lines[j], "\r") == delim {
					end = j
					break
				}
				val = append(val, strings.TrimSuffix(lines[j], "\r"))
			}
			if end < 0 {
				return nil, fmt.Errorf("line %d: output %q: no closing %q line", i+1, name, delim)
			}
			if err := checkOutputName(name, i+1); err != nil {
				return nil, err
			}
			out[name] = strings.Join(val, "\n")
			i = end
			continue
		}
		if eq <= 0 {
			return nil, fmt.Errorf("line %d: expected name=value or name<<DELIMITER, found %q", i+1, line)
		}
		name := line[:eq]
		if err := checkOutputName(name, i+1); err != nil {
			return nil, err
		}
		out[name] = line[eq+1:]
	}
	return out, nil
}

func checkOutputName(name string, line int) error {
	if name == "" || strings.ContainsAny(name, " \t.=") {
		return fmt.Errorf("line %d: invalid output name %q", line, name)
	}
	return nil
}
