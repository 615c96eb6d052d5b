//! The offline validators on arbitrary bytes: never panic. The first byte
//! picks the validator.
#![no_main]

use keylint::engine::validate::Validator;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, secret)) = data.split_first() else { return };
    let names = Validator::NAMES;
    let v = Validator::from_name(names[pick as usize % names.len()]).expect("every name is known");
    let _ = v.check(secret);
    let _ = keylint::engine::validate::b64std(secret);
    let _ = keylint::engine::validate::b64url(secret);
});
