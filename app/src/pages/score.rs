//! `/score`: a credit officer scores one application. The most important features come first
//! with their reference ranges as hints; any other feature can be pasted as JSON. The
//! decision is stored like any other (source `ui`) and explained by its SHAP contributions.

use leptos::prelude::*;

use super::value_text;
use crate::components::{DecisionBadge, OutsideTrainingNotice};
use leptos::server_fn::codec::Json;
use leptos_router::components::A;

use crate::charts::{self, colour, ChartView};
use crate::dto::{ExplanationView, ScoreField, ScoreInput, ScoreResultView};

/// How many features the form shows (by importance).
#[cfg(feature = "ssr")]
const FORM_FIELDS: usize = 12;
/// How many contributions the result lists.
#[cfg(feature = "ssr")]
const SHOWN_CONTRIBUTIONS: usize = 15;

/// The form's fields: the most important features with their training statistics.
#[server(endpoint = "score_form")]
pub async fn score_form() -> Result<Vec<ScoreField>, ServerFnError> {
    crate::auth::require(crate::auth::Need::Score).await?;
    use scorewatch_core::{state::AppState, store};
    let state = expect_context::<AppState>();
    let v = &state.model.version;
    let stats = store::reference_stats(&state.pool, v.id)
        .await
        .map_err(crate::read_failed("reading reference statistics"))?;
    let mut order: Vec<usize> = (0..v.feature_names.len()).collect();
    order.sort_by(|&i, &j| v.importances[j].total_cmp(&v.importances[i]));
    Ok(order
        .into_iter()
        .take(FORM_FIELDS)
        .map(|i| {
            let name = &v.feature_names[i];
            let s = stats.iter().find(|s| &s.feature == name);
            let range = state.model.training.feature(i);
            ScoreField {
                name: name.clone(),
                unit: unit_hint(name).to_string(),
                median: s.and_then(|s| s.median),
                q25: s.and_then(|s| s.q25),
                q75: s.and_then(|s| s.q75),
                missing_rate: s.map(|s| s.missing_rate),
                min: range.and_then(|r| r.min_max).map(|m| m.0),
                max: range.and_then(|r| r.min_max).map(|m| m.1),
                values: range.and_then(|r| r.values.clone()),
            }
        })
        .collect())
}

/// What a feature's values mean, from the Home Credit naming conventions.
#[cfg(feature = "ssr")]
fn unit_hint(name: &str) -> &'static str {
    let has = |p: &str| name.starts_with(p) || name.contains(&format!("_{p}"));
    if name.starts_with("EXT_SOURCE") {
        "external credit score, 0 to 1"
    } else if name.contains("RATE") || name.contains("RATIO") || name.contains("PERC") {
        "ratio"
    } else if has("DAYS_") {
        "days relative to the application (negative: before)"
    } else if has("AMT_") {
        "amount in the loan's currency"
    } else if has("CNT_") {
        "count"
    } else if has("FLAG_") || name.starts_with("CODE_GENDER") || name.starts_with("NAME_") {
        "0 or 1"
    } else {
        "number"
    }
}

