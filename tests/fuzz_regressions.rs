//! Every input kept in tests/fuzz_regressions/ gets a clean verdict from the real binary.

mod common;

use common::*;

#[test]
fn every_kept_input_gets_a_clean_verdict() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .expect("the regression folder exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "md"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no regression inputs found");
    for input in inputs {
        for format in ["json", "human"] {
            let mut cmd = tiwhook_fixed(&["check", "--key", KEY, "--format", format]);
            let output = cmd.arg(&input).output().unwrap();
            let code = output.status.code();
            assert!(matches!(code, Some(0 | 1)), "{}: exit {code:?}", input.display());
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!stderr.contains("panicked"), "{}: {stderr}", input.display());
            if format == "json" {
                let lines = json_lines(&output.stdout);
                assert_eq!(lines.last().unwrap()["type"], "summary", "{}", input.display());
            }
        }
    }
}
