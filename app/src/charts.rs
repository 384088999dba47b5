//! Charts: options built with `charming` on either side, drawn by ECharts in the browser.
//!
//! The server renders an empty, sized box; after hydration an effect hands the option to
//! ECharts (served from `/vendor/echarts.min.js`), which draws a canvas into the box. The
//! box carries `data-chart` (its name) and, once drawn, `data-drawn="true"`.

use charming::component::{Axis, Grid, Legend, Title};
use charming::datatype::DataPointItem;
use charming::element::{
    AxisLabel, AxisType, ItemStyle, MarkLine, MarkLineData, MarkLineVariant, NameLocation, Symbol,
    Tooltip, Trigger,
};
use charming::series::{Bar, Line, Pie};
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
        chart = chart.series(
            // Symbols, so that a lone point between gaps is seen.
            Line::new()
                .name(name)
                .show_symbol(true)
                .symbol_size(5)
                .item_style(ItemStyle::new().color(colour))
                .data(data),
        );
    }
    chart
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

/// Decision split as a ring.
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

/// Drift share per report (oldest first) over the OK / WARNING / ALERT bands.
pub fn drift_share_chart(labels: Vec<String>, shares: Vec<f64>, warning: f64, alert: f64) -> Chart {
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
    base("Share of drifted features per report (%)")
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .x_axis(category_axis(labels, "window end (UTC)"))
        .y_axis(value_axis("% drifted").min(0).max(top.min(100.0).ceil()))
        .series(
            Line::new()
                .name("drift share")
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
