//! A drift report as one self-contained HTML file: summary, every feature's statistics in a
//! sortable table, and reference-vs-window histograms (inline SVG) for the most drifted and
//! the most important features. No network needed to open it, and small: no chart library
//! is embedded (a few hundred kilobytes for 419 features).

use std::fmt::Write;

use crate::drift::analysis::Baseline;
use crate::performance::report::Computed;
use crate::store::{DriftFeature, DriftReport};

/// Histograms drawn per group (most drifted, most important).
pub const CHARTS_PER_GROUP: usize = 8;
const BINS: usize = 20;

/// One feature's distributions on shared bins.
#[derive(Debug, Clone)]
pub struct Histogram {
    pub feature: String,
    pub edges: Vec<f64>,
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
}

/// Shares of reference and window values on 20 equal bins between the reference's 1st
/// and 99th percentiles (values outside fall in the end bins): `edges` are the 21 bin
/// bounds in the values' units, `reference` and `current` 20 shares each. The reference
/// ascending; values finite, of any magnitude: a range wider than `f64::MAX` is binned in
/// halved units, one whose bins would be subnormal in units scaled by 2^512 (both exact),
/// so the edges stay finite and in order and every value finds its bin. None when a
/// sample is empty.
pub fn histogram(feature: &str, sorted_reference: &[f64], current: &[f64]) -> Option<Histogram> {
    if sorted_reference.is_empty() || current.is_empty() {
        return None;
    }
    let mut lo = crate::drift::reference::quantile_sorted(sorted_reference, 0.01);
    let mut hi = crate::drift::reference::quantile_sorted(sorted_reference, 0.99);
    if hi <= lo {
        // A unit range; beyond 2^44 in magnitude, where it would leave too few distinct
        // numbers for the edges, 2^-44 of the magnitude.
        let pad = 1.0f64.max(lo.abs() * crate::drift::reference::pow2(-44));
        if lo + pad <= f64::MAX {
            hi = lo + pad;
        } else {
            (lo, hi) = (lo - pad, lo);
        }
    }
    let s = if !(hi - lo).is_finite() {
        0.5
    } else if (hi - lo) / (BINS as f64) < f64::MIN_POSITIVE {
        crate::drift::reference::pow2(512)
    } else {
        1.0
    };
    let (lo_s, hi_s) = (lo * s, hi * s);
    let width = (hi_s - lo_s) / BINS as f64;
    let edges: Vec<f64> = (0..=BINS)
        .map(|i| ((lo_s + width * i as f64) / s).clamp(-f64::MAX, f64::MAX))
        .collect();
    let shares = |values: &[f64]| {
        let mut counts = [0.0; BINS];
        for &v in values {
            // Infinite when `v * s` overflows (s > 1): the end bins, as it should.
            let i = ((v * s - lo_s) / width).floor();
            let i = if i.is_nan() {
                0
            } else {
                (i.max(0.0) as usize).min(BINS - 1)
            };
            counts[i] += 1.0;
        }
        let n = values.len() as f64;
        counts.iter().map(|c| c / n).collect::<Vec<_>>()
    };
    Some(Histogram {
        feature: feature.to_owned(),
        reference: shares(sorted_reference),
        current: shares(current),
        edges,
    })
}

/// The features to chart: the most drifted (smallest corrected p-value), then the most
/// important not already chosen.
pub fn charted_features(features: &[DriftFeature]) -> Vec<String> {
    let mut drifted: Vec<&DriftFeature> = features.iter().filter(|f| f.drift).collect();
    drifted.sort_by(|a, b| {
        a.p_adjusted
            .unwrap_or(1.0)
            .total_cmp(&b.p_adjusted.unwrap_or(1.0))
    });
    let mut chosen: Vec<String> = drifted
        .iter()
        .take(CHARTS_PER_GROUP)
        .map(|f| f.feature.clone())
        .collect();
    let mut important: Vec<&DriftFeature> = features.iter().collect();
    important.sort_by(|a, b| {
        b.importance
            .unwrap_or(0.0)
            .total_cmp(&a.importance.unwrap_or(0.0))
    });
    for f in important {
        if chosen.len() >= 2 * CHARTS_PER_GROUP {
            break;
        }
        if !chosen.contains(&f.feature) {
            chosen.push(f.feature.clone());
        }
    }
    chosen
}

