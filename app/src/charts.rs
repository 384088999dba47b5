//! Charts: options built with `charming` on either side, drawn by ECharts in the browser.
//!
//! The server renders an empty, sized box; after hydration an effect hands the option to
//! ECharts (served from `/vendor/echarts.min.js`), which draws a canvas into the box. The
//! box carries `data-chart` (its name) and, once drawn, `data-drawn="true"`.
//!
//! Why one file of about 800 lines: every chart builder with its unit tests (about half
//! the file), so that a chart and what is checked of it sit together.

use charming::component::{Axis, Grid, Legend, Title};
use charming::datatype::DataPointItem;
use charming::element::{
    AxisLabel, AxisType, ItemStyle, MarkLine, MarkLineData, MarkLineVariant, NameLocation, Symbol,
    Tooltip, Trigger,
};
use charming::series::{Bar, Line, Pie, Scatter};
use charming::Chart;
use leptos::prelude::*;

/// One palette everywhere (the same colours as the stylesheet's badges).
pub mod colour {
    pub const APPROVED: &str = "#1b7f3b";
    pub const REFUSED: &str = "#b3261e";
    pub const OK: &str = "#1b7f3b";
    pub const WARNING: &str = "#b8860b";
    pub const ALERT: &str = "#b3261e";
    pub const BRAND: &str = "#1f3a5f";
    pub const SECOND: &str = "#6b8fb8";
    pub const THIRD: &str = "#b0c4de";
}

/// A chart box. `option` is called inside an effect, so a chart built from signals is
/// redrawn when they change.
#[component]
pub fn ChartView(
    /// Unique on the page; also the `data-chart` name tests look for.
    id: &'static str,
    option: impl Fn() -> Chart + 'static,
    /// CSS height of the box.
    #[prop(default = "320px")]
    height: &'static str,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    draw::on_mount(id, option);
    #[cfg(not(feature = "hydrate"))]
    let _ = option;
    view! {
        <div
            id=id
            class="chart"
            data-chart=id
            style=format!("height: {height}")
            role="img"
            aria-label=id.replace('-', " ")
        ></div>
    }
}

#[cfg(feature = "hydrate")]
mod draw {
    use charming::{Chart, Echarts, WasmRenderer};
    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        /// An ECharts instance, for the methods `charming` does not bind.
        type Instance;
        /// Fits the chart to its box again (after the window changed size).
        #[wasm_bindgen(method)]
        fn resize(this: &Instance);
        /// Frees the chart when its box leaves the page.
        #[wasm_bindgen(method)]
        fn dispose(this: &Instance);
    }

    fn instance(e: &Echarts) -> &Instance {
        e.unchecked_ref::<Instance>()
    }

    pub fn on_mount(id: &'static str, option: impl Fn() -> Chart + 'static) {
        let chart_instance = StoredValue::new_local(None::<Echarts>);
        Effect::new(move |_| {
            let chart = option();
            let drawn = chart_instance.with_value(|existing| existing.is_some());
            if drawn {
                chart_instance.with_value(|e| {
                    if let Some(e) = e {
                        WasmRenderer::update(e, &chart);
                    }
                });
                return;
            }
            match WasmRenderer::new_opt(None, None).render(id, &chart) {
                Ok(e) => {
                    chart_instance.set_value(Some(e));
                    if let Some(el) = document().get_element_by_id(id) {
                        let _ = el.set_attribute("data-drawn", "true");
                    }
                }
                Err(e) => leptos::logging::error!("chart {id}: {e:?}"),
            }
        });
        let on_resize = window_event_listener(leptos::ev::resize, move |_| {
            chart_instance.try_with_value(|e| {
                if let Some(e) = e {
                    instance(e).resize();
                }
            });
        });
        on_cleanup(move || {
            on_resize.remove();
            chart_instance.try_update_value(|e| {
                if let Some(e) = e.take() {
                    instance(&e).dispose();
                }
            });
        });
    }
}

fn titled(title: &str) -> Chart {
    Chart::new().title(
        Title::new()
            .text(title)
            .left("center")
            .text_style(charming::element::TextStyle::new().font_size(14)),
    )
}

/// A chart with a title and room for axis names and a legend below.
fn base(title: &str) -> Chart {
    titled(title).grid(
        Grid::new()
            .left(56)
            .right(24)
            .top(48)
            .bottom(56)
            .contain_label(true),
    )
}

