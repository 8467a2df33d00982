//! What the halves inherit. By default they do not inherit lifecycle policies (ILM, ISM),
//! the rollover alias or ingest pipelines: a fresh copy of `index.lifecycle.name` would start
//! the policy again on each half (rollover errors, and a delete phase may delete a half), and
//! pipelines would run again on reindexed documents (Elasticsearch fixed the same bug for
//! downsampling: elastic/elasticsearch#96494). Aliases are carried over intact (filter,
//! routing, write index) where they move, and the plan says what happens to each.
use serde_json::{json, Map, Value};

use crate::error::sanitize;

/// Settings that start a lifecycle policy or name its rollover alias.
const LIFECYCLE: [&str; 5] = [
    "index.lifecycle.",
    "index.plugins.index_state_management.",
    "index.opendistro.index_state_management.",
    "opendistro.index_state_management.",
    "plugins.index_state_management.",
];
/// Settings that run ingest pipelines on writes.
const PIPELINES: [&str; 2] = ["index.default_pipeline", "index.final_pipeline"];
/// Shown in the plan because they decide where the halves live.
const PLACEMENT: &str = "index.routing.allocation.";

/// What to keep of the settings that would otherwise be dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keep {
    /// `--keep-lifecycle`.
    pub lifecycle: bool,
    /// `--keep-pipelines`.
    pub pipelines: bool,
}

fn matches(key: &str, list: &[&str]) -> bool {
    list.iter().any(|p| {
        if p.ends_with('.') {
            key.starts_with(p)
        } else {
            key == *p
        }
    })
}

/// The source settings the halves must not get, as (key, value, flag that keeps it).
pub fn dropped(source: &Map<String, Value>, keep: Keep) -> Vec<(String, Value, &'static str)> {
    source
        .iter()
        .filter_map(|(k, v)| {
            if !keep.lifecycle && matches(k, &LIFECYCLE) {
                Some((k.clone(), v.clone(), "--keep-lifecycle"))
            } else if !keep.pipelines && matches(k, &PIPELINES) {
                Some((k.clone(), v.clone(), "--keep-pipelines"))
            } else {
                None
            }
        })
        .collect()
}

/// The source's pipeline settings (re-applied after a reindex with `--keep-pipelines`).
pub fn pipelines(source: &Map<String, Value>) -> Map<String, Value> {
    source
        .iter()
        .filter(|(k, _)| matches(k, &PIPELINES))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Allocation filters and the like that the halves keep, for the plan.
pub fn placement(source: &Map<String, Value>) -> Vec<(String, Value)> {
    source
        .iter()
        .filter(|(k, _)| k.starts_with(PLACEMENT) && !k.contains(".initial_recovery."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// One alias of the source, as `GET <index>/_alias` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    pub name: String,
    /// The alias definition: `filter`, `index_routing`, `search_routing`, `is_write_index`.
    pub def: Value,
    /// Whether writes through the alias go to the source (it is the write index, or the
    /// alias's only index).
    pub writes_to_source: bool,
}

/// The `add` actions that put `alias` on both halves, keeping its filter and routing; the
/// second half (the newer documents) becomes the write index when writes went to the source.
pub fn add_actions(alias: &Alias, first: &str, second: &str) -> Vec<Value> {
    [first, second]
        .iter()
        .map(|index| {
            let mut add = json!({"index": index, "alias": alias.name});
            for key in ["filter", "index_routing", "search_routing"] {
                if let Some(v) = alias.def.get(key) {
                    add[key] = v.clone();
                }
            }
            if alias.writes_to_source {
                add["is_write_index"] = json!(*index == second);
            }
            json!({ "add": add })
        })
        .collect()
}

/// A line of the plan for one alias.
pub fn describe(alias: &Alias, moves: bool) -> String {
    let mut traits = Vec::new();
    if alias.def.get("filter").is_some() {
        traits.push("filter");
    }
    if alias.def.get("index_routing").is_some() || alias.def.get("search_routing").is_some() {
        traits.push("routing");
    }
    if alias.writes_to_source {
        traits.push("write index");
    }
    let traits = if traits.is_empty() {
        String::new()
    } else {
        format!(" ({})", traits.join(", "))
    };
    if moves {
        format!(
            "alias {}{traits}: moves to both halves{}",
            sanitize(&alias.name),
            if alias.writes_to_source {
                ", the second half becomes its write index"
            } else {
                ""
            }
        )
    } else {
        format!(
            "alias {}{traits}: stays on the source; the halves do not get it (use --alias to move it)",
            sanitize(&alias.name)
        )
    }
}

/// Parses `GET <index>/_alias` for `index`.
pub fn parse_aliases(v: &Value, index: &str) -> Vec<Alias> {
    let Some(map) = v
        .pointer(&format!(
            "/{}/aliases",
            index.replace('~', "~0").replace('/', "~1")
        ))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    map.iter()
        .map(|(name, def)| Alias {
            name: name.clone(),
            def: def.clone(),
            writes_to_source: def.get("is_write_index").and_then(Value::as_bool) != Some(false),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_and_pipelines_are_dropped_unless_kept() {
        let s = json!({"index.lifecycle.name": "hot-warm", "index.lifecycle.rollover_alias": "logs",
            "index.default_pipeline": "p", "index.final_pipeline": "f",
            "index.plugins.index_state_management.policy_id": "ism",
            "index.routing.allocation.require.box": "hot", "index.number_of_shards": "3"});
        let s = s.as_object().unwrap();
        let keys: Vec<String> = dropped(s, Keep::default())
            .into_iter()
            .map(|d| d.0)
            .collect();
        assert_eq!(keys.len(), 5, "{keys:?}");
        assert!(!keys.contains(&"index.routing.allocation.require.box".to_string()));
        let kept = dropped(
            s,
            Keep {
                lifecycle: true,
                pipelines: false,
            },
        );
        assert!(kept.iter().all(|d| d.2 == "--keep-pipelines"));
        assert_eq!(pipelines(s).len(), 2);
        assert_eq!(placement(s).len(), 1);
    }

    #[test]
    fn aliases_keep_filter_routing_and_the_write_index_goes_to_the_second_half() {
        let v = json!({"logs": {"aliases": {
            "w": {"filter": {"term": {"a": 1}}, "index_routing": "1", "search_routing": "1", "is_write_index": true},
            "r": {"is_write_index": false}}}});
        let aliases = parse_aliases(&v, "logs");
        let w = aliases.iter().find(|a| a.name == "w").unwrap();
        let acts = add_actions(w, "a", "b");
        assert_eq!(acts[0]["add"]["filter"], json!({"term": {"a": 1}}));
        assert_eq!(acts[0]["add"]["is_write_index"], false);
        assert_eq!(acts[1]["add"]["is_write_index"], true);
        assert_eq!(acts[1]["add"]["index_routing"], "1");
        let r = aliases.iter().find(|a| a.name == "r").unwrap();
        assert!(add_actions(r, "a", "b")[1]["add"]
            .get("is_write_index")
            .is_none());
        assert!(describe(w, true).contains("filter, routing, write index"));
        assert!(describe(r, false).contains("stays on the source"));
    }
}
