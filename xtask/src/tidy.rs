//! Tidy tests: facts about the repository that `ARCHITECTURE.md` states, checked so the
//! document stays true (in the spirit of rust-analyzer's `xtask/src/tidy.rs`). They run
//! with the workspace's tests (`cargo xtask test`, or `cargo test -p xtask`).

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives in the workspace root")
            .to_path_buf()
    }

    fn architecture() -> String {
        std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md")
    }

    /// The first column of the code map's table: `` `crates/iam` ``, `` `features/` ``…
    fn code_map_entries() -> BTreeSet<String> {
        let text = architecture();
        let map = text
            .split("## Code map")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("ARCHITECTURE.md has a code map section");
        map.lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .map(|e| e.trim_end_matches('/').to_string())
            .collect()
    }

    fn folders(dir: &Path) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(dir)
            .expect("a readable folder")
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "target" && !n.starts_with('.') || n == ".ci")
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_crate_and_top_level_folder_is_in_the_code_map() {
        let entries = code_map_entries();
        let mut missing: Vec<String> = folders(&root().join("crates"))
            .into_iter()
            .map(|c| format!("crates/{c}"))
            .chain(folders(&root()).into_iter().filter(|f| f != "crates"))
            .filter(|f| !entries.contains(f))
            .collect();
        missing.sort();
        assert!(
            missing.is_empty(),
            "ARCHITECTURE.md's code map has no entry for {missing:?}: add one line per folder"
        );
        let stale: Vec<&String> = entries
            .iter()
            .filter(|e| !root().join(e).is_dir())
            .collect();
        assert!(
            stale.is_empty(),
            "ARCHITECTURE.md's code map names folders that do not exist: {stale:?}"
        );
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_module_starts_with_its_documentation() {
        let mut files = Vec::new();
        for krate in folders(&root().join("crates")) {
            rust_files(&root().join("crates").join(krate).join("src"), &mut files);
        }
        rust_files(&root().join("xtask").join("src"), &mut files);
        assert!(files.len() > 50, "found only {} source files", files.len());
        let undocumented: Vec<String> = files
            .iter()
            .filter(|f| {
                let text = std::fs::read_to_string(f).unwrap_or_default();
                !text.trim_start().starts_with("//!")
            })
            .map(|f| f.strip_prefix(root()).unwrap_or(f).display().to_string())
            .collect();
        assert!(
            undocumented.is_empty(),
            "these modules do not start with a `//!` comment saying what they are: {undocumented:?}"
        );
    }

    /// The `[dependencies]` of a crate's manifest, by name.
    fn dependencies(krate: &str) -> BTreeSet<String> {
        let manifest =
            std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml"))
                .expect("the crate's Cargo.toml");
        manifest
            .split("\n[dependencies]\n")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .expect("a [dependencies] table")
            .lines()
            .filter_map(|l| l.split(['.', '=', ' ']).next())
            .map(str::trim)
            .filter(|n| !n.is_empty() && !n.starts_with('#'))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn iam_depends_on_exactly_what_the_architecture_says() {
        let text = architecture();
        let line = text
            .lines()
            .find(|l| l.contains("`iam` depends only on"))
            .expect("ARCHITECTURE.md states what `iam` depends on");
        let stated: BTreeSet<String> = line
            .split("depends only on")
            .nth(1)
            .expect("a list after the words")
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        assert_eq!(
            dependencies("iam"),
            stated,
            "crates/iam/Cargo.toml and ARCHITECTURE.md disagree on what the policy engine depends on"
        );
    }

    /// Markdown files of the repository (not under `target/` or hidden folders).
    fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a readable folder").flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    markdown_files(&path, out);
                }
            } else if name.ends_with(".md") {
                out.push(path);
            }
        }
    }

    /// A merge that left its conflict markers in a document (it happened to
    /// ARCHITECTURE.md once, and no other test reads prose).
    #[test]
    fn no_document_keeps_merge_conflict_markers() {
        let mut files = Vec::new();
        markdown_files(&root(), &mut files);
        let marked: Vec<String> = files
            .iter()
            .filter(|path| {
                std::fs::read_to_string(path).is_ok_and(|text| {
                    text.lines().any(|l| {
                        l.starts_with("<<<<<<< ") || l.starts_with(">>>>>>> ") || l == "======="
                    })
                })
            })
            .map(|path| path.display().to_string())
            .collect();
        assert!(
            marked.is_empty(),
            "merge conflict markers left in {marked:?}"
        );
    }
}