fn value_axis(name: &str) -> Axis {
    Axis::new()
        .type_(AxisType::Value)
        .name(name)
        .name_location(NameLocation::Middle)
        .name_gap(48)
}

fn category_axis(labels: Vec<String>, name: &str) -> Axis {
    Axis::new()
        .type_(AxisType::Category)
        .data(labels)
        .name(name)
        .name_location(NameLocation::Middle)
        .name_gap(32)
}

/// Stacked bars of approved and refused decisions per time step.
pub fn volume_chart(
    labels: Vec<String>,
    approved: Vec<i64>,
    refused: Vec<i64>,
    step: &str,
) -> Chart {
    base(&format!("Decisions per {step}"))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().bottom(0))
        .x_axis(category_axis(labels, "time (UTC)"))
        .y_axis(value_axis("decisions"))
        .series(
            Bar::new()
                .name("APPROVED")
                .stack("decisions")
                .item_style(ItemStyle::new().color(colour::APPROVED))
                .data(approved),
        )
        .series(
            Bar::new()
                .name("REFUSED")
                .stack("decisions")
                .item_style(ItemStyle::new().color(colour::REFUSED))
                .data(refused),
        )
}

/// Lines of named series over the same time labels; `None` leaves a gap.
///
/// A value with no neighbour (the only bucket with data in the range, or one between two
/// empty buckets) has no segment to draw, and ECharts hides line symbols on a crowded
/// category axis, keeping only those under axis labels. Such values therefore also get a
/// dot of their own: a scatter series with the line's name and colour, so one legend entry
/// shows and hides both. (The axis tooltip lists such a value twice: charming's scatter
/// series has no `tooltip` option to leave it out.)
pub fn lines_chart(
    title: &str,
    labels: Vec<String>,
    y_name: &str,
    series: Vec<(&str, &str, Vec<Option<f64>>)>,
) -> Chart {
    let mut chart = base(title)
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().bottom(0))
        .x_axis(category_axis(labels, "time (UTC)"))
        .y_axis(value_axis(y_name));
    for (name, colour, data) in series {
        let lone = lone_points(&data);
        chart = chart.series(
            Line::new()
                .name(name)
                .show_symbol(true)
                .symbol_size(5)
                .item_style(ItemStyle::new().color(colour))
                .data(data),
        );
        if lone.iter().any(Option::is_some) {
            chart = chart.series(
                Scatter::new()
                    .name(name)
                    .symbol(Symbol::Circle)
                    .symbol_size(LONE_POINT_SIZE)
                    .item_style(ItemStyle::new().color(colour))
                    .data(lone),
            );
        }
    }
    chart
}

/// Diameter in pixels of the dot drawn for a value with no neighbour.
const LONE_POINT_SIZE: f64 = 7.0;

/// The values of `data` that have no neighbour (both adjacent entries empty or past the
/// ends), at their positions; `None` everywhere else.
fn lone_points(data: &[Option<f64>]) -> Vec<Option<f64>> {
    (0..data.len())
        .map(|i| {
            let before = i.checked_sub(1).and_then(|j| data[j]);
            let after = data.get(i + 1).copied().flatten();
            match (before, after) {
                (None, None) => data[i],
                _ => None,
            }
        })
        .collect()
}

/// Score histogram: stacked bars by decision, the bin holding the threshold marked.
pub fn score_histogram(approved: &[i64], refused: &[i64], threshold: f64) -> Chart {
    let n = approved.len().max(1);
    let width = 1.0 / n as f64;
    let labels: Vec<String> = (0..n).map(|i| format!("{:.2}", i as f64 * width)).collect();
    let threshold_bin = ((threshold / width).floor() as usize).min(n - 1);
    base("Scores (probability of default)")
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().bottom(0))
        .x_axis(category_axis(labels.clone(), "probability (bin start)"))
        .y_axis(value_axis("decisions"))
        .series(
            Bar::new()
                .name("APPROVED")
                .stack("scores")
                .bar_width("90%")
                .item_style(ItemStyle::new().color(colour::APPROVED))
                .data(approved.to_vec())
                .mark_line(
                    MarkLine::new()
                        .symbol(vec![Symbol::None, Symbol::None])
                        .label(charming::element::Label::new().formatter("{b}"))
                        .data(vec![MarkLineVariant::Simple(
                            MarkLineData::new()
                                .name(format!("threshold {threshold:.3}"))
                                .x_axis(labels[threshold_bin].clone()),
                        )]),
                ),
        )
        .series(
            Bar::new()
                .name("REFUSED")
                .stack("scores")
                .item_style(ItemStyle::new().color(colour::REFUSED))
                .data(refused.to_vec()),
        )
}

