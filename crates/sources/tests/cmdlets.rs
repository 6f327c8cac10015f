//! A cmdlet outside the allowlist cannot be expressed: the compiler refuses a
//! write cmdlet and a parameter the allowlist does not have (the expected
//! errors are beside each case). There is no way to make a [`Cmdlet`] from a
//! name either: the type has no constructor but its variants.
//!
//! [`Cmdlet`]: m365_preserve_sources::Cmdlet

#[test]
fn a_cmdlet_outside_the_allowlist_does_not_compile() {
    trybuild::TestCases::new().compile_fail("tests/compile-fail/*.rs");
}
