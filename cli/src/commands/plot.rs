//! `telemetron plot RUN.jsonl METRIC... -o out.png|out.svg`: one line chart per metric name
//! (plotters), stacked; every series of the name is a line (labels in the legend). An RL series
//! draws one line per environment (each call's mean per environment), or with `--rl mean` the
//! mean over environments with a min-max band.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use telemetron::model::{Record, TimestampsMs, Values};
use telemetron::reader::ReadItem;

use super::format::series_label;
use crate::args::{RlMode, XAxis};
use crate::error::CliError;
use crate::input::{report_skipped, RunInput};
use crate::Host;

pub(crate) struct PlotRequest {
    pub metrics: Vec<String>,
    pub output: PathBuf,
    pub x: XAxis,
    pub smooth: usize,
    pub rl: RlMode,
    pub size: (u32, u32),
}

/// One line: its label and points (x, y).
type Line = (String, Vec<(f64, f64)>);

/// One chart: the metric's lines, and bands (label, x, low, high) for `--rl mean`.
#[derive(Default)]
struct Chart {
    lines: BTreeMap<String, Vec<(f64, f64)>>,
    bands: Vec<(f64, f64, f64)>,
}

enum Format {
    Png,
    Svg,
}

fn format_of(path: &Path) -> Result<Format, CliError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => Err(CliError::Usage(format!(
            "-o {}: the chart is written as .png or .svg",
            path.display()
        ))),
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