/// Decision split as a ring, each slice labelled with its count and share.
pub fn decision_split(n_approved: i64, n_refused: i64) -> Chart {
    let slice = |n: i64, name: &str, colour: &str| {
        DataPointItem::new(n)
            .name(name)
            .item_style(ItemStyle::new().color(colour))
    };
    titled("Decision split")
        .tooltip(Tooltip::new().trigger(Trigger::Item))
        .legend(Legend::new().bottom(0))
        .series(
            Pie::new()
                .name("decisions")
                .radius(vec!["45%", "70%"])
                .label(charming::element::Label::new().formatter("{b}: {c} ({d}%)"))
                .data(vec![
                    slice(n_approved, "APPROVED", colour::APPROVED),
                    slice(n_refused, "REFUSED", colour::REFUSED),
                ]),
        )
}

/// Horizontal bars, the first item at the top, each bar in its own colour.
pub fn horizontal_bars(
    title: &str,
    x_name: &str,
    items: Vec<(String, f64, &'static str)>,
) -> Chart {
    let names: Vec<String> = items.iter().rev().map(|(n, _, _)| n.clone()).collect();
    let data: Vec<DataPointItem> = items
        .iter()
        .rev()
        .map(|(_, v, c)| DataPointItem::new(*v).item_style(ItemStyle::new().color(*c)))
        .collect();
    titled(title)
        .grid(
            Grid::new()
                .left(8)
                .right(32)
                .top(40)
                .bottom(40)
                .contain_label(true),
        )
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .x_axis(value_axis(x_name).name_gap(28))
        .y_axis(
            Axis::new()
                .type_(AxisType::Category)
                .data(names)
                .axis_label(AxisLabel::new().font_size(11)),
        )
        .series(Bar::new().data(data))
}

/// Drift share per window (in the order given: oldest window end first) over the OK /
/// WARNING / ALERT bands; `which` names the reports plotted (e.g. "scheduled") in the title.
pub fn drift_share_chart(
    which: &str,
    labels: Vec<String>,
    shares: Vec<f64>,
    warning: f64,
    alert: f64,
) -> Chart {
    use charming::element::MarkArea;
    use charming::element::MarkAreaData;
    let band = |from: f64, to: f64, name: &str| {
        (
            MarkAreaData::new()
                .name(name)
                .y_axis(format!("{}", 100.0 * from)),
            MarkAreaData::new().y_axis(format!("{}", 100.0 * to)),
        )
    };
    let area = |from: f64, to: f64, name: &str, colour: &str| {
        MarkArea::new()
            .silent(true)
            .item_style(ItemStyle::new().color(colour).opacity(0.12))
            .data(vec![band(from, to, name)])
    };
    let percent: Vec<f64> = shares.iter().map(|s| (1000.0 * s).round() / 10.0).collect();
    let top = percent.iter().copied().fold(100.0 * alert + 10.0, f64::max);
    base(&format!("Share of drifted features (%), {which} reports"))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .x_axis(category_axis(labels, "window end (UTC)"))
        .y_axis(value_axis("% drifted").min(0).max(top.min(100.0).ceil()))
        .series(
            Line::new()
                .name("drift share")
                .show_symbol(true)
                .symbol_size(5)
                .item_style(ItemStyle::new().color(colour::BRAND))
                .data(percent)
                .mark_area(area(0.0, warning, "OK", colour::OK)),
        )
        .series(Line::new().name("WARNING").mark_area(area(
            warning,
            alert,
            "WARNING",
            colour::WARNING,
        )))
        .series(
            Line::new()
                .name("ALERT")
                .mark_area(area(alert, 1.0, "ALERT", colour::ALERT)),
        )
}

/// ROC AUC per report (in the order given: oldest cohort first): the realised AUC with its
/// 95% confidence band, the CBPE estimate (dashed: an estimate, not an observation) and, as
/// a line across, the AUC at initial validation; `which` names the reports plotted in the
/// title.
pub fn auc_chart(
    which: &str,
    labels: Vec<String>,
    realised: Vec<Option<f64>>,
    ci_low: Vec<Option<f64>>,
    ci_high: Vec<Option<f64>>,
    estimated: Vec<Option<f64>>,
    auc_initial: Option<f64>,
) -> Chart {
    use charming::element::{LineStyle, LineStyleType};
    let dashed = |colour: &str, width: f64| {
        LineStyle::new()
            .type_(LineStyleType::Dashed)
            .color(colour)
            .width(width)
    };
    // One edge of the confidence band; both share a legend entry.
    let band = |edge: Vec<Option<f64>>| {
        Line::new()
            .name("95% CI (DeLong)")
            .show_symbol(false)
            .line_style(dashed(colour::THIRD, 1.0))
            .item_style(ItemStyle::new().color(colour::THIRD))
            .data(edge)
    };
    let lowest = realised
        .iter()
        .chain(&ci_low)
        .chain(&estimated)
        .flatten()
        .copied()
        .chain(auc_initial)
        .fold(1.0f64, f64::min);
    let mut realised_line = Line::new()
        .name("ROC AUC (realised)")
        .show_symbol(true)
        .symbol_size(6)
        .item_style(ItemStyle::new().color(colour::BRAND))
        .data(realised);
    if let Some(a) = auc_initial {
        realised_line = realised_line.mark_line(
            MarkLine::new()
                .symbol(vec![Symbol::None, Symbol::None])
                // Above the line at its right end, inside the plot: never cut at the edge.
                .label(
                    charming::element::Label::new()
                        .formatter("{b}")
                        .position(charming::element::LabelPosition::InsideEndTop),
                )
                .line_style(dashed(colour::ALERT, 1.0))
                .data(vec![MarkLineVariant::Simple(
                    MarkLineData::new()
                        .name(format!("AUC at initial validation {a:.3}"))
                        .y_axis(a),
                )]),
        );
    }
    base(&format!("ROC AUC per cohort, {which} reports"))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().bottom(0))
        .x_axis(category_axis(labels, "cohort end (UTC)"))
        .y_axis(
            value_axis("ROC AUC")
                .min((lowest * 20.0).floor() / 20.0)
                .max(1),
        )
        .series(realised_line)
        .series(band(ci_low))
        .series(band(ci_high))
        .series(
            Line::new()
                .name("ROC AUC (CBPE estimate)")
                .show_symbol(true)
                .symbol(Symbol::Diamond)
                .symbol_size(6)
                .line_style(dashed(colour::SECOND, 2.0))
                .item_style(ItemStyle::new().color(colour::SECOND))
                .data(estimated),
        )
}

