package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cast"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/fastdag/fastdag/pkg/dag"
)

// version is stamped by goreleaser: -ldflags "-X github.com/fastdag/fastdag/cmd.version=...".
var version = "dev"

// env is what every command shares: streams and resolved configuration.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	cfg            *viper.Viper
	warnMu         sync.Mutex // warnings come from concurrent nodes
}

// configKeys are the settings a config file or FASTDAG_* variable may set.
// Each maps to the flag of the same name. FASTDAG_OUTPUT, FASTDAG_INPUTS
// and FASTDAG_INPUT_* are left out on purpose: they are what fastdag hands
// to node processes, and a nested fastdag must not read them as settings.
var configKeys = []string{"jobs", "state-dir", "keep-going", "timeout", "cache-dir", "quiet", "verbose", "no-color"}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "fastdag",
		Short: "Run workflows of shell commands and in-process nodes, fast",
		Long: `fastdag loads a workflow from YAML, JSON or msgpack and runs its nodes
concurrently, in dependency order, under one bound (-j).

Exit codes: 0 success, 1 a node failed, 2 invalid workflow or usage,
130 interrupted.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return e.loadConfig(cmd)
		},
	}
	root.SetVersionTemplate("fastdag {{.Version}}\n")
	root.PersistentFlags().String("config", "", "config file (default ./fastdag.yaml; env FASTDAG_CONFIG)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{fmt.Errorf("%v (see 'fastdag %s --help')", err, cmd.Name())}
	})
	root.AddCommand(
		newRunCmd(e),
		newValidateCmd(e),
		newConvertCmd(e),
		newVersionCmd(e),
		newCacheCmd(e),
		newVizCmd(e),
	)
	return root
}

// loadConfig resolves settings in the order flags > FASTDAG_* env > config
// file. It binds the running command's flags, so reads go through e.cfg.
func (e *env) loadConfig(cmd *cobra.Command) error {
	v := viper.New()
	for _, k := range configKeys {
		_ = v.BindEnv(k, "FASTDAG_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_")))
		if f := cmd.Flags().Lookup(k); f != nil {
			_ = v.BindPFlag(k, f)
		}
	}
	path, _ := cmd.Flags().GetString("config")
	explicit := path != ""
	if !explicit {
		path = os.Getenv("FASTDAG_CONFIG")
		explicit = path != ""
	}
	if !explicit {
		path = "fastdag.yaml"
	}
	if _, err := os.Stat(path); err == nil || explicit {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return invalidf("config file %s: %v", path, err)
		}
		for _, k := range v.AllKeys() {
			if !contains(configKeys, k) {
				return invalidf("config file %s: unknown setting %q%s; known settings: %s", path, k, dag.DidYouMean(k, configKeys), strings.Join(configKeys, ", "))
			}
		}
	}
	// viper reads a value that does not fit as zero; say so instead, for
	// the settings this command takes. Flags were checked by pflag, so a
	// bad value is from FASTDAG_* or the file.
	for _, k := range configKeys {
		if f := cmd.Flags().Lookup(k); f == nil || f.Changed || !v.IsSet(k) {
			continue
		}
		var err error
		switch k {
		case "jobs":
			_, err = cast.ToIntE(v.Get(k))
		case "timeout":
			_, err = cast.ToDurationE(v.Get(k))
		case "keep-going", "quiet", "verbose", "no-color":
			_, err = cast.ToBoolE(v.Get(k))
		}
		if err != nil {
			from := "config file " + path
			if name := "FASTDAG_" + strings.ToUpper(strings.ReplaceAll(k, "-", "_")); os.Getenv(name) != "" {
				from = name
			}
			return invalidf("%s: invalid %s %q", from, k, fmt.Sprint(v.Get(k)))
		}
	}
	e.cfg = v
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// color reports whether to colour output written to w: only on a terminal,
// never with NO_COLOR (set and not empty, per no-color.org) or --no-color.
func (e *env) color(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || e.cfg.GetBool("no-color") {
		return false
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// outputFlag adds --output text|json.
func outputFlag(fs *pflag.FlagSet) *string {
	return fs.StringP("output", "o", "text", "result format: text or json (on stdout)")
}

func checkOutput(s string) error {
	if s != "text" && s != "json" {
		return &usageError{errors.New("--output: unknown format " + fmt.Sprintf("%q", s) + "; want text or json")}
	}
	return nil
}
