//! `/score`: a credit officer scores one application. The most important features come first
//! with their reference ranges as hints; any other feature can be pasted as JSON. The
//! decision is stored like any other (source `ui`) and explained by its SHAP contributions.

use leptos::prelude::*;

use super::value_text;
use crate::components::DecisionBadge;
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
#[server]
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
            ScoreField {
                name: name.clone(),
                unit: unit_hint(name).to_string(),
                median: s.and_then(|s| s.median),
                q25: s.and_then(|s| s.q25),
                q75: s.and_then(|s| s.q75),
                missing_rate: s.map(|s| s.missing_rate),
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
    } else if has("DAYS_") {
        "days relative to the application (negative: before)"
    } else if has("AMT_") {
        "amount in the loan's currency"
    } else if has("CNT_") {
        "count"
    } else if name.contains("RATE") || name.contains("RATIO") || name.contains("PERC") {
        "ratio"
    } else if has("FLAG_") || name.starts_with("CODE_GENDER") || name.starts_with("NAME_") {
        "0 or 1"
    } else {
        "number"
    }
}

/// Scores and stores one application from the form's fields and an optional JSON object
/// of any other features (form fields win over the same name in the JSON).
#[server(input = Json)]
pub async fn score_application(input: ScoreInput) -> Result<ScoreResultView, ServerFnError> {
    crate::auth::require(crate::auth::Need::Score).await?;
    use scorewatch_core::ingest::writer::WriteError;
    use scorewatch_core::model::application::Application;
    use scorewatch_core::model::predict::{self, Explain, Explanations, ScoreError, ScoreRequest};
    use scorewatch_core::model::prediction::Source;
    use scorewatch_core::state::AppState;
    let state = expect_context::<AppState>();
    let body = application_json(input).map_err(ServerFnError::new)?;
    let application = Application::from_json(&body, &state.model.model)
        .map_err(|e| ServerFnError::new(format!("the application is not valid JSON: {e}")))?
        .map_err(|e| ServerFnError::new(e.to_string()))?;
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
    let fill_medians = {
        let pairs: Vec<(RwSignal<String>, Option<f64>)> = values
            .iter()
            .zip(&fields)
            .map(|((_, s), f)| (*s, f.median))
            .collect();
        move |_| {
            for (s, m) in &pairs {
                s.set(m.map(|v| v.to_string()).unwrap_or_default());
            }
        }
    };
    view! {
        <form class="score-form" on:submit=on_submit data-testid="score-form">
            <div class="field-grid">
                {fields
                    .into_iter()
                    .zip(values)
                    .map(|(f, (_, value))| {
                        let hint = format!(
                            "{} · median {} · middle half {} to {}{}",
                            f.unit,
                            value_text(f.median),
                            value_text(f.q25),
                            value_text(f.q75),
                            f.missing_rate
                                .filter(|m| *m > 0.0)
                                .map(|m| format!(" · missing in {:.0}% of training", 100.0 * m))
                                .unwrap_or_default(),
                        );
                        let placeholder = f.median.map(|m| format!("e.g. {}", value_text(Some(m))));
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
                <button class="button secondary" type="button" on:click=fill_medians>
                    "Fill with training medians"
                </button>
            </div>
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
