//! `telemetron inspect RUN.jsonl [--json]`: one pass over the run, then tables (comfy-table)
//! or one JSON object.

mod durations;
mod summary;

use std::io::Write;
use std::path::Path;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use serde_json::{json, Value};
use telemetron::reader::{ReadItem, ReadStats};

use super::format::{duration, series_label, utc};
use crate::error::CliError;
use crate::input::{report_skipped, RunInput};
use crate::Host;
use summary::Summary;

pub(super) fn run(path: &Path, json: bool, rotated: bool, host: &Host) -> Result<(), CliError> {
    let mut input = RunInput::open(path, rotated, "inspect", host)?;
    let mut summary = Summary::default();
    while let Some(item) = input.next_item()? {
        match item {
            ReadItem::Header(h) => {
                if !summary
                    .headers
                    .iter()
                    .any(|k| k.run == h.run && k.pid == h.pid)
                {
                    summary.headers.push(h);
                }
            }
            ReadItem::Record(r) => summary.add(r),
        }
    }
    let stats = input.stats();
    report_skipped(&stats);
    let files: Vec<String> = input
        .files()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let text = if json {
        let mut text =
            serde_json::to_string_pretty(&to_json(&summary, &stats, &files)).unwrap_or_default();
        text.push('\n');
        text
    } else {
        tables(&summary, &stats, &files)
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(CliError::stdout)
}

fn share(total: u128, wall: u64) -> Option<f64> {
    (wall > 0).then(|| total as f64 / wall as f64)
}

fn to_json(s: &Summary, stats: &ReadStats, files: &[String]) -> Value {
    let wall = s.wall_ns();
    let series = |key: &telemetron::model::SeriesKey| {
        json!({
            "name": key.name(),
            "scale": key.scale().as_str(),
            "labels": key.labels().iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
        })
    };
    let with = |mut base: Value, more: Value| {
        if let (Value::Object(b), Value::Object(m)) = (&mut base, more) {
            b.extend(m);
        }
        base
    };
    json!({
        "files": files,
        "runs": s.headers.iter().map(|h| json!({
            "run_name": h.run.run_name,
            "workspace": h.run.workspace,
            "project": h.run.project,
            "experiment": h.run.experiment,
            "orchestration_id": h.run.orchestration_id,
            "logger_id": h.run.logger_id,
            "pid": h.pid,
            "producer": h.producer,
            "exporter": h.exporter,
            "opened": utc(h.time_ns),
        })).collect::<Vec<_>>(),
        "first_time_ns": s.first_ns,
        "last_time_ns": s.first_ns.map(|_| s.last_ns),
        "wall_time_ns": wall,
        "records": s.records,
        "spans": s.spans.iter().map(|(name, sp)| {
            let d = &sp.durations;
            json!({
                "name": name,
                "count": d.count,
                "errors": sp.errors,
                "cancelled": sp.cancelled,
                "total_ns": d.total as u64,
                "mean_ns": d.mean(),
                "p50_ns": d.quantile(0.5),
                "p95_ns": d.quantile(0.95),
                "max_ns": d.max,
                "min_ns": d.min,
                "wall_share": share(d.total, wall),
            })
        }).collect::<Vec<_>>(),
        "events": s.events,
        "metrics": s.metrics.iter().map(|(key, m)| with(series(key), json!({
            "points": m.points, "records": m.records, "step_min": m.step_min, "step_max": m.step_max,
            "last": m.last, "min": m.min, "max": m.max, "precision": m.precision,
        }))).collect::<Vec<_>>(),
        "rl": s.rl.iter().map(|(key, r)| with(series(key), json!({
            "envs": r.envs.len(), "points": r.values.points, "records": r.values.records,
            "rl_step_min": r.values.step_min, "rl_step_max": r.values.step_max,
            "max_episode": r.max_episode,
            "last": r.values.last, "min": r.values.min, "max": r.values.max,
        }))).collect::<Vec<_>>(),
        "histograms": s.histograms.iter().map(|(key, h)| with(series(key), json!({
            "count": h.count, "step_min": h.step_min, "step_max": h.step_max,
            "last_bins": h.last_size, "form": h.form,
        }))).collect::<Vec<_>>(),
        "scatters": s.scatters.iter().map(|(key, h)| with(series(key), json!({
            "count": h.count, "step_min": h.step_min, "step_max": h.step_max,
            "last_points": h.last_size, "form": h.form,
        }))).collect::<Vec<_>>(),
        "logs": s.logs.iter().map(|((_, text), n)| (text.to_string(), Value::from(*n))).fold(serde_json::Map::new(), |mut m, (k, v)| {
            let total = m.get(&k).and_then(Value::as_u64).unwrap_or(0) + v.as_u64().unwrap_or(0);
            m.insert(k, total.into());
            m
        }),
        "loggers": s.loggers,
        "errors": s.errors.iter().map(|e| json!({
            "message": e.message, "exception_type": e.exception_type, "span": e.span,
            "count": e.count, "first": utc(e.first_ns),
        })).collect::<Vec<_>>(),
        "errors_not_grouped": s.errors_not_grouped,
        "telemetry_data_errors": s.data_errors.iter().map(|(t, m, x)| json!({
            "error_type": t, "message": m, "exporter": x,
        })).collect::<Vec<_>>(),
        "renderings": s.renderings.iter().map(|(env, r)| json!({
            "env_id": env, "videos": r.videos, "frames": r.frames, "bytes": r.bytes, "last_path": r.last_path,
        })).collect::<Vec<_>>(),
        "config": s.config,
        "env_attribute_updates": s.env_attribute_updates,
        "read": {
            "lines": stats.lines, "bytes": stats.bytes, "records": stats.records,
            "headers": stats.headers, "torn_lines": stats.torn_lines, "torn_bytes": stats.torn_bytes,
            "unknown_kinds": stats.unknown_kinds,
        },
    })
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    t
}

fn right(text: impl ToString) -> Cell {
    Cell::new(text.to_string()).set_alignment(CellAlignment::Right)
}

fn num(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-3) {
        format!("{v:.4e}")
    } else {
        format!("{:.6}", v)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

fn tables(s: &Summary, stats: &ReadStats, files: &[String]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let wall = s.wall_ns();
    for h in &s.headers {
        let r = &h.run;
        let _ = writeln!(
            out,
            "run {}  project {}  workspace {}  experiment {}\n    orchestration {}  logger {}  pid {}  ({}, exporter {})",
            r.run_name,
            r.project.as_deref().unwrap_or("-"),
            r.workspace.as_deref().unwrap_or("-"),
            r.experiment.as_deref().unwrap_or("-"),
            r.orchestration_id,
            r.logger_id,
            h.pid,
            h.producer,
            h.exporter
        );
    }
    if let Some(first) = s.first_ns {
        let _ = writeln!(
            out,
            "from {} to {} ({}), {} records in {} ({} bytes)",
            utc(first),
            utc(s.last_ns),
            duration(wall),
            stats.records,
            files.join(", "),
            stats.bytes
        );
    }
    let mut section = |title: &str, t: Table| {
        let _ = writeln!(out, "\n{title}\n{t}");
    };
    if !s.spans.is_empty() {
        let mut t = table(&[
            "span", "count", "errors", "total", "mean", "p50", "p95", "max", "% wall",
        ]);
        for (name, sp) in &s.spans {
            let d = &sp.durations;
            t.add_row(vec![
                Cell::new(name),
                right(d.count),
                right(sp.errors),
                right(duration(d.total.min(u128::from(u64::MAX)) as u64)),
                right(duration(d.mean() as u64)),
                right(duration(d.quantile(0.5))),
                right(duration(d.quantile(0.95))),
                right(duration(d.max)),
                right(share(d.total, wall).map_or("-".into(), |x| format!("{:.1}", x * 100.0))),
            ]);
        }
        section("Spans", t);
    }
    if !s.metrics.is_empty() {
        let mut t = table(&["series", "scale", "points", "steps", "last", "min", "max"]);
        for (key, m) in &s.metrics {
            t.add_row(vec![
                Cell::new(series_label(key)),
                Cell::new(key.scale().as_str()),
                right(m.points),
                right(format!("{}..{}", m.step_min, m.step_max)),
                right(num(m.last)),
                right(num(m.min)),
                right(num(m.max)),
            ]);
        }
        section("Metric series", t);
    }
    if !s.rl.is_empty() {
        let mut t = table(&[
            "RL series",
            "scale",
            "envs",
            "points",
            "rl_steps",
            "last",
            "min",
            "max",
        ]);
        for (key, r) in &s.rl {
            t.add_row(vec![
                Cell::new(series_label(key)),
                Cell::new(key.scale().as_str()),
                right(r.envs.len()),
                right(r.values.points),
                right(format!("{}..{}", r.values.step_min, r.values.step_max)),
                right(num(r.values.last)),
                right(num(r.values.min)),
                right(num(r.values.max)),
            ]);
        }
        section("RL series", t);
    }
    if !s.histograms.is_empty() || !s.scatters.is_empty() {
        let mut t = table(&["series", "kind", "count", "steps", "last size"]);
        let kinds = [("histogram", &s.histograms), ("scatter", &s.scatters)];
        for (kind, map) in kinds {
            for (key, h) in map {
                t.add_row(vec![
                    Cell::new(series_label(key)),
                    Cell::new(format!("{kind} ({})", h.form)),
                    right(h.count),
                    right(format!("{}..{}", h.step_min, h.step_max)),
                    right(h.last_size),
                ]);
            }
        }
        section("Histograms and scatters", t);
    }
    if !s.events.is_empty() {
        let mut t = table(&["event", "count"]);
        for (name, n) in &s.events {
            t.add_row(vec![Cell::new(name), right(n)]);
        }
        section("Events", t);
    }
    if !s.logs.is_empty() {
        let mut t = table(&["severity", "logs"]);
        for ((number, text), n) in &s.logs {
            t.add_row(vec![Cell::new(format!("{text} ({number})")), right(n)]);
        }
        section("Logs", t);
    }
    if !s.errors.is_empty() {
        let mut t = table(&["error", "type", "span", "count", "first"]);
        for e in &s.errors {
            t.add_row(vec![
                Cell::new(&e.message),
                Cell::new(e.exception_type.as_deref().unwrap_or("-")),
                Cell::new(e.span.as_deref().unwrap_or("-")),
                right(e.count),
                Cell::new(utc(e.first_ns)),
            ]);
        }
        section("Errors", t);
    }
    if !s.data_errors.is_empty() {
        let mut t = table(&["telemetry data error", "message", "exporter"]);
        for (kind, message, exporter) in &s.data_errors {
            t.add_row(vec![
                kind.as_str(),
                message,
                exporter.as_deref().unwrap_or("all"),
            ]);
        }
        section("Telemetry data errors", t);
    }
    if !s.renderings.is_empty() {
        let mut t = table(&["env", "videos", "frames", "bytes", "last video"]);
        for (env, r) in &s.renderings {
            t.add_row(vec![
                Cell::new(env),
                right(r.videos),
                right(r.frames),
                right(r.bytes),
                Cell::new(&r.last_path),
            ]);
        }
        section("Renderings", t);
    }
    if !s.config.is_empty() {
        let mut t = table(&["run attribute", "value"]);
        for (k, v) in &s.config {
            t.add_row(vec![k, v]);
        }
        section("Run attributes", t);
    }
    out
}