/// Scores and stores one application from the form's fields and an optional JSON object
/// of any other features (form fields win over the same name in the JSON).
#[server(input = Json, endpoint = "score_application")]
pub async fn score_application(input: ScoreInput) -> Result<ScoreResultView, ServerFnError> {
    crate::auth::require(crate::auth::Need::Score).await?;
    use scorewatch_core::ingest::writer::WriteError;
    use scorewatch_core::model::application::Application;
    use scorewatch_core::model::predict::{self, Explain, Explanations, ScoreError, ScoreRequest};
    use scorewatch_core::model::prediction::Source;
    use scorewatch_core::state::AppState;
    let state = expect_context::<AppState>();
    let invalid = |e: String| crate::user_error(http::StatusCode::UNPROCESSABLE_ENTITY, e);
    let body = application_json(input).map_err(invalid)?;
    let application = Application::from_json(&body, &state.model.model)
        .map_err(|e| invalid(format!("the application is not valid JSON: {e}")))?
        .map_err(|e| invalid(e.to_string()))?;
    let request = ScoreRequest {
        applications: vec![application],
        source: Source::Ui,
        request_id: None,
        explain: Explain::IfAvailable {
            top: SHOWN_CONTRIBUTIONS,
        },
    };
    let scored = predict::score_and_store(&state, request)
        .await
        .map_err(|e| {
            ServerFnError::new(match e {
                ScoreError::Store(WriteError::Overloaded) => {
                    "the service is busy storing decisions; try again in a second"
                }
                ScoreError::Store(WriteError::ShuttingDown) => {
                    "the server is shutting down; nothing was stored"
                }
                ScoreError::Store(_) => {
                    "the decision could not be stored: the database is unavailable"
                }
                ScoreError::NotExplainable | ScoreError::Internal(_) => {
                    tracing::error!(error = %format!("{:#}", anyhow::Error::from(e)), "scoring from the dashboard");
                    "the model could not score this application"
                }
            })
        })?;
    let p = scored.decisions[0].clone();
    let explanation = match scored.explanations {
        Explanations::Given(mut given) => Ok(given.remove(0)),
        Explanations::Unavailable(why) => Err(why),
        Explanations::NotAsked => Err(String::new()),
    };
    tracing::info!(prediction_id = %p.prediction_id, decision = p.decision.as_str(), "scored from the dashboard");
    Ok(ScoreResultView {
        prediction_id: p.prediction_id.to_string(),
        probability: p.probability,
        decision: p.decision.as_str().to_string(),
        threshold: p.threshold,
        explanation: explanation.as_ref().ok().map(crate::dto::explanation_view),
        explanation_notice: explanation.err(),
        outside_training: p
            .outside_training
            .iter()
            .map(crate::dto::outside_view)
            .collect(),
    })
}

/// The form's fields and its pasted JSON as one application in the API's JSON form. Field
/// text is read with Rust's correctly rounded parser and pasted JSON with serde_json's
/// (`float_roundtrip`); both are written back shortest, so every value reaches the model
/// as the double its text denotes. Errors say which field or what in the paste is wrong.
#[cfg(feature = "ssr")]
fn application_json(input: ScoreInput) -> Result<Vec<u8>, String> {
    // The paste is either the features object itself or a whole application
    // (`{"sk_id_curr": ..., "features": {...}}`, as the API takes it).
    let mut sk_id_curr = serde_json::Value::Null;
    let mut object = match input.json.trim() {
        "" => serde_json::Map::new(),
        text => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(mut m)) => match m.remove("features") {
                Some(serde_json::Value::Object(features)) => {
                    sk_id_curr = m.remove("sk_id_curr").unwrap_or_default();
                    features
                }
                Some(_) => {
                    return Err(
                        "`features` in the pasted JSON must be an object of feature \
                                names and values"
                            .into(),
                    )
                }
                None => m,
            },
            Ok(_) => {
                return Err("the pasted JSON must be an object of feature names and values".into())
            }
            Err(e) => return Err(format!("the pasted JSON is not valid: {e}")),
        },
    };
    for (name, value) in input.fields {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let number: f64 = value
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("{name}: `{value}` is not a number"))?;
        object.insert(name, serde_json::json!(number));
    }
    serde_json::to_vec(&serde_json::json!({
        "sk_id_curr": sk_id_curr,
        "features": serde_json::Value::Object(object),
    }))
    .map_err(|e| e.to_string())
}

/// A form field's training values, to warn about a typed value outside them.
#[derive(Debug, Clone)]
struct FieldRange {
    min: Option<f64>,
    max: Option<f64>,
    values: Option<Vec<f64>>,
}

