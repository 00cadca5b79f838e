//! Keeps the layers of the crate's comment ([`crate`]) as they are: reads every source
//! file's `crate::` and `super::` paths (test code and comments left out) and fails when a
//! file imports from a layer above its own, or when modules import each other round in a
//! circle. The media crate is held to the second rule too.

use std::collections::{BTreeMap, BTreeSet};

/// The layers, lowest first: a module may import from its own layer and those before it.
const LAYERS: [&str; 7] = ["domain", "rules", "store", "infra", "ops", "web", "demo"];

/// A module's path (`["ops", "publish"]`) from its file's path under `src`.
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The text without test code (`#[cfg(test)]` and the item after it) and without whole
/// comment lines (doc links may point anywhere).
fn code_of(text: &str) -> String {
    let mut code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect();
    while let Some(at) = code.find("#[cfg(test)]") {
        let rest = &code[at..];
        let end = match (rest.find('{'), rest.find(';')) {
            (Some(open), semi) if semi.is_none_or(|s| open < s) => {
                let mut depth = 0usize;
                let mut end = rest.len();
                for (i, c) in rest[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = open + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (_, Some(semi)) => semi + 1,
            _ => rest.len(),
        };
        code.replace_range(at..at + end, "");
    }
    code
}

fn ident_at(text: &str, from: usize) -> Option<(String, usize)> {
    let len = text[from..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len() - from);
    (len > 0).then(|| (text[from..from + len].to_owned(), from + len))
}

/// Every module path a file names: `crate::a::b` as `[a, b]`, `super::x` from `module`'s
/// parent, and each item of a `::{x, y::z}` group.
fn paths_in(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (start, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        if start > 0
            && code[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            continue;
        }
        let mut base: Vec<String> = Vec::new();
        let mut at = start;
        if code[at..].starts_with("crate::") {
            at += "crate::".len();
        } else {
            base = module.to_vec();
            while code[at..].starts_with("super::") {
                base.pop();
                at += "super::".len();
            }
        }
        loop {
            if code[at..].starts_with('{') {
                let group_end = code[at..].find('}').map_or(code.len(), |e| at + e);
                for item in code[at + 1..group_end].split(',') {
                    let mut path = base.clone();
                    path.extend(
                        item.trim()
                            .split("::")
                            .map(|p| p.split_whitespace().next().unwrap_or(""))
                            .take_while(|p| p.starts_with(|c: char| c.is_ascii_lowercase()))
                            .filter(|p| *p != "self")
                            .map(str::to_owned),
                    );
                    out.push(path);
                }
                base.clear();
                break;
            }
            let Some((name, end)) = ident_at(code, at) else {
                break;
            };
            if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                break;
            }
            base.push(name);
            at = end;
            if !code[at..].starts_with("::") {
                break;
            }
            at += 2;
        }
        if !base.is_empty() {
            out.push(base);
        }
    }
    out
}

/// Each module's imports of other modules (the longest module a path names), between
/// modules neither of which contains the other.
fn imports(files: &[(String, String)]) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|(f, _)| module_of(f)).collect();
    let mut graph = BTreeMap::new();
    for (file, text) in files {
        let me = module_of(file);
        let mut named = BTreeSet::new();
        for path in paths_in(&code_of(text), &me) {
            let Some(target) = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains(p))
            else {
                continue;
            };
            if !target.starts_with(&me) && !me.starts_with(&target) {
                named.insert(target);
            }
        }
        graph.insert(me, named);
    }
    graph
}

/// A circle of imports, if there is one: the modules in order, the first repeated last.
fn circle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<String>> {
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        path: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut found: Vec<String> = path[at..].iter().map(|m| m.join("::")).collect();
            found.push(node.join("::"));
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// The library's own files (the binary's, under `cli/` and `main.rs`, are the top).
fn library_files() -> Vec<(String, String)> {
    crate::source_tree::files("")
        .into_iter()
        .filter(|(f, _)| {
            f != "main.rs"
                && !f.starts_with("cli/")
                && !f.ends_with("tests.rs")
                && f != "layer_check.rs"
        })
        .collect()
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let files = library_files();
    assert!(files.len() > 80, "only {} files read", files.len());
    let layer = |module: &[String]| -> Option<usize> {
        LAYERS
            .iter()
            .position(|l| module.first().is_some_and(|m| m == l))
    };
    let mut upward = Vec::new();
    for (file, text) in &files {
        let me = module_of(file);
        let Some(mine) = layer(&me) else {
            assert!(
                me.is_empty(),
                "{file} is in no layer: put it in one of {LAYERS:?}"
            );
            continue;
        };
        for path in paths_in(&code_of(text), &me) {
            if let Some(theirs) = layer(&path)
                && theirs > mine
            {
                upward.push(format!(
                    "{file} imports {} ({} over {})",
                    path.join("::"),
                    LAYERS[theirs],
                    LAYERS[mine]
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that run up a layer:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_modules_import_each_other_round_in_a_circle() {
    let server = imports(&library_files());
    assert!(server.len() > 80);
    if let Some(found) = circle(&server) {
        panic!("modules import each other: {}", found.join(" -> "));
    }
    let media_src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("media/src");
    let media: Vec<(String, String)> = std::fs::read_dir(&media_src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    let media = imports(&media);
    assert!(media.len() > 20);
    if let Some(found) = circle(&media) {
        panic!(
            "consentcam-media's modules import each other: {}",
            found.join(" -> ")
        );
    }
}

#[test]
fn the_reader_sees_what_a_file_imports_and_what_it_only_tests() {
    let code = code_of(
        "use crate::store::faces;\n\
         use super::{approvals::void, people};\n\
         // crate::web::comment\n\
         fn f() { crate::ops::Ctx::new(); crate::infra::config::Config::default(); }\n\
         #[cfg(test)]\nmod tests { use crate::web::ui; }\n",
    );
    let me = vec!["store".to_owned(), "photos".to_owned()];
    let found = paths_in(&code, &me);
    let joined: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        [
            "store::faces",
            "ops",
            "infra::config",
            "store::approvals::void",
            "store::people"
        ]
    );
    let files = vec![
        ("a.rs".to_owned(), "use crate::b::x;".to_owned()),
        ("b.rs".to_owned(), "use crate::c::y;".to_owned()),
        ("c.rs".to_owned(), "fn f() { crate::a::z(); }".to_owned()),
        ("d/mod.rs".to_owned(), "mod e; use e::q;".to_owned()),
        ("d/e.rs".to_owned(), "use super::w;".to_owned()),
    ];
    let graph = imports(&files);
    assert_eq!(circle(&graph).unwrap(), ["a", "b", "c", "a"]);
    let graph = imports(&files[3..]);
    assert!(
        circle(&graph).is_none(),
        "a module and its own child are not a circle"
    );
}
