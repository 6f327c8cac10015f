//! Snapshots of what a user reads: every subcommand's `--help` and the main
//! error messages (tests/cmd/*.toml with their expected output). A change in
//! any of them shows up here for review; `TRYCMD=overwrite cargo test cli`
//! rewrites the snapshots.

#[test]
fn cli_text() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