/// Calibration by PD grade: observed default rate (bars, coloured by the grade's Jeffreys
/// test) against the mean predicted PD (line), in percent.
pub fn calibration_chart(
    grades: Vec<String>,
    mean_pd: Vec<Option<f64>>,
    default_rate: Vec<Option<f64>>,
    light: Vec<&'static str>,
) -> Chart {
    let percent = |v: &[Option<f64>]| -> Vec<Option<f64>> {
        v.iter()
            .map(|x| x.map(|x| (x * 1e4).round() / 100.0))
            .collect()
    };
    let bars: Vec<DataPointItem> = percent(&default_rate)
        .into_iter()
        .zip(light)
        .map(|(v, c)| DataPointItem::new(v.unwrap_or(0.0)).item_style(ItemStyle::new().color(c)))
        .collect();
    base("Predicted PD and observed default rate by grade (%)")
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().bottom(0))
        .x_axis(category_axis(grades, "PD grade"))
        .y_axis(value_axis("%").min(0))
        .series(Bar::new().name("observed default rate").data(bars))
        .series(
            Line::new()
                .name("mean predicted PD")
                .show_symbol(true)
                .symbol_size(6)
                .item_style(ItemStyle::new().color(colour::BRAND))
                .data(percent(&mean_pd)),
        )
}

