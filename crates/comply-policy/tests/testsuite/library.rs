//! The library as a whole: it loads, and every policy declares typed inputs.

use comply_policy::builtin;

#[test]
fn shipped_library_loads() {
    builtin::check().unwrap();
}

#[test]
fn every_builtin_input_is_typed_and_described() {
    for name in builtin::policy_names() {
        let policy = &builtin::policy(name).unwrap().policy;
        assert!(
            policy.metadata.description.is_some(),
            "{name} has a description"
        );
        for input in &policy.spec.inputs {
            assert!(
                input.input_type.is_some(),
                "{name}.{} declares a type",
                input.name
            );
            assert!(
                input.description.is_some(),
                "{name}.{} is described",
                input.name
            );
        }
    }
}
