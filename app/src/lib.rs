//! The scorewatch web application: the page shell, the routes and their pages.
//!
//! Pages are rendered on the server and hydrated in the browser. Data comes from server
//! functions that sit next to the page using them; their bodies run on the server only
//! (feature `ssr`), where they read the shared `AppState` from the Leptos context.

pub mod auth;
pub mod charts;
pub mod components;
pub mod dto;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::SsrMode;
use leptos_router::{ParamSegment, StaticSegment};

/// What a server function answers when a domain operation fails (the one place a
/// [`scorewatch_core::Error`] becomes a page's message): the sentence of a user's mistake,
/// of something not found or of the database being unavailable is shown; an internal
/// error's chain goes to the log with `what` was being done, and the page says only that
/// the database could not be read.
#[cfg(feature = "ssr")]
pub(crate) fn read_failed<E: Into<scorewatch_core::Error>>(
    what: &'static str,
) -> impl Fn(E) -> ServerFnError + Copy {
    move |e| {
        use scorewatch_core::Error;
        match e.into() {
            Error::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "{what}");
                ServerFnError::new("the database could not be read")
            }
            e => {
                let status = match &e {
                    Error::NotFound(_) => http::StatusCode::NOT_FOUND,
                    Error::Invalid(_) => http::StatusCode::UNPROCESSABLE_ENTITY,
                    Error::Conflict(_) => http::StatusCode::CONFLICT,
                    _ => http::StatusCode::SERVICE_UNAVAILABLE,
                };
                set_status(status);
                ServerFnError::new(e.public_message())
            }
        }
    }
}

/// A mistake of the user's (input the page cannot use, an action the role may not take):
/// the response answers `status` (a 4xx, so that monitoring does not count it as a server
/// fault) and the error says what to do.
#[cfg(feature = "ssr")]
pub(crate) fn user_error(status: http::StatusCode, message: impl Into<String>) -> ServerFnError {
    set_status(status);
    ServerFnError::new(message.into())
}

/// Sets the status of the response being built (a server function's answer, or the page
/// whose rendering called it).
#[cfg(feature = "ssr")]
fn set_status(status: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

/// A server function's error as a sentence for the page.
pub(crate) fn error_text(e: &ServerFnError) -> String {
    e.to_string()
        .trim_start_matches("error running server function: ")
        .to_string()
}

/// Where the page loads ECharts from: the version pinned in `package.json`, in the name so
/// that browsers may keep the file for good. `scripts/setup.sh` copies it there (into
/// `public/vendor/`) and stops if this name and the installed version disagree.
pub const ECHARTS_SCRIPT: &str = "/vendor/echarts-5.6.0.min.js";

/// The HTML document around the application.
///
/// On the server it also marks the response `private, no-cache`: a page shows the signed-in
/// user and live data, so no shared cache keeps it and the browser asks again each time.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("private, no-cache"),
        );
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // The stylesheet's name carries its content hash when the build hashes files.
                <HashedStylesheet options=options.clone() id="leptos"/>
                // ECharts draws the charts; it must be loaded before the application hydrates.
                <script src=ECHARTS_SCRIPT defer></script>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: the mark lets tests (and people
    // debugging) know the page is interactive.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title text="scorewatch"/>
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"scorewatch"</A>
                <nav>
                    <A href="/">"Overview"</A>
                    <A href="/score">"Score"</A>
                    <A href="/predictions">"Predictions"</A>
                    <A href="/drift">"Drift"</A>
                    <A href="/performance">"Performance"</A>
                    <A href="/logs">"Logs"</A>
                    <A href="/model">"Model"</A>
                </nav>
                <UserBadge/>
            </header>
            <main>
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=StaticSegment("") view=pages::overview::Overview/>
                    <Route path=StaticSegment("drift") view=pages::drift::DriftList/>
                    <Route path=StaticSegment("model") view=pages::model::ModelPage/>
                    <Route
                        path=StaticSegment("predictions")
                        view=pages::predictions::PredictionsPage
                    />
                    // Pages that answer 404 (no such id) or 403 (the role may not) wait for
                    // their data before the status line is sent.
                    <Route
                        path=(StaticSegment("drift"), ParamSegment("id"))
                        view=pages::drift::DriftReportPage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("score") view=pages::score::ScorePage ssr=SsrMode::Async/>
                    <Route
                        path=(StaticSegment("predictions"), ParamSegment("id"))
                        view=pages::predictions::PredictionPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("performance")
                        view=pages::performance::PerformancePage
                    />
                    <Route
                        path=(StaticSegment("performance"), ParamSegment("id"))
                        view=pages::performance::PerformancePage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("logs") view=pages::logs::LogsPage/>
                    <Route path=StaticSegment("login") view=pages::login::LoginPage/>
                </Routes>
            </main>
        </Router>
    }
}

/// Who is signed in, and the way out.
#[component]
fn UserBadge() -> impl IntoView {
    let user = Resource::new(|| (), |_| auth::current_user());
    let sign_out = Action::new(|_: &()| auth::sign_out());
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            let _ = window().location().assign("/login");
        }
    });
    view! {
        <div class="user" data-testid="user">
            <Transition fallback=|| ()>
                {move || {
                    user.get()
                        .map(|u| match u {
                            Ok(Some(u)) if u.signed_in => {
                                view! {
                                    <span>{format!("{} ({})", u.name, u.role)}</span>
                                    <button
                                        class="button small-button"
                                        data-testid="sign-out"
                                        on:click=move |_| {
                                            sign_out.dispatch(());
                                        }
                                    >
                                        "Sign out"
                                    </button>
                                }
                                    .into_any()
                            }
                            Ok(Some(_)) => {
                                view! {
                                    <span title="Direct visit to a server that listens on loopback only: no sign-in">
                                        "local admin"
                                    </span>
                                }
                                    .into_any()
                            }
                            // A full page load: the sign-in page reads the admin key's file on the server.
                            _ => view! { <a href="/login" rel="external">"Sign in"</a> }.into_any(),
                        })
                }}
            </Transition>
        </div>
    }
}