fn short(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() >= 1e5 || x.abs() < 1e-2 {
        format!("{x:.2e}")
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// Reference and window shares on the same bins.
pub fn distribution_histogram(edges: &[f64], reference: &[f64], window: &[f64]) -> Chart {
    let labels: Vec<String> = edges
        .iter()
        .take(reference.len())
        .map(|e| short(*e))
        .collect();
    let pct = |v: &[f64]| {
        v.iter()
            .map(|s| (1000.0 * s).round() / 10.0)
            .collect::<Vec<_>>()
    };
    base("Distribution: share of values per bin (%)")
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().bottom(0))
        .x_axis(category_axis(labels, "value (bin start)"))
        .y_axis(value_axis("% of values"))
        .series(
            Bar::new()
                .name("reference")
                .item_style(ItemStyle::new().color(colour::THIRD))
                .data(pct(reference)),
        )
        .series(
            Bar::new()
                .name("window")
                .item_style(ItemStyle::new().color(colour::BRAND))
                .data(pct(window)),
        )
}

/// Empirical cumulative distribution functions on a shared grid.
pub fn ecdf_chart(grid: &[f64], reference: &[f64], window: &[f64]) -> Chart {
    let pairs =
        |v: &[f64]| -> Vec<Vec<f64>> { grid.iter().zip(v).map(|(x, y)| vec![*x, *y]).collect() };
    base("Cumulative share of values (ECDF)")
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().bottom(0))
        .x_axis(value_axis("value").scale(true).name_gap(28))
        .y_axis(value_axis("share ≤ value").min(0).max(1))
        .series(
            Line::new()
                .name("reference")
                .show_symbol(false)
                .step(charming::element::Step::End)
                .item_style(ItemStyle::new().color(colour::THIRD))
                .data(pairs(reference)),
        )
        .series(
            Line::new()
                .name("window")
                .show_symbol(false)
                .step(charming::element::Step::End)
                .item_style(ItemStyle::new().color(colour::BRAND))
                .data(pairs(window)),
        )
}