impl FieldRange {
    /// What is wrong with `text` as this feature's value, if anything: not a number, or a
    /// number outside what the model saw in training. Empty text is a missing value.
    fn warning(&self, text: &str) -> Option<String> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let Ok(v) = text.parse::<f64>() else {
            return Some("not a number: write digits, with a dot for decimals".into());
        };
        if !v.is_finite() {
            return Some("not a finite number".into());
        }
        use super::readable;
        match (self.min, self.max) {
            (Some(min), _) if v < min => Some(format!(
                "below every training value (smallest {})",
                readable(min)
            )),
            (_, Some(max)) if v > max => Some(format!(
                "above every training value (largest {})",
                readable(max)
            )),
            _ => match &self.values {
                Some(vs) if !vs.contains(&v) => Some(format!(
                    "none of the training values ({})",
                    vs.iter()
                        .map(|x| readable(*x))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                _ => None,
            },
        }
    }
}

#[component]
pub fn ScorePage() -> impl IntoView {
    let form = Resource::new(|| (), |_| score_form());
    view! {
        <section class="card">
            <h1>"Score an application"</h1>
            <p class="muted">
                "The model's most important features first; leave a field empty when the value is "
                "unknown (the model handles missing values). Any other feature can be pasted as a "
                "JSON object below. The decision is stored with source "
                <code>"ui"</code> "."
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    form.get()
                        .map(|r| match r {
                            Ok(fields) => view! { <ScoreFormView fields/> }.into_any(),
                            Err(e) => {
                                view! {
                                    <p class="error" role="alert">
                                        "Could not load the form: " {e.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn ScoreFormView(fields: Vec<ScoreField>) -> impl IntoView {
    let values: Vec<(String, RwSignal<String>)> = fields
        .iter()
        .map(|f| (f.name.clone(), RwSignal::new(String::new())))
        .collect();
    let json = RwSignal::new(String::new());
    let submit = Action::new(move |input: &ScoreInput| score_application(input.clone()));
    let values_for_submit = values.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let fields = values_for_submit
            .iter()
            .map(|(n, s)| (n.clone(), s.get_untracked()))
            .collect();
        submit.dispatch(ScoreInput {
            fields,
            json: json.get_untracked(),
        });
    };
    let filled = RwSignal::new(false);
    let fill_medians = {
        let pairs: Vec<(RwSignal<String>, Option<f64>)> = values
            .iter()
            .zip(&fields)
            .map(|((_, s), f)| (*s, f.median))
            .collect();
        move |_| {
            for (s, m) in &pairs {
                // Readable, not every digit: a median is a typical value, not a measurement.
                s.set(
                    m.map(|v| super::readable(v).replace(',', ""))
                        .unwrap_or_default(),
                );
            }
            filled.set(true);
        }
    };
    let n_fields = fields.len();
    view! {
        <form class="score-form" on:submit=on_submit data-testid="score-form">
            <div class="field-grid">
                {fields
                    .into_iter()
                    .zip(values)
                    .map(|(f, (_, value))| {
                        let number = |x: Option<f64>| x.map_or("–".into(), super::readable);
                        let hint = format!(
                            "{} · median {} · middle half {} to {}{}",
                            f.unit,
                            number(f.median),
                            number(f.q25),
                            number(f.q75),
                            f.missing_rate
                                .filter(|m| *m > 0.0)
                                .map(|m| format!(" · missing in {:.0}% of training", 100.0 * m))
                                .unwrap_or_default(),
                        );
                        let placeholder = f.median.map(|m| format!("e.g. {}", value_text(Some(m))));
                        let range = FieldRange {
                            min: f.min,
                            max: f.max,
                            values: f.values.clone(),
                        };
                        // Said while typing, before scoring: a value the model never saw.
                        let warning = move || range.warning(&value.get());
                        view! {
                            <label class="field">
                                <span class="mono">{f.name.clone()}</span>
                                <input
                                    name=f.name.clone()
                                    inputmode="decimal"
                                    autocomplete="off"
                                    placeholder=placeholder
                                    prop:value=move || value.get()
                                    on:input=move |ev| value.set(event_target_value(&ev))
                                />
                                <small class="muted">{hint}</small>
                                {move || {
                                    warning()
                                        .map(|w| {
                                            view! {
                                                <small class="field-warning" data-testid="field-warning">
                                                    {w}
                                                </small>
                                            }
                                        })
                                }}
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
            <label class="field wide">
                <span>"Other features (JSON object, optional)"</span>
                <textarea
                    rows="4"
                    data-testid="score-json"
                    placeholder="{\"AMT_ANNUITY\": 24700.5, \"FLAG_OWN_CAR\": 0}"
                    prop:value=move || json.get()
                    on:input=move |ev| json.set(event_target_value(&ev))
                ></textarea>
            </label>
            <div class="controls">
                <button class="button" type="submit" data-testid="score-submit" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { "Scoring…" } else { "Score" }}
                </button>
                <button class="button secondary" type="button" data-testid="fill-medians" on:click=fill_medians>
                    "Fill with training medians"
                </button>
            </div>
            {move || {
                filled
                    .get()
                    .then(|| {
                        view! {
                            <p class="muted small" data-testid="fill-note">
                                {format!(
                                    "The {n_fields} fields above now hold the training medians. Every other feature stays \
                                     missing unless given as JSON below: the model scores a missing value the way it \
                                     learned to in training (each tree's branch for missing values), which is not the \
                                     same as the median.",
                                )}
                            </p>
                        }
                    })
            }}
        </form>
        {move || {
            submit
                .value()
                .get()
                .map(|r| match r {
                    Ok(result) => view! { <ScoreResult result/> }.into_any(),
                    Err(e) => {
                        view! {
                            <p class="error" role="alert" data-testid="score-error">
                                {crate::error_text(&e)}
                            </p>
                        }
                            .into_any()
                    }
                })
        }}
    }
}

#[component]
fn ScoreResult(result: ScoreResultView) -> impl IntoView {
    view! {
        <div class="result" data-testid="score-result">
            <OutsideTrainingNotice items=result.outside_training/>
            <dl class="stats">
                <div>
                    <dt>"Decision"</dt>
                    <dd>
                        <DecisionBadge decision=result.decision.clone() big=true testid="score-decision"/>
                    </dd>
                </div>
                <div>
                    <dt>"Probability of default"</dt>
                    <dd data-testid="score-probability">{format!("{:.4}", result.probability)}</dd>
                </div>
                <div>
                    <dt>"Threshold"</dt>
                    <dd>{format!("{:.3}", result.threshold)}</dd>
                </div>
                <div>
                    <dt>"Stored as"</dt>
                    <dd class="mono small">
                        <A href=format!("/predictions/{}", result.prediction_id)>
                            <span data-testid="score-id">{result.prediction_id.clone()}</span>
                        </A>
                    </dd>
                </div>
            </dl>
            {match (result.explanation, result.explanation_notice) {
                (Some(e), _) => view! { <ContributionsView explanation=e id="score-contributions"/> }.into_any(),
                (None, notice) => {
                    view! {
                        <p class="muted" data-testid="score-explanation-notice">
                            {notice.unwrap_or_default()}
                        </p>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

/// Why the model decided: the largest SHAP contributions as bars (red pushes towards
/// refusal, green towards approval) and as a table.
#[component]
pub fn ContributionsView(explanation: ExplanationView, id: &'static str) -> impl IntoView {
    let e = explanation.clone();
    let chart = move || {
        charts::horizontal_bars(
            "Contributions to the score (log-odds)",
            "log-odds",
            e.contributions
                .iter()
                .map(|c| {
                    let colour = if c.contribution > 0.0 {
                        colour::REFUSED
                    } else {
                        colour::APPROVED
                    };
                    (c.feature.clone(), c.contribution, colour)
                })
                .collect(),
        )
    };
    view! {
        <h2>"Why"</h2>
        <p class="muted small">
            {format!(
                "Raw score {:.3} = base value {:.3} + the contributions below + {:.3} from the other features. Positive values push towards refusal.",
                explanation.raw_score,
                explanation.base_value,
                explanation.other_contribution,
            )}
        </p>
        <ChartView id=id option=chart height="420px"/>
        <div class="table-wrap">
            <table class="data" data-testid="contributions">
                <thead>
                    <tr>
                        <th>"Feature"</th>
                        <th class="num">"Value"</th>
                        <th class="num">"Contribution"</th>
                    </tr>
                </thead>
                <tbody>
                    {explanation
                        .contributions
                        .into_iter()
                        .map(|c| {
                            view! {
                                <tr>
                                    <td class="mono">{c.feature}</td>
                                    <td class="num">{value_text(c.value)}</td>
                                    <td class="num">{format!("{:+.4}", c.contribution)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A model without explanations (linear trees): the result still shows the decision,
    /// and says why there are no contributions instead of drawing an empty chart.
    #[test]
    fn a_decision_without_explanation_shows_the_notice() {
        use leptos_router::components::Router;
        use leptos_router::location::RequestUrl;
        let result = ScoreResultView {
            prediction_id: "0193".into(),
            probability: 0.6228,
            decision: "REFUSED".into(),
            threshold: 0.5,
            explanation: None,
            explanation_notice: Some(
                scorewatch_core::model::booster::ExplainError::Unavailable.to_string(),
            ),
            outside_training: Vec::new(),
        };
        let owner = Owner::new();
        let html = owner.with(|| {
            provide_context(RequestUrl::new("/score"));
            view! {
                <Router>
                    <ScoreResult result/>
                </Router>
            }
            .to_html()
        });
        assert!(
            html.contains("REFUSED") && html.contains("0.6228"),
            "{html}"
        );
        assert!(
            html.contains(r#"data-testid="score-explanation-notice""#),
            "{html}"
        );
        assert!(html.contains("linear trees"), "{html}");
        assert!(!html.contains("score-contributions"), "{html}");
    }

    #[test]
    fn a_field_warns_about_values_the_model_never_saw() {
        let score = FieldRange {
            min: Some(0.0013),
            max: Some(0.855),
            values: None,
        };
        assert_eq!(score.warning(""), None);
        assert_eq!(score.warning("0.5"), None);
        assert_eq!(
            score.warning("5").as_deref(),
            Some("above every training value (largest 0.855)")
        );
        assert!(score.warning("abc").unwrap().starts_with("not a number"));
        let flag = FieldRange {
            min: Some(0.0),
            max: Some(1.0),
            values: Some(vec![0.0, 1.0]),
        };
        assert_eq!(flag.warning("1"), None);
        assert_eq!(
            flag.warning("0.5").as_deref(),
            Some("none of the training values (0, 1)")
        );
        let days = FieldRange {
            min: Some(-25000.0),
            max: Some(-7000.0),
            values: None,
        };
        assert_eq!(
            days.warning("12000").as_deref(),
            Some("above every training value (largest -7,000)")
        );
    }

    /// Form fields and pasted JSON both reach the application JSON as the exact double
    /// their text denotes (random bit patterns, subnormals, -0.0).
    #[test]
    fn form_and_pasted_values_keep_every_bit() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for i in 0..20_000 {
            let x = if i % 3 == 0 {
                f64::from_bits(rng.gen::<u64>() & 0x800f_ffff_ffff_ffff)
            } else {
                f64::from_bits(rng.gen())
            };
            if !x.is_finite() {
                continue;
            }
            let text = if i % 2 == 0 {
                format!("{x:?}")
            } else {
                format!("{x}")
            };
            let input = ScoreInput {
                fields: vec![("A".into(), text.clone())],
                json: format!("{{\"B\": {x:?}}}"),
            };
            let body = application_json(input).unwrap();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            for name in ["A", "B"] {
                let got = v["features"][name].as_f64().unwrap();
                assert_eq!(got.to_bits(), x.to_bits(), "{name}: {text}");
            }
        }
    }
}
