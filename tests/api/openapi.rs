//! The OpenAPI document (`/openapi.json`): served as compiled in, describing exactly the paths
//! the router serves, and requiring exactly what each endpoint requires. Schemathesis fuzzes
//! the running server against it in `.ci/run`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{Login, TestApp};

fn document() -> Value {
    serde_json::from_str(confab::http::OPENAPI).expect("the document is JSON")
}

/// `schema` with its `$ref` into the document followed.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(target) => {
            let target = target.trim_start_matches("#/");
            resolve(doc, target.split('/').fold(doc, |node, key| &node[key]))
        }
        None => schema,
    }
}

/// Every property a schema requires, in itself or in any of its branches.
fn required(doc: &Value, schema: &Value, into: &mut BTreeSet<String>) {
    let schema = resolve(doc, schema);
    for name in schema["required"].as_array().into_iter().flatten() {
        into.insert(name.as_str().unwrap().to_owned());
    }
    for branches in ["allOf", "anyOf", "oneOf"] {
        for branch in schema[branches].as_array().into_iter().flatten() {
            required(doc, branch, into);
        }
    }
}

/// The parameter an envelope says is missing (`Param 'x' is required`).
fn missing(envelope: &Value) -> Option<String> {
    let message = envelope["error"]["message"].as_str()?;
    let name = message
        .strip_prefix("Param '")?
        .strip_suffix("' is required")?;
    Some(name.to_owned())
}

/// The documented API paths a plain request can be tried on: the token exchanges take their
/// credentials from headers, and logout would end the session the other calls use.
fn asked(paths: &serde_json::Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    paths.iter().filter(|(path, _)| {
        path.starts_with("/v1/") && !path.starts_with("/v1/auth/") && *path != "/v1/client/logout"
    })
}

/// POSTs `body` to `path` with the Server-Key or as `who`, as the path requires.
async fn call(app: &TestApp, who: &Login, path: &str, body: Value) -> Value {
    if path.starts_with("/v1/server/") {
        app.post(path, body).await
    } else {
        app.client(path, &who.access, body).await
    }
}

#[tokio::test]
async fn the_document_is_served_and_describes_exactly_the_routes() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let doc = document();
    assert_eq!(response.json::<Value>().await.unwrap(), doc);
    assert_eq!(doc["openapi"], "3.1.0");

    let paths = doc["paths"].as_object().unwrap();
    let documented: BTreeSet<&str> = paths.keys().map(String::as_str).collect();
    let routed: BTreeSet<&str> = confab::http::documented_paths().into_iter().collect();
    assert_eq!(documented, routed, "the document and the router disagree");

    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        let method = if path.starts_with("/v1/") {
            "post"
        } else {
            "get"
        };
        let methods: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert_eq!(methods, [method], "{path} is served by {method} only");
        let id = item[method]["operationId"].as_str().unwrap();
        assert!(operation_ids.insert(id), "operationId {id} is used twice");
    }
}

#[tokio::test]
async fn every_parameter_an_endpoint_requires_is_required_in_the_document() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let doc = document();
    let paths = doc["paths"].as_object().unwrap();
    let asked = asked(paths);
    for (path, item) in asked {
        let schema = &item["post"]["requestBody"]["content"]["application/json"]["schema"];
        let mut names = BTreeSet::new();
        required(&doc, schema, &mut names);
        let envelope = call(&app, &ann, path, json!({})).await;
        if let Some(name) = missing(&envelope) {
            assert!(
                names.contains(&name),
                "{path} requires '{name}', which the document does not: {envelope}"
            );
        } else {
            assert!(
                names.is_empty() || envelope["status"] == 400,
                "{path}: the document requires {names:?}, but an empty request was accepted: \
                 {envelope}"
            );
        }
    }
}

/// Whether a schema, or any of its branches, admits JSON `null`.
fn admits_null(doc: &Value, schema: &Value) -> bool {
    let schema = resolve(doc, schema);
    let typed_null = match &schema["type"] {
        Value::String(kind) => kind == "null",
        Value::Array(kinds) => kinds.iter().any(|kind| kind == "null"),
        _ => false,
    };
    typed_null
        || ["anyOf", "oneOf"].iter().any(|branches| {
            schema[branches]
                .as_array()
                .into_iter()
                .flatten()
                .any(|branch| admits_null(doc, branch))
        })
}

#[tokio::test]
async fn a_null_body_is_accepted_exactly_where_the_document_allows_it() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let doc = document();
    let paths = doc["paths"].as_object().unwrap();
    let asked = asked(paths);
    let mut wrong = Vec::new();
    for (path, item) in asked {
        let schema = &item["post"]["requestBody"]["content"]["application/json"]["schema"];
        if schema.is_null() {
            continue; // no body is read at all
        }
        let envelope = call(&app, &ann, path, Value::Null).await;
        let accepted = envelope["status"] == 200;
        if accepted != admits_null(&doc, schema) {
            wrong.push(format!("{path}: {envelope}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "null bodies where the document disagrees:\n{}",
        wrong.join("\n")
    );
}