// The tests read the option as ECharts receives it: the chart serialised to JSON (serde_json
// comes with the `ssr` feature, which the workspace's test command enables).
#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn option(chart: &Chart) -> Value {
        serde_json::to_value(chart).expect("a chart serialises to JSON")
    }

    fn series(o: &Value) -> &[Value] {
        o["series"].as_array().expect("a series list")
    }

    /// The series of ECharts type `kind` named `name`.
    fn find<'a>(o: &'a Value, kind: &str, name: &str) -> Option<&'a Value> {
        series(o)
            .iter()
            .find(|s| s["type"] == kind && s["name"] == name)
    }

    fn numbers(v: &Value) -> Vec<Option<f64>> {
        v.as_array()
            .expect("a data list")
            .iter()
            .map(Value::as_f64)
            .collect()
    }

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("10:{:02}", 15 * i)).collect()
    }

    #[test]
    fn lone_points_are_the_values_without_a_neighbour() {
        let data = [
            Some(1.0),
            None,
            Some(2.0),
            Some(3.0),
            None,
            Some(4.0),
            None,
            Some(5.0),
        ];
        assert_eq!(
            lone_points(&data),
            vec![
                Some(1.0),
                None,
                None,
                None,
                None,
                Some(4.0),
                None,
                Some(5.0)
            ]
        );
        assert_eq!(lone_points(&[Some(7.0)]), vec![Some(7.0)]);
        assert_eq!(lone_points(&[]), Vec::<Option<f64>>::new());
        assert_eq!(lone_points(&[None, None]), vec![None, None]);
    }

    #[test]
    fn a_single_point_in_range_is_drawn_as_a_dot() {
        let chart = lines_chart(
            "Refusal rate (%)",
            labels(5),
            "% refused",
            vec![(
                "refused",
                colour::REFUSED,
                vec![None, None, Some(12.5), None, None],
            )],
        );
        let o = option(&chart);
        let line = find(&o, "line", "refused").expect("the line series");
        assert_eq!(
            numbers(&line["data"]),
            vec![None, None, Some(12.5), None, None]
        );
        let dot = find(&o, "scatter", "refused").expect("a dot for the lone value");
        assert_eq!(
            numbers(&dot["data"]),
            vec![None, None, Some(12.5), None, None]
        );
        assert_eq!(dot["symbol"], "circle");
        assert_eq!(dot["symbolSize"].as_f64(), Some(LONE_POINT_SIZE));
        assert_eq!(dot["itemStyle"]["color"], colour::REFUSED);
    }

    #[test]
    fn a_bucket_between_empty_buckets_gets_a_dot_and_joined_values_do_not() {
        let chart = lines_chart(
            "Latency percentiles (ms)",
            labels(7),
            "ms",
            vec![
                (
                    "p50",
                    colour::THIRD,
                    vec![
                        Some(1.0),
                        Some(1.5),
                        None,
                        Some(2.0),
                        None,
                        Some(1.0),
                        Some(1.2),
                    ],
                ),
                ("p99", colour::BRAND, vec![Some(3.0); 7]),
            ],
        );
        let o = option(&chart);
        let dot = find(&o, "scatter", "p50").expect("a dot for the lone p50 value");
        assert_eq!(
            numbers(&dot["data"]),
            vec![None, None, None, Some(2.0), None, None, None]
        );
        assert_eq!(dot["itemStyle"]["color"], colour::THIRD);
        assert!(
            find(&o, "scatter", "p99").is_none(),
            "a series without lone values draws no extra dots"
        );
        let p99 = find(&o, "line", "p99").expect("the p99 line");
        assert_eq!(p99["showSymbol"], true);
        assert_eq!(p99["itemStyle"]["color"], colour::BRAND);
        assert_eq!(numbers(&p99["data"]), vec![Some(3.0); 7]);
    }

    #[test]
    fn lines_chart_names_its_axes_and_keeps_gaps() {
        let o = option(&lines_chart(
            "Latency percentiles (ms)",
            labels(3),
            "ms",
            vec![("p95", colour::SECOND, vec![Some(4.0), None, Some(6.0)])],
        ));
        assert_eq!(o["title"][0]["text"], "Latency percentiles (ms)");
        assert_eq!(o["xAxis"]["type"], "category");
        assert_eq!(o["xAxis"]["name"], "time (UTC)");
        assert_eq!(o["xAxis"]["data"], json!(["10:00", "10:15", "10:30"]));
        assert_eq!(o["yAxis"]["type"], "value");
        assert_eq!(o["yAxis"]["name"], "ms");
        assert_eq!(o["tooltip"]["trigger"], "axis");
        let line = find(&o, "line", "p95").expect("the p95 line");
        assert_eq!(numbers(&line["data"]), vec![Some(4.0), None, Some(6.0)]);
        assert!(line.get("connectNulls").is_none(), "gaps stay gaps");
        assert_eq!(
            find(&o, "scatter", "p95").map(|s| numbers(&s["data"])),
            Some(vec![Some(4.0), None, Some(6.0)]),
            "values at both ends next to a gap have no neighbour"
        );
    }

    #[test]
    fn volume_chart_stacks_decisions_per_step() {
        let o = option(&volume_chart(
            labels(2),
            vec![3, 0],
            vec![1, 2],
            "15 minutes",
        ));
        assert_eq!(o["title"][0]["text"], "Decisions per 15 minutes");
        assert_eq!(o["xAxis"]["data"], json!(["10:00", "10:15"]));
        assert_eq!(o["yAxis"]["name"], "decisions");
        for (name, colour, data) in [
            ("APPROVED", colour::APPROVED, [3.0, 0.0]),
            ("REFUSED", colour::REFUSED, [1.0, 2.0]),
        ] {
            let bars = find(&o, "bar", name).expect("a bar series per decision");
            assert_eq!(bars["stack"], "decisions");
            assert_eq!(bars["itemStyle"]["color"], colour);
            assert_eq!(numbers(&bars["data"]), data.map(Some).to_vec());
        }
        assert_eq!(series(&o).len(), 2);
    }

    #[test]
    fn score_histogram_marks_the_bin_that_holds_the_threshold() {
        let approved = [5, 4, 3, 2, 1, 0, 0, 0, 0, 0];
        let refused = [0, 0, 0, 0, 0, 1, 2, 0, 0, 1];
        let o = option(&score_histogram(&approved, &refused, 0.52));
        let bins: Vec<String> = (0..10).map(|i| format!("0.{i}0")).collect();
        assert_eq!(o["xAxis"]["data"], json!(bins));
        let approved_bars = find(&o, "bar", "APPROVED").expect("approved bars");
        assert_eq!(approved_bars["stack"], "scores");
        let marks = approved_bars["markLine"]["data"]
            .as_array()
            .expect("a threshold line");
        assert_eq!(marks.len(), 1);
        assert_eq!(marks[0]["xAxis"], "0.50");
        assert_eq!(marks[0]["name"], "threshold 0.520");
        let refused_bars = find(&o, "bar", "REFUSED").expect("refused bars");
        assert_eq!(
            numbers(&refused_bars["data"]),
            refused.map(|n| Some(n as f64)).to_vec()
        );

        // A threshold of 1 falls in the last bin, not past the axis.
        let o = option(&score_histogram(&approved, &refused, 1.0));
        let approved_bars = find(&o, "bar", "APPROVED").expect("approved bars");
        assert_eq!(approved_bars["markLine"]["data"][0]["xAxis"], "0.90");
    }

    #[test]
    fn decision_split_is_a_ring_of_the_two_counts() {
        let o = option(&decision_split(30, 10));
        let pie = find(&o, "pie", "decisions").expect("a pie");
        assert_eq!(pie["radius"], json!(["45%", "70%"]));
        assert_eq!(
            pie["label"]["formatter"], "{b}: {c} ({d}%)",
            "each slice shows its count and percentage"
        );
        let slices = pie["data"].as_array().expect("slices");
        assert_eq!(slices.len(), 2);
        assert_eq!(slices[0]["name"], "APPROVED");
        assert_eq!(slices[0]["value"].as_f64(), Some(30.0));
        assert_eq!(slices[0]["itemStyle"]["color"], colour::APPROVED);
        assert_eq!(slices[1]["name"], "REFUSED");
        assert_eq!(slices[1]["value"].as_f64(), Some(10.0));
        assert_eq!(slices[1]["itemStyle"]["color"], colour::REFUSED);
    }

    #[test]
    fn horizontal_bars_put_the_first_item_at_the_top() {
        let o = option(&horizontal_bars(
            "Feature importance",
            "gain",
            vec![
                ("EXT_SOURCE_2".into(), 9.0, colour::BRAND),
                ("DAYS_BIRTH".into(), 4.0, colour::SECOND),
            ],
        ));
        assert_eq!(o["xAxis"]["name"], "gain");
        // ECharts draws a category axis from the bottom up.
        assert_eq!(o["yAxis"]["data"], json!(["DAYS_BIRTH", "EXT_SOURCE_2"]));
        let bars = &series(&o)[0];
        assert_eq!(bars["data"][0]["value"].as_f64(), Some(4.0));
        assert_eq!(bars["data"][0]["itemStyle"]["color"], colour::SECOND);
        assert_eq!(bars["data"][1]["value"].as_f64(), Some(9.0));
        assert_eq!(bars["data"][1]["itemStyle"]["color"], colour::BRAND);
    }

    #[test]
    fn auc_chart_draws_the_estimate_dashed_and_the_initial_auc_across() {
        let o = option(&auc_chart(
            "matured",
            labels(2),
            vec![Some(0.86), None],
            vec![Some(0.8), None],
            vec![Some(0.92), None],
            vec![Some(0.85), Some(0.84)],
            Some(0.87),
        ));
        let realised = find(&o, "line", "ROC AUC (realised)").expect("the realised line");
        assert_eq!(numbers(&realised["data"]), vec![Some(0.86), None]);
        assert_eq!(
            realised["markLine"]["data"][0]["yAxis"].as_f64(),
            Some(0.87)
        );
        let estimate = find(&o, "line", "ROC AUC (CBPE estimate)").expect("the estimate");
        assert_eq!(estimate["lineStyle"]["type"], "dashed");
        assert_eq!(numbers(&estimate["data"]), vec![Some(0.85), Some(0.84)]);
        assert_eq!(o["yAxis"]["min"].as_f64(), Some(0.8));
        assert_eq!(o["yAxis"]["max"].as_f64(), Some(1.0));
    }

    #[test]
    fn calibration_chart_shows_percentages_and_lights() {
        let o = option(&calibration_chart(
            vec!["1".into(), "2".into()],
            vec![Some(0.0123), None],
            vec![Some(0.02), None],
            vec![colour::OK, colour::ALERT],
        ));
        let bars = find(&o, "bar", "observed default rate").expect("the bars");
        assert_eq!(bars["data"][0]["value"].as_f64(), Some(2.0));
        assert_eq!(bars["data"][1]["itemStyle"]["color"], colour::ALERT);
        let line = find(&o, "line", "mean predicted PD").expect("the PD line");
        assert_eq!(numbers(&line["data"]), vec![Some(1.23), None]);
    }

    #[test]
    fn drift_share_chart_shows_percentages_over_the_status_bands() {
        let o = option(&drift_share_chart(
            "scheduled",
            vec!["d1".into(), "d2".into()],
            vec![0.12345, 0.5],
            0.2,
            0.4,
        ));
        let line = find(&o, "line", "drift share").expect("the drift share line");
        assert_eq!(numbers(&line["data"]), vec![Some(12.3), Some(50.0)]);
        assert_eq!(o["yAxis"]["min"].as_f64(), Some(0.0));
        assert_eq!(
            o["yAxis"]["max"].as_f64(),
            Some(50.0),
            "the axis reaches the largest of the shares and the ALERT band's start + 10"
        );
        let band = |s: &Value| -> (String, f64, f64) {
            let area = &s["markArea"]["data"][0];
            let at = |v: &Value| v["yAxis"].as_str().unwrap().parse::<f64>().unwrap();
            (
                area[0]["name"].as_str().unwrap().to_string(),
                at(&area[0]),
                at(&area[1]),
            )
        };
        let bands: Vec<(String, f64, f64)> = series(&o).iter().map(band).collect();
        let expected = [
            ("OK", 0.0, 20.0),
            ("WARNING", 20.0, 40.0),
            ("ALERT", 40.0, 100.0),
        ];
        assert_eq!(bands.len(), expected.len());
        for ((name, from, to), (want, lo, hi)) in bands.iter().zip(expected) {
            assert_eq!(name, want);
            assert!(
                (from - lo).abs() < 1e-9 && (to - hi).abs() < 1e-9,
                "{name}: {from}..{to}"
            );
        }

        // Small shares: the axis still shows the ALERT band's start.
        let o = option(&drift_share_chart(
            "scheduled",
            vec!["d1".into()],
            vec![0.0],
            0.2,
            0.4,
        ));
        assert_eq!(o["yAxis"]["max"].as_f64(), Some(50.0));
        // Never past 100 %.
        let o = option(&drift_share_chart(
            "scheduled",
            vec!["d1".into()],
            vec![1.0],
            0.2,
            0.95,
        ));
        assert_eq!(o["yAxis"]["max"].as_f64(), Some(100.0));
    }

    #[test]
    fn distribution_histogram_labels_bins_by_their_start() {
        let o = option(&distribution_histogram(
            &[0.0, 0.5, 250.0, 1e6],
            &[0.25, 0.5, 0.25],
            &[0.1, 0.3334, 0.5666],
        ));
        assert_eq!(o["xAxis"]["data"], json!(["0", "0.50", "250"]));
        let reference = find(&o, "bar", "reference").expect("reference bars");
        assert_eq!(
            numbers(&reference["data"]),
            vec![Some(25.0), Some(50.0), Some(25.0)]
        );
        let window = find(&o, "bar", "window").expect("window bars");
        assert_eq!(
            numbers(&window["data"]),
            vec![Some(10.0), Some(33.3), Some(56.7)]
        );
    }

    #[test]
    fn ecdf_chart_draws_steps_on_the_shared_grid() {
        let o = option(&ecdf_chart(&[1.0, 2.0], &[0.5, 1.0], &[0.25, 1.0]));
        assert_eq!(o["yAxis"]["max"].as_f64(), Some(1.0));
        let reference = find(&o, "line", "reference").expect("reference line");
        assert_eq!(reference["step"], "end");
        assert_eq!(reference["showSymbol"], false);
        assert_eq!(reference["data"], json!([[1.0, 0.5], [2.0, 1.0]]));
        let window = find(&o, "line", "window").expect("window line");
        assert_eq!(window["data"], json!([[1.0, 0.25], [2.0, 1.0]]));
    }

    #[test]
    fn short_numbers_keep_two_significant_places() {
        assert_eq!(short(0.0), "0");
        assert_eq!(short(0.004), "4.00e-3");
        assert_eq!(short(3.5), "3.50");
        assert_eq!(short(-250.4), "-250");
        assert_eq!(short(123_456.0), "1.23e5");
    }
}
