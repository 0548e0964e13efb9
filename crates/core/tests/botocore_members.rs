//! Every request member of botocore's model, for every implemented operation, is read by the
//! operation's input shape or declared unsupported on the operation (`UNSUPPORTED_MEMBERS`), and
//! the input shape reads nothing the model lacks. A botocore upgrade that adds a member fails
//! here instead of the member being dropped silently.

#[path = "../../types/tests/model/mod.rs"]
mod model;

use ferrokms_core::registry::MEMBERS;

#[test]
fn every_request_member_of_the_model_is_handled() {
    let Some(model) = model::load_model() else {
        return;
    };
    let mut problems = Vec::new();
    for (name, members) in MEMBERS {
        let operation = &model["operations"][name];
        let Some(shape) = operation["input"]["shape"].as_str() else {
            problems.push(format!("{name}: not an operation of the model"));
            continue;
        };
        let theirs: Vec<&str> = model["shapes"][shape]["members"]
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let Some(ours) = (members.handled)() else {
            problems.push(format!("{name}: the input shape is not a plain struct"));
            continue;
        };
        for member in &theirs {
            if !ours.contains(member) && !members.unsupported.contains(member) {
                problems.push(format!("{name}: takes no {member}"));
            }
        }
        for member in ours {
            if !theirs.contains(member) && !members.unsupported.contains(member) {
                problems.push(format!("{name}: {member} is not in the model"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