/// Histograms of the charted features, from the baseline and the window's rows.
pub fn histograms(
    baseline: &Baseline,
    window: &crate::drift::analysis::Window,
    chosen: &[String],
) -> Vec<Histogram> {
    chosen
        .iter()
        .filter_map(|name| {
            let j = baseline.features.iter().position(|f| &f.feature == name)?;
            let current: Vec<f64> = window.columns[j].iter().filter(|v| !v.is_nan()).collect();
            histogram(name, &baseline.features[j].sorted_sample, &current)
        })
        .collect()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A value rounded for people.
fn num(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) if x.is_finite() => {
            if x != 0.0 && x.abs() < 1e-3 {
                format!("{x:.2e}")
            } else {
                format!("{x:.digits$}")
            }
        }
        _ => "".into(),
    }
}

/// ` data-v="..."` with a value's shortest exact text, for an element that shows it rounded.
fn data_v(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map_or(String::new(), |x| {
        format!(r#" data-v="{}""#, crate::numbers::shortest(x))
    })
}

/// `<tag data-v="...">shown</tag>`: a value shown rounded for people and written exactly
/// (the shortest text that reads back to the same double) in `data-v`, which the table
/// sorts by and a script can read; `empty` when there is no finite value.
fn exactly(tag: &str, v: Option<f64>, shown: impl FnOnce(f64) -> String, empty: &str) -> String {
    match v.filter(|x| x.is_finite()) {
        Some(x) => format!("<{tag}{}>{}</{tag}>", data_v(Some(x)), shown(x)),
        None => empty.to_string(),
    }
}

/// A share as a percentage for people.
fn percentage(share: f64) -> String {
    format!("{:.1}%", 100.0 * share)
}

/// A table cell of a value ([`exactly`]).
fn cell(v: Option<f64>, digits: usize) -> String {
    exactly("td", v, |x| num(Some(x), digits), "<td></td>")
}

/// A value in running text ([`exactly`]).
fn exact(v: Option<f64>, digits: usize) -> String {
    exactly("span", v, |x| num(Some(x), digits), "-")
}

/// A share as a percentage in running text, exact in `data-v` (the share itself).
fn exact_percent(v: Option<f64>) -> String {
    exactly("span", v, percentage, "-")
}

/// A share as a percentage cell, exact in `data-v` (the share itself, not the percentage).
fn percent(share: f64) -> String {
    exactly("td", Some(share), percentage, "<td></td>")
}

fn status_colour(status: &str) -> &'static str {
    match status {
        "OK" => "#1b7f3b",
        "WARNING" => "#b8860b",
        "ALERT" => "#b3261e",
        _ => "#555",
    }
}

fn svg(h: &Histogram) -> String {
    let (w, ht, pad) = (360.0, 140.0, 24.0);
    let max = h
        .reference
        .iter()
        .chain(&h.current)
        .copied()
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let bw = (w - 2.0 * pad) / BINS as f64;
    let mut out = format!(
        r##"<svg viewBox="0 0 {w} {ht}" width="{w}" height="{ht}" role="img" aria-label="{}"><line x1="{pad}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#999"/>"##,
        esc(&h.feature),
        y0 = ht - pad,
        x1 = w - pad
    );
    for (i, (r, c)) in h.reference.iter().zip(&h.current).enumerate() {
        let x = pad + bw * i as f64;
        let rh = (ht - 2.0 * pad) * r / max;
        let ch = (ht - 2.0 * pad) * c / max;
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{rh:.1}" fill="#8aa4c8"><title>reference {:.1}%</title></rect><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{ch:.1}" fill="#e07b39"><title>window {:.1}%</title></rect>"##,
            ht - pad - rh,
            bw / 2.0 - 0.5,
            100.0 * r,
            x + bw / 2.0,
            ht - pad - ch,
            bw / 2.0 - 0.5,
            100.0 * c
        );
    }
    let _ = write!(
        out,
        r#"<text x="{pad}" y="{}" font-size="10"{}>{}</text><text x="{}" y="{}" font-size="10" text-anchor="end"{}>{}</text></svg>"#,
        ht - 8.0,
        data_v(h.edges.first().copied()),
        num(h.edges.first().copied(), 3),
        w - pad,
        ht - 8.0,
        data_v(h.edges.last().copied()),
        num(h.edges.last().copied(), 3)
    );
    out
}

