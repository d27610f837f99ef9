//! The README shows real output: each `$ tiwhook …` console example that prints something is run
//! again and compared with what the README shows (the `listen` one needs a live server and is
//! left out; JSON examples are compared as JSON, since the README pretty-prints them).

mod common;

use common::*;

#[test]
fn the_readme_examples_print_what_the_readme_shows() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut checked = 0;
    for block in readme.split("```console\n").skip(1) {
        let block = &block[..block.find("```").unwrap()];
        let (first, shown) = block.split_once('\n').unwrap();
        let Some(command) = first.strip_prefix("$ tiwhook ") else { continue };
        if command.starts_with("listen") || shown.trim().is_empty() {
            continue;
        }
        let args: Vec<&str> = command.split_whitespace().collect();
        let output = tiwhook().args(&args).args(["--color", "never"]).output().unwrap();
        let printed = String::from_utf8(output.stdout).unwrap();
        if command.contains("--format json") {
            let shown: Vec<serde_json::Value> =
                serde_json::Deserializer::from_str(shown).into_iter().map(Result::unwrap).collect();
            assert_eq!(json_lines(printed.as_bytes()), shown, "{command}");
        } else {
            assert_eq!(printed.trim_end(), shown.trim_end(), "{command}");
        }
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} examples checked");
}
