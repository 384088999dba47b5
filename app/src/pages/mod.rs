//! One module per page.

pub mod drift;
pub mod login;
pub mod logs;
pub mod model;
pub mod overview;
pub mod predictions;
pub mod score;

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the overview"</a></p>
        </section>
    }
}