pub(super) fn run(path: &Path, req: &PlotRequest, host: &Host) -> Result<(), CliError> {
    let format = format_of(&req.output)?;
    let wanted: BTreeSet<&str> = req.metrics.iter().map(String::as_str).collect();
    let mut input = RunInput::open(path, true, "plot", host)?;
    let mut charts: BTreeMap<String, Chart> = BTreeMap::new();
    // --rl mean: per (metric, rl_step or time): the environments' values.
    let mut rl_points: BTreeMap<String, BTreeMap<u64, Vec<f64>>> = BTreeMap::new();
    let mut all_names: BTreeSet<String> = BTreeSet::new();
    let mut first_ms: Option<f64> = None;
    let x_time = |ms: f64, first: &mut Option<f64>| -> f64 {
        let f = *first.get_or_insert(ms);
        (ms - f) / 1000.0
    };
    while let Some(item) = input.next_item()? {
        let ReadItem::Record(record) = item else {
            continue;
        };
        match record {
            Record::Metric(_) | Record::Scalar(_) => {
                let Some(m) = record.metric_points() else {
                    continue;
                };
                all_names.insert(m.series.name().to_string());
                if !wanted.contains(m.series.name()) {
                    continue;
                }
                let line = charts
                    .entry(m.series.name().to_string())
                    .or_default()
                    .lines
                    .entry(series_label(&m.series))
                    .or_default();
                let values = m.values.to_f64();
                for (i, v) in values.into_iter().enumerate() {
                    let x = match req.x {
                        XAxis::Step => m.steps[i] as f64,
                        XAxis::Time => {
                            let ms = match &m.timestamps_ms {
                                TimestampsMs::Each(t) => t[i] as f64,
                                TimestampsMs::One(t) => *t as f64,
                                TimestampsMs::None => m.time.0 as f64 / 1e6,
                            };
                            x_time(ms, &mut first_ms)
                        }
                    };
                    line.push((x, v));
                }
            }
            Record::Rl(r) => {
                all_names.insert(r.series.name().to_string());
                if !wanted.contains(r.series.name()) {
                    continue;
                }
                let x = match req.x {
                    XAxis::Step => r.rl_step as f64,
                    XAxis::Time => {
                        let ms = match &r.timestamps_ms {
                            TimestampsMs::One(t) => *t as f64,
                            TimestampsMs::Each(t) => {
                                t.first().map_or(r.time.0 as f64 / 1e6, |t| *t as f64)
                            }
                            TimestampsMs::None => r.time.0 as f64 / 1e6,
                        };
                        x_time(ms, &mut first_ms)
                    }
                };
                let values = match &r.values {
                    Values::F32(v) => v.iter().map(|x| f64::from(*x)).collect(),
                    Values::F64(v) => v.clone(),
                };
                let per_env = r.per_env.max(1);
                let label = series_label(&r.series);
                for (env, row) in r.envs.iter().zip(values.chunks(per_env)) {
                    let y = mean(row);
                    match req.rl {
                        RlMode::Envs => charts
                            .entry(r.series.name().to_string())
                            .or_default()
                            .lines
                            .entry(format!("{label} {env}"))
                            .or_default()
                            .push((x, y)),
                        RlMode::Mean => rl_points
                            .entry(label.clone())
                            .or_default()
                            .entry(x.to_bits())
                            .or_default()
                            .push(y),
                    }
                }
                if req.rl == RlMode::Mean {
                    charts.entry(r.series.name().to_string()).or_default();
                }
            }
            _ => {}
        }
    }
    report_skipped(&input.stats());
    if let Some(missing) = req.metrics.iter().find(|m| !all_names.contains(*m)) {
        let known: Vec<&str> = all_names.iter().map(String::as_str).collect();
        return Err(CliError::Usage(format!(
            "no metric named {missing:?} in {} (its metrics: {})",
            path.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    for (label, by_x) in rl_points {
        let name = label.split('{').next().unwrap_or(&label).to_string();
        let chart = charts.entry(name).or_default();
        let mut points: Vec<(f64, f64)> = Vec::new();
        for (bits, ys) in by_x {
            let x = f64::from_bits(bits);
            let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            chart.bands.push((x, lo, hi));
            points.push((x, mean(&ys)));
        }
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart.bands.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart.lines.insert(format!("{label} mean"), points);
    }
    for chart in charts.values_mut() {
        for points in chart.lines.values_mut() {
            *points = smooth(points, req.smooth);
        }
    }
    let ordered: Vec<(&str, &Chart)> = req
        .metrics
        .iter()
        .filter_map(|m| charts.get(m).map(|c| (m.as_str(), c)))
        .collect();
    let text = super::plot_font::available();
    let x_label = match req.x {
        XAxis::Step => "step",
        XAxis::Time => "seconds",
    };
    let drawn = match format {
        Format::Png => {
            let root = BitMapBackend::new(&req.output, req.size).into_drawing_area();
            draw(root, &ordered, x_label, text)
        }
        Format::Svg => {
            let root = SVGBackend::new(&req.output, req.size).into_drawing_area();
            draw(root, &ordered, x_label, text)
        }
    };
    drawn.map_err(|e| CliError::write(&req.output, std::io::Error::other(e)))
}

/// Trailing moving average over `n` points.
fn smooth(points: &[(f64, f64)], n: usize) -> Vec<(f64, f64)> {
    if n <= 1 {
        return points.to_vec();
    }
    let mut sum = 0.0;
    points
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| {
            sum += y;
            if i >= n {
                sum -= points[i - n].1;
            }
            (x, sum / (i + 1).min(n) as f64)
        })
        .collect()
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if lo == hi {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    charts: &[(&str, &Chart)],
    x_label: &str,
    text: bool,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let areas = root.split_evenly((charts.len().max(1), 1));
    for ((name, chart), area) in charts.iter().zip(areas) {
        let lines: Vec<Line> = chart
            .lines
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let (x0, x1) = range(lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)));
        let (y0, y1) = range(
            lines
                .iter()
                .flat_map(|(_, p)| p.iter().map(|q| q.1))
                .chain(chart.bands.iter().flat_map(|b| [b.1, b.2])),
        );
        let mut builder = ChartBuilder::on(&area);
        builder.margin(12);
        if text {
            builder
                .caption(*name, ("sans-serif", 20))
                .x_label_area_size(36)
                .y_label_area_size(64);
        }
        let mut ctx = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(e)?;
        let mut mesh = ctx.configure_mesh();
        if text {
            mesh.x_desc(x_label);
        } else {
            mesh.x_labels(0).y_labels(0);
        }
        mesh.draw().map_err(e)?;
        if !chart.bands.is_empty() {
            let band: Vec<(f64, f64)> = chart
                .bands
                .iter()
                .map(|b| (b.0, b.2))
                .chain(chart.bands.iter().rev().map(|b| (b.0, b.1)))
                .collect();
            ctx.draw_series(std::iter::once(Polygon::new(band, BLUE.mix(0.15))))
                .map_err(e)?;
        }
        for (i, (label, points)) in lines.into_iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let series = ctx
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(e)?;
            if text {
                series.label(label).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
            }
        }
        if text {
            ctx.configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(e)?;
        }
    }
    root.present().map_err(e)
}
