//! Printing results: a table, and an SVG chart of room-list latency against rooms per user.

use std::path::{Path, PathBuf};

use crate::load::Outcome;

/// Prints the outcomes as a table.
pub fn table(outcomes: &[Outcome]) {
    println!(
        "{:<52} {:>10} {:>8} {:>8} {:>8} {:>8} {:>7} {:>10}  {:<28} note",
        "scenario", "ops/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "ratio", "srv us/op", "target"
    );
    for o in outcomes {
        let ratio = o
            .ratio_to_baseline
            .map_or("-".into(), |r| format!("{r:.2}"));
        let cpu = if o.server_cpu_us_per_op > 0.0 {
            format!("{:.0}", o.server_cpu_us_per_op)
        } else {
            "-".into()
        };
        println!(
            "{:<52} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>10}  {:<28} {}",
            o.scenario,
            o.per_second,
            o.p50_ms,
            o.p90_ms,
            o.p99_ms,
            o.max_ms,
            ratio,
            cpu,
            o.target,
            o.note
        );
    }
}

/// One measurement: rooms per user, p50 ms, p99 ms.
type Point = (f64, f64, f64);

/// Draws p50 and p99 of `get_list_by_user` against rooms per user, explicit and by role, from
/// one or more result files (a dataset ten times larger can be drawn beside the default one).
pub fn chart(inputs: &[PathBuf], out: &Path) -> Result<(), String> {
    let mut series: Vec<(String, Vec<Point>)> = Vec::new();
    for input in inputs {
        let text =
            std::fs::read_to_string(input).map_err(|e| format!("{}: {e}", input.display()))?;
        let outcomes: Vec<serde_json::Value> =
            serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let name = input
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for kind in ["explicit", "role"] {
            let mut points: Vec<Point> = outcomes
                .iter()
                .filter(|o| {
                    o["scenario"]
                        .as_str()
                        .is_some_and(|s| s.contains("get_list_by_user") && s.contains(kind))
                })
                .filter_map(|o| {
                    let rooms = o["note"]
                        .as_str()?
                        .split("rooms=")
                        .nth(1)?
                        .split_whitespace()
                        .next()?
                        .parse()
                        .ok()?;
                    Some((rooms, o["p50_ms"].as_f64()?, o["p99_ms"].as_f64()?))
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            if !points.is_empty() {
                series.push((format!("{name} {kind}"), points));
            }
        }
    }
    if series.is_empty() {
        return Err("no get_list_by_user results in the inputs".into());
    }
    let (w, h, left, bottom, top, right) = (760.0, 440.0, 70.0, 50.0, 30.0, 220.0);
    // Both axes are logarithmic: a cost proportional to rooms per user is a straight line.
    let max_y = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.2))
        .fold(1.0f64, f64::max);
    let (low, high) = (0.1f64, 10f64.powf(max_y.log10().ceil()));
    let x_of = |rooms: f64| left + (rooms.max(1.0).log10() / 5.0) * (w - left - right);
    let y_of = |ms: f64| {
        let fraction = (ms.max(low) / low).log10() / (high / low).log10();
        h - bottom - fraction * (h - bottom - top)
    };
    let colors = [
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
    ];
    let mut svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' font-family='sans-serif' font-size='12'>\n\
         <rect width='100%' height='100%' fill='white'/>\n\
         <text x='{left}' y='18' font-size='14'>get_list_by_user latency vs rooms per user (solid p99, dashed p50)</text>\n"
    );
    for decade in 0..=5 {
        let x = x_of(10f64.powi(decade));
        svg += &format!(
            "<line x1='{x}' y1='{top}' x2='{x}' y2='{}' stroke='#ddd'/><text x='{x}' y='{}' text-anchor='middle'>{}</text>\n",
            h - bottom,
            h - bottom + 16.0,
            10u64.pow(decade as u32)
        );
    }
    let mut ms = low;
    while ms <= high * 1.0001 {
        let y = y_of(ms);
        svg += &format!(
            "<line x1='{left}' y1='{y}' x2='{}' y2='{y}' stroke='#eee'/><text x='{}' y='{}' text-anchor='end'>{ms}</text>\n",
            w - right,
            left - 6.0,
            y + 4.0
        );
        ms *= 10.0;
    }
    svg += &format!(
        "<text x='{}' y='{}' text-anchor='middle'>rooms per user (log scale)</text>\n<text x='16' y='{}' transform='rotate(-90 16 {})' text-anchor='middle'>ms (log scale)</text>\n",
        (left + w - right) / 2.0,
        h - 12.0,
        h / 2.0,
        h / 2.0
    );
    for (i, (name, points)) in series.iter().enumerate() {
        let color = colors[i % colors.len()];
        for (pick, dash) in [(2usize, ""), (1, " stroke-dasharray='5,4'")] {
            let path: Vec<String> = points
                .iter()
                .map(|p| {
                    format!(
                        "{:.1},{:.1}",
                        x_of(p.0),
                        y_of(if pick == 2 { p.2 } else { p.1 })
                    )
                })
                .collect();
            svg += &format!(
                "<polyline fill='none' stroke='{color}' stroke-width='2'{dash} points='{}'/>\n",
                path.join(" ")
            );
        }
        for p in points {
            svg += &format!(
                "<circle cx='{:.1}' cy='{:.1}' r='3' fill='{color}'/>\n",
                x_of(p.0),
                y_of(p.2)
            );
        }
        let ly = top + 20.0 + i as f64 * 18.0;
        svg += &format!(
            "<line x1='{}' y1='{ly}' x2='{}' y2='{ly}' stroke='{color}' stroke-width='2'/><text x='{}' y='{}'>{name}</text>\n",
            w - right + 10.0,
            w - right + 30.0,
            w - right + 36.0,
            ly + 4.0
        );
    }
    svg += "</svg>\n";
    std::fs::write(out, svg).map_err(|e| e.to_string())
}
