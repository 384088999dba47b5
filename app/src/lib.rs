//! The scorewatch web application: the page shell, the routes and their pages.
//!
//! Pages are rendered on the server and hydrated in the browser. Data comes from server
//! functions that sit next to the page using them; their bodies run on the server only
//! (feature `ssr`), where they read the shared `AppState` from the Leptos context.

pub mod dto;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{ParamSegment, StaticSegment};

/// The HTML document around the application.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
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
        <Stylesheet id="leptos" href="/pkg/scorewatch.css"/>
        <Title text="scorewatch"/>
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"scorewatch"</A>
                <nav>
                    <A href="/">"Overview"</A>
                    <A href="/predictions">"Predictions"</A>
                    <A href="/drift">"Drift"</A>
                    <A href="/model">"Model"</A>
                </nav>
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
                    <Route
                        path=(StaticSegment("drift"), ParamSegment("id"))
                        view=pages::drift::DriftReportPage
                    />
                </Routes>
            </main>
        </Router>
    }
}
