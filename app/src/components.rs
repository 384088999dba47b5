//! Pieces of markup the pages share: a filter's drop-down, a list page's heading with its
//! "run now" control, and the badges of a decision and of a report status (their colours come from `style/main.css`, by class). The chart box is
//! [`crate::charts::ChartView`].

use leptos::prelude::*;

/// A labelled drop-down of a list's filters: `options` are `(value, text)` pairs, the first
/// one selected; `on_change` gets the chosen value.
#[component]
pub fn FilterSelect(
    label: &'static str,
    testid: &'static str,
    options: &'static [(&'static str, &'static str)],
    on_change: Callback<String>,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <select data-testid=testid on:change=move |ev| on_change.run(event_target_value(&ev))>
                {options
                    .iter()
                    .map(|(value, text)| view! { <option value=*value>{*text}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}

/// APPROVED or REFUSED as a coloured badge; `big` on a page about one decision.
#[component]
pub fn DecisionBadge(
    decision: String,
    #[prop(optional)] big: bool,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    let size = if big { "badge big" } else { "badge" };
    let class = format!("{size} decision-{}", decision.to_lowercase());
    view! { <span class=class data-testid=testid>{decision}</span> }
}

/// A drift status (OK, WARNING, ALERT, INSUFFICIENT_DATA) as a coloured badge.
#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    let class = format!("badge status-{}", status.to_lowercase().replace('_', "-"));
    view! { <span class=class data-testid="status">{status}</span> }
}

/// A list page's heading with a "run now" control: a drop-down of `choices` (`(value,
/// text)`, the first one selected), a button that dispatches `run` with the chosen value
/// (showing `pending` while it runs), and the run's error, if any, below. The page decides
/// what happens when the run succeeds.
#[component]
pub fn RunNowHeader(
    title: &'static str,
    label: &'static str,
    choices: &'static [(&'static str, &'static str)],
    button: &'static str,
    pending: &'static str,
    /// `data-testid` of the button.
    testid: &'static str,
    run: Action<String, Result<i64, ServerFnError>>,
) -> impl IntoView {
    let choice = RwSignal::new(choices[0].0.to_string());
    view! {
        <div class="card-head">
            <h1>{title}</h1>
            <div class="controls">
                <FilterSelect
                    label=label
                    testid="run-window"
                    options=choices
                    on_change=Callback::new(move |v| choice.set(v))
                />
                <button
                    class="button"
                    data-testid=testid
                    disabled=move || run.pending().get()
                    on:click=move |_| {
                        run.dispatch(choice.get_untracked());
                    }
                >
                    {move || if run.pending().get() { pending } else { button }}
                </button>
            </div>
        </div>
        {move || {
            run.value()
                .get()
                .and_then(Result::err)
                .map(|e| {
                    view! {
                        <p class="error" role="alert" data-testid="run-error">
                            {crate::error_text(&e)}
                        </p>
                    }
                })
        }}
    }
}

/// The features of a scored application that lie outside what the model saw in training
/// (nothing when there are none): the score still stands, but rests on values the model
/// never learned from.
#[component]
pub fn OutsideTrainingNotice(items: Vec<crate::dto::OutsideView>) -> impl IntoView {
    (!items.is_empty()).then(|| {
        let n = items.len();
        view! {
            <div class="notice warn" role="status" data-testid="outside-training">
                <strong>
                    {if n == 1 {
                        "1 feature lies outside what the model saw in training".to_owned()
                    } else {
                        format!("{n} features lie outside what the model saw in training")
                    }}
                </strong>
                " (the model never learned from such values, so the score rests on an extrapolation; check for a typing error):"
                <ul>
                    {items
                        .into_iter()
                        .map(|o| {
                            let name = o.feature.clone();
                            view! {
                                <li data-feature=name>
                                    <span class="mono">{o.feature}</span>
                                    ": "
                                    {o.text}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </div>
        }
    })
}

/// What a report's trigger means, in words (charts and drop-downs).
pub fn trigger_text(trigger: &str) -> &'static str {
    match trigger {
        "schedule" => "scheduled (at the window's end)",
        "matured" => "matured (scheduled, outcomes known)",
        "backfill" => "backfill (simulator)",
        "api" => "on demand (API or dashboard)",
        "cli" => "command line",
        _ => "other",
    }
}

/// The distinct triggers among `triggers`, in the order of `preference` (unknown ones
/// last): the first is what a history chart shows by default.
pub fn triggers_present<'a>(
    triggers: impl Iterator<Item = &'a str>,
    preference: &[&str],
) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for t in triggers {
        if !found.iter().any(|f| f == t) {
            found.push(t.to_owned());
        }
    }
    let rank = |t: &String| {
        preference
            .iter()
            .position(|p| p == t)
            .unwrap_or(preference.len())
    };
    found.sort_by_key(rank);
    found
}

/// The drop-down above a report history chart: which trigger's reports it plots (reports
/// of different triggers cover different windows, so one line through all of them would
/// mix them).
#[component]
pub fn TriggerSelect(triggers: Vec<String>, chosen: RwSignal<String>) -> impl IntoView {
    view! {
        <div class="controls">
            <label>
                "Chart: "
                <select
                    data-testid="chart-trigger"
                    prop:value=move || chosen.get()
                    on:change=move |ev| chosen.set(event_target_value(&ev))
                >
                    {triggers
                        .into_iter()
                        .map(|t| {
                            let text = format!("{} reports", trigger_text(&t));
                            view! { <option value=t>{text}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_come_once_in_the_order_of_preference() {
        let got = triggers_present(
            ["cli", "backfill", "cli", "schedule", "odd", "api"].into_iter(),
            &["schedule", "backfill", "api", "cli"],
        );
        assert_eq!(got, ["schedule", "backfill", "api", "cli", "odd"]);
        assert!(triggers_present(std::iter::empty(), &["schedule"]).is_empty());
    }
}