/// The whole page.
pub fn render(
    report: &DriftReport,
    features: &[DriftFeature],
    charts: &[Histogram],
    performance: Option<&Computed>,
) -> String {
    let mut out = String::with_capacity(64 * 1024 + 400 * features.len());
    let colour = status_colour(&report.status);
    let _ = write!(
        out,
        r##"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Drift report {id}: {status}</title><style>
body{{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d1d1f;max-width:1200px}}h1{{font-size:22px}}
.status{{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;background:{colour}}}
dl{{display:grid;grid-template-columns:max-content auto;gap:4px 16px}}dt{{color:#555}}code{{word-break:break-all}}
table{{border-collapse:collapse;width:100%;font-size:12px}}th,td{{padding:3px 6px;border-bottom:1px solid #e3e3e3;text-align:right}}
th{{cursor:pointer;position:sticky;top:0;background:#f6f6f6}}td:first-child,th:first-child,td:nth-child(2){{text-align:left}}
tr.drift td{{background:#fdecea}}.charts{{display:flex;flex-wrap:wrap;gap:12px}}figure{{margin:0}}figcaption{{font-size:12px}}
.key span{{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}}input{{padding:4px;width:260px}}
</style></head><body>
<h1>Drift report {id} <span class="status">{status}</span></h1>
<dl><dt>Window</dt><dd>{start} to {end} (UTC)</dd><dt>Model version</dt><dd>{mv}</dd>
<dt>Predictions</dt><dd>{n_cur} in the window; reference of {n_ref} rows</dd>
<dt>Drifted features</dt><dd>{drifted} of {analysed} ({share}; importance-weighted {wshare})</dd>
<dt>Score drift</dt><dd>PSI {spsi}, KS {sks} (p {sksp})</dd>
<dt>Refusal rate</dt><dd>{rcur} in the window, {rref} on the reference</dd>
<dt>Settings</dt><dd><code>{settings}</code></dd></dl>"##,
        id = report.id,
        status = esc(&report.status),
        start = report.window_start.format("%Y-%m-%d %H:%M:%S"),
        end = report.window_end.format("%Y-%m-%d %H:%M:%S"),
        mv = report.model_version,
        n_cur = report.n_current,
        n_ref = report.n_reference,
        drifted = report.n_features_drifted,
        analysed = report.n_features_analyzed,
        share = exact_percent(Some(report.drift_share)),
        wshare = exact_percent(report.weighted_drift_share),
        spsi = exact(report.score_psi, 3),
        sks = exact(report.score_ks_statistic, 3),
        sksp = exact(report.score_ks_p_value, 4),
        rcur = exact_percent(report.refusal_rate_cur),
        rref = exact_percent(report.refusal_rate_ref),
        settings = esc(&report.settings.to_string()),
    );
    if !charts.is_empty() {
        out.push_str(r##"<h2>Reference and window distributions</h2><p class="key">Share of values per bin (1st to 99th reference percentile):<span style="background:#8aa4c8"></span>reference<span style="background:#e07b39"></span>window</p><div class="charts">"##);
        for h in charts {
            let _ = write!(
                out,
                "<figure>{}<figcaption>{}</figcaption></figure>",
                svg(h),
                esc(&h.feature)
            );
        }
        out.push_str("</div>");
    }
    if let Some(p) = performance {
        performance_section(&mut out, p);
    }
    out.push_str(r#"<h2>Every feature</h2><p><input id="filter" placeholder="filter features" aria-label="filter features"> Click a column to sort.</p><table id="features"><thead><tr><th>feature</th><th>test</th><th>KS D</th><th>KS p</th><th>chi2</th><th>chi2 p</th><th>missing p</th><th>p adjusted</th><th>PSI</th><th>Wasserstein/sd</th><th>JS</th><th>missing ref</th><th>missing window</th><th>importance</th><th>drift</th></tr></thead><tbody>"#);
    for f in features {
        let _ = write!(
            out,
            "<tr{}><td>{}</td><td>{}</td>{}{}{}{}{}{}{}{}{}{}{}{}<td>{}</td></tr>",
            if f.drift { r#" class="drift""# } else { "" },
            esc(&f.feature),
            esc(&f.test),
            cell(f.ks_statistic, 3),
            cell(f.ks_p_value, 4),
            cell(f.chi2_statistic, 2),
            cell(f.chi2_p_value, 4),
            cell(f.missing_p_value, 4),
            cell(f.p_adjusted, 4),
            cell(f.psi, 3),
            cell(f.wasserstein_norm, 3),
            cell(f.jensen_shannon, 3),
            percent(f.missing_rate_ref),
            percent(f.missing_rate_cur),
            cell(f.importance, 1),
            if f.drift { "yes" } else { "" }
        );
    }
    out.push_str(r#"</tbody></table><script>
const t=document.getElementById('features'),b=t.tBodies[0];
document.getElementById('filter').addEventListener('input',e=>{const q=e.target.value.toLowerCase();for(const r of b.rows)r.hidden=!r.cells[0].textContent.toLowerCase().includes(q);});
t.tHead.addEventListener('click',e=>{const i=e.target.cellIndex;if(i===undefined)return;const asc=t.dataset.col==i&&t.dataset.dir!='asc';t.dataset.col=i;t.dataset.dir=asc?'asc':'desc';
const v=c=>{const d=c.cells[i].dataset.v;if(d!==undefined)return parseFloat(d);return c.cells[i].textContent;};
[...b.rows].sort((p,q)=>{const x=v(p),y=v(q);const r=typeof x=='number'&&typeof y=='number'?x-y:String(x).localeCompare(String(y));return asc?r:-r;}).forEach(r=>b.appendChild(r));});
</script></body></html>"#);
    out
}

/// The performance of the window's predictions, when some have outcomes: realised
/// figures, the ECB AUC test, the portfolio Jeffreys test, the CBPE estimate, and the grades.
fn performance_section(out: &mut String, p: &Computed) {
    let m = &p.metrics;
    let _ = write!(
        out,
        r#"<h2 id="performance">Performance of the window's predictions <span class="status" style="background:{colour}">{status}</span></h2>
<dl><dt>Outcomes</dt><dd>{nl} of {np} predictions labelled ({nla} approved, {nlr} refused), {nd} defaults; computed on {population}</dd>
<dt>ROC AUC</dt><dd>{auc} (95% CI {lo} to {hi}, DeLong); Gini {gini}</dd>
<dt>KS separation</dt><dd>{ks}</dd><dt>Brier score, log loss</dt><dd>{brier}, {ll}</dd>
<dt>ECB AUC test</dt><dd>{auc_test}</dd><dt>Portfolio Jeffreys test</dt><dd>p {jeffreys} (mean PD {pd}, default rate {dr})</dd>
<dt>Estimated ROC AUC (CBPE)</dt><dd>{est} (band {elo} to {ehi})</dd></dl>"#,
        colour = status_colour(p.status.as_str()),
        status = p.status.as_str(),
        nl = m.n_labelled,
        np = m.n_predictions,
        nla = m.n_labelled_approved,
        nlr = m.n_labelled_refused,
        nd = m.n_defaults,
        population = esc(&m.population),
        auc = exact(m.roc_auc, 4),
        lo = exact(m.roc_auc_ci_low, 4),
        hi = exact(m.roc_auc_ci_high, 4),
        gini = exact(m.gini, 4),
        ks = exact(m.ks_separation, 4),
        brier = exact(m.brier, 4),
        ll = exact(m.log_loss, 4),
        auc_test = match &m.auc_test {
            Some(t) => format!(
                "AUC at initial validation {}, S = {}, p {}",
                exact(Some(t.auc_initial), 4),
                exact(Some(t.statistic), 3),
                exact(Some(t.p_value), 4)
            ),
            None => "not computed".into(),
        },
        jeffreys = exact(m.jeffreys_p_value, 4),
        pd = exact_percent(m.mean_pd),
        dr = exact_percent(m.default_rate),
        est = exact(m.estimated_roc_auc, 4),
        elo = exact(m.estimated_roc_auc_ci_low, 4),
        ehi = exact(m.estimated_roc_auc_ci_high, 4),
    );
    if !m.notes.is_empty() {
        out.push_str("<ul>");
        for n in &m.notes {
            let _ = write!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul>");
    }
    out.push_str(r#"<table id="grades"><thead><tr><th>grade</th><th>PD from</th><th>PD to</th><th>N</th><th>defaults</th><th>mean PD</th><th>default rate</th><th>Jeffreys p</th></tr></thead><tbody>"#);
    for g in &p.grades {
        let _ = write!(
            out,
            "<tr><td>{}</td>{}{}<td>{}</td><td>{}</td>{}{}{}</tr>",
            g.grade,
            cell(Some(g.pd_low), 4),
            cell(Some(g.pd_high), 4),
            g.n,
            g.defaults,
            cell(g.mean_pd, 4),
            cell(g.default_rate, 4),
            cell(g.jeffreys_p_value, 4),
        );
    }
    out.push_str("</tbody></table>");
}
