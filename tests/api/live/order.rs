//! Order independence of the live tiles at its sharpest: the same
//! conversation events in one batch, or shuffled and sent one per batch (so
//! every event but the first arrives late), give identical answers.

use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};

use crate::helpers::{proptest_config, TestApp, TestTenant};
use crate::order::live::{conversation_set, questions};
use crate::rollups::WINDOWS;

async fn answers(app: &TestApp, tenant: &TestTenant, w: usize) -> Vec<Value> {
    crate::order::answers_to(app, tenant, questions(w)).await
}

#[test]
fn one_event_per_batch_in_any_order_gives_the_answers_of_one_batch() {
    let (runtime, app) = TestApp::spawn_blocking();
    let config = proptest_config(
        "one_event_per_batch_in_any_order_gives_the_answers_of_one_batch",
        16,
    );
    let mut runner = TestRunner::new(config);
    let strategy = (0..WINDOWS.len())
        .prop_flat_map(|w| (Just(w), conversation_set(w)))
        .prop_flat_map(|(w, events)| (Just(w), Just(events.clone()), Just(events).prop_shuffle()));
    runner
        .run(&strategy, |(w, events, shuffled)| {
            runtime.block_on(async {
                let whole = app.new_tenant("one batch").await;
                app.ingest_as(&whole, &Value::Array(events)).await;
                let single = app.new_tenant("one event per batch").await;
                for event in shuffled {
                    app.ingest_as(&single, &json!([event])).await;
                }
                let expected = answers(&app, &whole, w).await;
                let actual = answers(&app, &single, w).await;
                prop_assert_eq!(actual, expected);
                Ok(())
            })
        })
        .unwrap_or_else(|e| panic!("live order independence: {e}"));
}
