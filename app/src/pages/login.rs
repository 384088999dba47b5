//! `/login`: sign in to the dashboard with an API key (viewer, officer or admin).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::auth::sign_in;

#[component]
pub fn LoginPage() -> impl IntoView {
    // Where this server saved its admin key at first start (`<data-dir>/admin-key`): read on
    // the server and handed to the client with the page.
    let key_file = leptos::server::SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<scorewatch_core::state::AppState>()
                .and_then(|s| s.settings.admin_key_file.clone())
        }
        #[cfg(not(feature = "ssr"))]
        {
            None::<String>
        }
    })
    .into_inner()
    .unwrap_or_else(|| "<data-dir>/admin-key (if it was kept)".into());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".into());
    let key = RwSignal::new(String::new());
    let submit = Action::new(|(key, next): &(String, String)| sign_in(key.clone(), next.clone()));
    // A full page load after signing in, so the server renders with the new session.
    Effect::new(move |_| {
        if let Some(Ok(to)) = submit.value().get() {
            let _ = window().location().assign(&to);
        }
    });
    view! {
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <p class="muted">
                "Paste an API key of role viewer (reads), officer (also scores applications) or "
                "admin (also runs drift detection). The first start of the server printed an admin "
                "key and saved it in "
                <code data-testid="admin-key-file">{key_file}</code>
                "; create others with "
                <code>"scorewatch keys create --role viewer --name NAME"</code> "."
            </p>
            <form
                data-testid="login-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit.dispatch((key.get_untracked(), next()));
                }
            >
                <label class="field">
                    <span>"API key"</span>
                    <input
                        type="password"
                        name="key"
                        autocomplete="current-password"
                        data-testid="login-key"
                        placeholder="sw_…"
                        prop:value=move || key.get()
                        on:input=move |ev| key.set(event_target_value(&ev))
                    />
                </label>
                <div class="controls">
                    <button class="button" type="submit" data-testid="login-submit" disabled=move || submit.pending().get()>
                        "Sign in"
                    </button>
                </div>
            </form>
            {move || {
                submit
                    .value()
                    .get()
                    .and_then(Result::err)
                    .map(|e| {
                        view! {
                            <p class="error" role="alert" data-testid="login-error">
                                {crate::error_text(&e)}
                            </p>
                        }
                    })
            }}
        </section>
    }
}
