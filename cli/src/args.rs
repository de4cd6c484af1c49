//! The command line, declared with clap's derive: every subcommand with its help and examples.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// See your run: look at a file export, turn it into a trace or a chart, send it on.
#[derive(Debug, Parser)]
#[command(
    name = "telemetron",
    version,
    about,
    after_help = "Examples:\n  telemetron inspect telemetron-out/run.jsonl\n  telemetron tail -f telemetron-out/run.jsonl --kind log\n  telemetron timeline telemetron-out/run.jsonl -o run.trace.json\n  telemetron plot telemetron-out/run.jsonl loss -o loss.png --smooth 20\n  telemetron replay telemetron-out/run.jsonl --exporter '{type: otlp, endpoint: http://localhost:4317}'\n  telemetron relay --config relay.yaml\n  telemetron config show"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarize a run: spans, metric series, RL series, histograms, logs, errors, renderings.
    #[command(
        after_help = "A rotated run (run.jsonl.1 .. .N beside it) is read oldest first.\n\nExamples:\n  telemetron inspect telemetron-out/run.jsonl\n  telemetron inspect run.jsonl --json | jq '.spans[] | select(.errors > 0)'"
    )]
    Inspect {
        /// The export (`.jsonl` written by the file exporter).
        file: PathBuf,
        /// Print one JSON object instead of tables (for scripts).
        #[arg(long)]
        json: bool,
        /// Only this file: do not read its rotated segments (`FILE.1` .. `FILE.N`).
        #[arg(long)]
        no_rotated: bool,
    },
    /// Print one readable line per record; follow a growing (and rotated) file with -f.
    #[command(
        after_help = "NAME matches span and event names, metric names, a log's logger, an error's exception type.\n\nExamples:\n  telemetron tail run.jsonl -n 20\n  telemetron tail -f run.jsonl --kind span_stop --name 'train*'\n  telemetron tail run.jsonl --kind log --kind error"
    )]
    Tail {
        /// The export.
        file: PathBuf,
        /// Keep reading as the file grows; reopen it when it is rotated. Ctrl-C stops.
        #[arg(short, long)]
        follow: bool,
        /// Only the last N matching records (then follow, with -f).
        #[arg(short = 'n', long = "lines", value_name = "N")]
        lines: Option<usize>,
        /// Only records of these kinds (repeatable).
        #[arg(long = "kind", value_enum, value_name = "KIND")]
        kinds: Vec<KindFilter>,
        /// Only records whose name matches this glob (`train*`, `loss?`).
        #[arg(long, value_name = "GLOB")]
        name: Option<String>,
    },
    /// Write a Chrome Trace Event / Perfetto JSON trace: spans, events, errors, metric counters.
    #[command(
        after_help = "Open the output in https://ui.perfetto.dev (Open trace file) or chrome://tracing (Load).\n\nExamples:\n  telemetron timeline run.jsonl -o run.trace.json\n  telemetron timeline run.jsonl -o run.trace.json --logs"
    )]
    Timeline {
        /// The export.
        file: PathBuf,
        /// Where to write the trace (`-` for stdout).
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        /// Also put log records on the timeline, as instants.
        #[arg(long)]
        logs: bool,
        /// Only this file: do not read its rotated segments.
        #[arg(long)]
        no_rotated: bool,
    },
    /// Draw metric series as line charts (PNG or SVG by the output's extension).
    #[command(
        after_help = "Every series of a METRIC is drawn (one line per label set); an RL series draws one line per\nenvironment, or their mean with a min-max band with --rl mean.\n\nExamples:\n  telemetron plot run.jsonl loss -o loss.png\n  telemetron plot run.jsonl loss accuracy -o curves.svg --x time --smooth 50\n  telemetron plot run.jsonl reward -o reward.png --rl mean"
    )]
    Plot {
        /// The export.
        file: PathBuf,
        /// Metric names to draw.
        #[arg(required = true, value_name = "METRIC")]
        metrics: Vec<String>,
        /// The chart: `.png` or `.svg`.
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        /// The x axis: steps (RL series: rl_step), or wall time in seconds since the first point.
        #[arg(long, value_enum, default_value_t = XAxis::Step)]
        x: XAxis,
        /// Moving average over N points (1: raw values).
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        smooth: u32,
        /// RL series: one line per environment, or the mean with a min-max band.
        #[arg(long, value_enum, default_value_t = RlMode::Envs)]
        rl: RlMode,
        /// Image width in pixels.
        #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(64..=16384))]
        width: u32,
        /// Image height in pixels.
        #[arg(long, default_value_t = 640, value_parser = clap::value_parser!(u32).range(64..=16384))]
        height: u32,
    },
    /// Send a file export through exporters (OTLP, Metrana, TensorBoard, ...) and print the close report.
    #[command(
        after_help = "Records are sent unchanged (ids, times, steps), as the job sent them. Without --config or\n--exporter the usual config sources apply (telemetron.yaml, TELEMETRON_CONFIG).\n\nExamples:\n  telemetron replay run.jsonl --exporter '{type: tensorboard, logdir: runs/}'\n  telemetron replay run.jsonl --config cluster.yaml"
    )]
    Replay {
        /// The export.
        file: PathBuf,
        /// A config file naming the exporters.
        #[arg(long, value_name = "FILE", conflicts_with = "exporter")]
        config: Option<PathBuf>,
        /// One exporter entry as YAML/JSON (repeatable).
        #[arg(long, value_name = "YAML")]
        exporter: Vec<String>,
        /// Seconds to wait for the exporters to deliver at the end.
        #[arg(long, default_value_t = 60.0)]
        timeout: f64,
        /// Only this file: do not read its rotated segments.
        #[arg(long)]
        no_rotated: bool,
    },
    /// Deliver disk spools (an offline run, or what dead processes left) to the configured exporters.
    #[command(
        after_help = "Every writer directory under SPOOL_DIR is delivered to the configured exporter of the same\nname, oldest first, each frame under the identity it was written with (a re-sent frame is\napplied once by Metrana); what was delivered is removed, so a second sync sends nothing.\n\nExamples:\n  telemetron sync\n  telemetron sync /scratch/spool --config cluster.yaml\n  telemetron sync --run-name ppo-7 --exporter '{type: metrana, endpoint: https://ingest.example, api_key: ${KEY}}'"
    )]
    Sync {
        /// The spool directory (default: TELEMETRON_SPOOL_DIR, else ~/.cache/telemetron/spool).
        spool_dir: Option<PathBuf>,
        /// A config file naming the exporters.
        #[arg(long, value_name = "FILE", conflicts_with = "exporter")]
        config: Option<PathBuf>,
        /// One exporter entry as YAML/JSON (repeatable); its name must be the spool's exporter's.
        #[arg(long, value_name = "YAML")]
        exporter: Vec<String>,
        /// Only this workspace.
        #[arg(long)]
        workspace: Option<String>,
        /// Only this project.
        #[arg(long)]
        project: Option<String>,
        /// Only this run.
        #[arg(long)]
        run_name: Option<String>,
        /// Seconds to deliver each run.
        #[arg(long, default_value_t = 60.0)]
        timeout: f64,
    },
    /// Relay records from Kafka to the exporters of a config file, as a consumer-group member.
    #[cfg(feature = "kafka")]
    #[command(
        after_help = "Reads the topics the `kafka` exporter writes with `encoding: telemetron` and sends every record,\nunchanged, through the file's exporters, each producer run under its own identity. Offsets are\ncommitted only after the exporters delivered (at least once); relays sharing a group share the\npartitions. SIGTERM or Ctrl-C delivers, commits and leaves the group. The file:\n\n  relay:\n    brokers: kafka-0:9092,kafka-1:9092\n    group: telemetron-relay\n    topics: [telemetron_records]\n    consumer: {session.timeout.ms: 10000}   # any librdkafka consumer property\n  exporters:\n    - {type: otlp, endpoint: http://otel-collector:4317}\n    - {type: metrana, endpoint: https://ingestion.metrana.ai, api_key: ${METRANA_API_KEY}}\n\nExamples:\n  telemetron relay --config relay.yaml\n  telemetron relay --config relay.yaml --check"
    )]
    Relay {
        /// The relay's config file: a `relay:` section and the exporters.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Check the file and print what it resolves to (secrets redacted); connect nowhere.
        #[arg(long)]
        check: bool,
        /// Log level on stderr (progress and lag are `info`).
        #[arg(long, value_enum, default_value_t = LogLevel::Info)]
        log_level: LogLevel,
    },
    /// Show configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// List the registered exporter and plugin types.
    Exporters,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// The effective configuration and where each value came from (secrets redacted). Builds
    /// nothing that connects: no exporter is started.
    Show {
        /// A config file (default: TELEMETRON_CONFIG, else telemetron.yaml in the working directory).
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
}

/// A record kind for `tail --kind` (the file's `kind` names); `span` is both span kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum KindFilter {
    Span,
    SpanStart,
    SpanStop,
    Event,
    Error,
    TelemetryDataError,
    Log,
    Metric,
    RlMetric,
    Histogram,
    Scatter,
    Attributes,
    Rendering,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum XAxis {
    Step,
    Time,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RlMode {
    Envs,
    Mean,
}

/// How much the `relay` command logs on stderr.
#[cfg(feature = "kafka")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}
