//! A LightGBM model file (what Python's `booster.save_model` writes), read and checked
//! before LightGBM sees it.
//!
//! LightGBM's own loader trusts its input: a truncated file can send it reading past the
//! end of a tree, and the Rust binding reads feature names into fixed 64-byte buffers
//! (longer names come back cut, and a cut inside a multi-byte character panics). So the
//! text is checked here first, and everything scorewatch needs from the header is read
//! here rather than from LightGBM:
//!
//! ```text
//! file    = "tree" LF header LF trees "end of trees" LF rest
//! header  = *(key "=" value LF)        ; version, num_class, objective, feature_names,
//!                                      ; max_feature_idx, tree_sizes, ...
//! trees   = *("Tree=" index LF ... )   ; tree i is exactly tree_sizes[i] bytes
//! ```
//!
//! Rules:
//! - Windows line endings are read: CRLF is turned into LF (and a UTF-8 byte order mark
//!   dropped) before anything else, so a
//!   model saved or copied on Windows is the same model (and the same version, as the
//!   SHA-256 is taken of the normalised text).
//! - Only format `version=v4` (LightGBM 4.x) is read.
//! - Only models whose output is a probability of the positive class are served:
//!   objective `binary` (any `sigmoid`) or `cross_entropy`. Every other objective,
//!   and a model saved without one (a custom objective: its output is a raw margin), is
//!   refused with a message that names it.

use std::fmt;

/// The objectives whose prediction is a probability of default.
pub const SUPPORTED_OBJECTIVES: [&str; 2] = ["binary", "cross_entropy"];

/// The model format version read (LightGBM 4.x writes `version=v4`).
pub const SUPPORTED_VERSION: &str = "v4";

/// Why a model file was refused. Each message says what was found and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelFileError {
    /// No bytes, or only white space.
    #[error("the model file is empty")]
    Empty,
    /// The first line is not `tree`: some other file.
    #[error(
        "not a LightGBM text model: it does not start with a line `tree` \
         (save the model with Python's `booster.save_model(\"model.txt\")`)"
    )]
    NotLightGbm,
    /// A NUL byte or invalid UTF-8: a binary file.
    #[error("the model file is not plain text (it holds a NUL byte or is not UTF-8)")]
    NotText,
    /// A format version other than [`SUPPORTED_VERSION`].
    #[error(
        "the model file is format {found}; scorewatch reads LightGBM 4 models (version={SUPPORTED_VERSION}): \
         load it with LightGBM 4 and save it again"
    )]
    Version { found: String },
    /// An objective whose output is not a probability of default (`None`: no objective
    /// recorded, a custom one).
    #[error(
        "the model's objective is {}: scorewatch serves models whose output is a probability \
         of default, trained with objective {}",
        found.as_deref().map(|o| format!("`{o}`")).unwrap_or_else(|| "not recorded in the file (a custom objective, whose output is a raw margin)".into()),
        SUPPORTED_OBJECTIVES.map(|o| format!("`{o}`")).join(" or ")
    )]
    Objective { found: Option<String> },
    /// More than one output per row (`num_class` or `num_tree_per_iteration` above 1).
    #[error("the model has {n} outputs per row; a probability of default is one (num_class=1)")]
    Classes { n: String },
    /// A header line LightGBM needs is absent.
    #[error("the model file's header lacks `{key}=`")]
    MissingKey { key: &'static str },
    /// `feature_names` and `max_feature_idx` disagree.
    #[error(
        "the model file names {names} features but declares max_feature_idx={max_feature_idx}"
    )]
    FeatureCount {
        names: usize,
        max_feature_idx: String,
    },
    #[error("the model file is incomplete or damaged: {why}")]
    Damaged { why: String },
}

/// What a model's objective says about its output.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// `binary` or `cross_entropy`.
    pub name: String,
    /// The objective line's parameters as written (e.g. `sigmoid:2`); LightGBM applies
    /// them itself when it predicts.
    pub parameters: String,
}

/// A checked LightGBM model file.
#[derive(Debug, Clone)]
pub struct ModelFile {
    text: String,
    feature_names: Vec<String>,
    objective: Objective,
    n_trees: usize,
    linear: bool,
}

impl ModelFile {
    /// Reads a model file's bytes. Windows line endings are normalised to LF.
    ///
    /// # Errors
    /// [`ModelFileError`] naming the first problem found.
    pub fn parse(bytes: &[u8]) -> Result<Self, ModelFileError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ModelFileError::Empty);
        }
        // A byte order mark (some Windows editors add one) is not part of the model.
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).map_err(|_| ModelFileError::NotText)?;
        if text.contains('\0') {
            return Err(ModelFileError::NotText);
        }
        let text = if text.contains('\r') {
            text.replace("\r\n", "\n")
        } else {
            text.to_owned()
        };
        let mut lines = text.split('\n');
        if lines.next() != Some("tree") {
            return Err(ModelFileError::NotLightGbm);
        }
        let mut header = Vec::new();
        let mut header_len = "tree\n".len();
        for line in lines.by_ref() {
            header_len += line.len() + 1;
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once('=') {
                header.push((k, v));
            }
        }
        let get = |key: &'static str| header.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let version = get("version").ok_or(ModelFileError::MissingKey { key: "version" })?;
        if version != SUPPORTED_VERSION {
            return Err(ModelFileError::Version {
                found: version.to_owned(),
            });
        }
        let objective = match get("objective") {
            None => return Err(ModelFileError::Objective { found: None }),
            Some(line) => {
                let (name, parameters) = line.split_once(' ').unwrap_or((line, ""));
                if !SUPPORTED_OBJECTIVES.contains(&name) {
                    return Err(ModelFileError::Objective {
                        found: Some(name.to_owned()),
                    });
                }
                Objective {
                    name: name.to_owned(),
                    parameters: parameters.to_owned(),
                }
            }
        };
        for key in ["num_class", "num_tree_per_iteration"] {
            let n = get(key).ok_or(ModelFileError::MissingKey { key })?;
            if n != "1" {
                return Err(ModelFileError::Classes { n: n.to_owned() });
            }
        }
        let names = get("feature_names").ok_or(ModelFileError::MissingKey {
            key: "feature_names",
        })?;
        let feature_names: Vec<String> = names.split(' ').map(str::to_owned).collect();
        let max_feature_idx = get("max_feature_idx").ok_or(ModelFileError::MissingKey {
            key: "max_feature_idx",
        })?;
        if max_feature_idx.parse::<usize>().ok() != Some(feature_names.len().wrapping_sub(1)) {
            return Err(ModelFileError::FeatureCount {
                names: feature_names.len(),
                max_feature_idx: max_feature_idx.to_owned(),
            });
        }
        let body = &text[header_len.min(text.len())..];
        let (n_trees, linear) = check_trees(body, get("tree_sizes"), feature_names.len())?;
        Ok(Self {
            text,
            feature_names,
            objective,
            n_trees,
            linear,
        })
    }

    /// The model text, line endings normalised: what LightGBM loads and what is stored.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Feature names in model order, whole (any length, any UTF-8).
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// The training objective, `binary` (with its `sigmoid`) or `cross_entropy`.
    pub fn objective(&self) -> &Objective {
        &self.objective
    }

    /// The number of trees (iterations, for a binary model).
    pub fn n_trees(&self) -> usize {
        self.n_trees
    }

    /// True when some tree is a linear tree (`linear_tree=True`): LightGBM cannot compute
    /// SHAP values (`pred_contrib`) for those.
    pub fn has_linear_trees(&self) -> bool {
        self.linear
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.parameters.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{} {}", self.name, self.parameters)
        }
    }
}

/// Walks the trees: with `tree_sizes`, tree i must start with `Tree=i` exactly where the
/// sizes put it, and the last must end at the line `end of trees`; without it, the line
/// `end of trees` must be there. Each tree is then checked by [`check_tree`]. Returns the
/// number of trees and whether any is linear.
fn check_trees(
    body: &str,
    tree_sizes: Option<&str>,
    n_features: usize,
) -> Result<(usize, bool), ModelFileError> {
    let damaged = |why: String| ModelFileError::Damaged { why };
    let Some(end) = find_line(body, "end of trees") else {
        return Err(damaged(
            "the line `end of trees` is missing (the file may be cut short)".into(),
        ));
    };
    let trees = &body[..end];
    let mut blocks = Vec::new();
    match tree_sizes {
        None => {
            let mut at = None;
            let mut offset = 0;
            for line in trees.split_inclusive('\n') {
                if line.starts_with("Tree=") {
                    if let Some(start) = at {
                        blocks.push(&trees[start..offset]);
                    }
                    at = Some(offset);
                }
                offset += line.len();
            }
            if let Some(start) = at {
                blocks.push(&trees[start..]);
            }
        }
        Some(sizes) => {
            let mut at = 0usize;
            for (i, size) in sizes.split(' ').filter(|s| !s.is_empty()).enumerate() {
                let size: usize = size
                    .parse()
                    .map_err(|_| damaged(format!("tree_sizes holds {size:?}, not a size")))?;
                let block = trees.get(at..at.saturating_add(size)).ok_or_else(|| {
                    damaged(format!(
                        "tree {i} should span bytes {at}..{} of the trees, which end at byte {}",
                        at.saturating_add(size),
                        trees.len()
                    ))
                })?;
                let first = block.split('\n').next().unwrap_or("");
                if first != format!("Tree={i}") {
                    return Err(damaged(format!(
                        "tree {i} should start with `Tree={i}`, found {:?}",
                        first.chars().take(40).collect::<String>()
                    )));
                }
                blocks.push(block);
                at += size;
            }
            if trees[at..].trim() != "" {
                return Err(damaged(format!(
                    "{} bytes follow the {} trees that tree_sizes announces",
                    trees.len() - at,
                    blocks.len()
                )));
            }
        }
    }
    let mut linear = false;
    for (i, block) in blocks.iter().enumerate() {
        linear |=
            check_tree(block, n_features).map_err(|why| damaged(format!("tree {i}: {why}")))?;
    }
    Ok((blocks.len(), linear))
}

/// Checks one tree (`Tree=i` and its `key=value` lines) the way LightGBM will read it, so
/// that LightGBM never reads past an array or follows a child that is not there: every
/// array has the length `num_leaves` (or `num_cat`) gives it, children and split features
/// are in range, each node and leaf is reached exactly once from the root (no cycles),
/// and categorical splits name a category set that exists. Returns whether it is linear.
fn check_tree(block: &str, n_features: usize) -> Result<bool, String> {
    let fields: std::collections::HashMap<&str, &str> = block
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once('='))
        .collect();
    let int = |key: &str| -> Result<i64, String> {
        let v = fields.get(key).ok_or(format!("`{key}=` is missing"))?;
        v.trim()
            .parse()
            .map_err(|_| format!("`{key}={v}` is not a whole number"))
    };
    // An array of `n` numbers of type T, or None when the key is absent.
    fn array<T: std::str::FromStr>(
        fields: &std::collections::HashMap<&str, &str>,
        key: &str,
        n: usize,
    ) -> Result<Option<Vec<T>>, String> {
        let Some(v) = fields.get(key) else {
            return Ok(None);
        };
        let values: Vec<T> = v
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(|t| t.parse::<T>().map_err(|_| format!("`{key}` holds {t:?}")))
            .collect::<Result<_, _>>()?;
        if values.len() != n {
            return Err(format!("`{key}` holds {} values, not {n}", values.len()));
        }
        Ok(Some(values))
    }
    let required = |key: &str| format!("`{key}=` is missing");
    let num_leaves = int("num_leaves")?;
    let num_cat = int("num_cat")?;
    if !(1..=1 << 24).contains(&num_leaves) || !(0..=1 << 24).contains(&num_cat) {
        return Err(format!("num_leaves={num_leaves}, num_cat={num_cat}"));
    }
    let (leaves, cats) = (num_leaves as usize, num_cat as usize);
    let linear = fields.get("is_linear").is_some_and(|v| v.trim() != "0");
    array::<f64>(&fields, "leaf_value", leaves)?.ok_or(required("leaf_value"))?;
    array::<f64>(&fields, "leaf_count", leaves)?;
    array::<f64>(&fields, "leaf_weight", leaves)?;
    if leaves > 1 || linear {
        let nodes = leaves - 1;
        let left = array::<i64>(&fields, "left_child", nodes)?.ok_or(required("left_child"))?;
        let right = array::<i64>(&fields, "right_child", nodes)?.ok_or(required("right_child"))?;
        let features =
            array::<i64>(&fields, "split_feature", nodes)?.ok_or(required("split_feature"))?;
        let thresholds = array::<f64>(&fields, "threshold", nodes)?.ok_or(required("threshold"))?;
        for key in [
            "split_gain",
            "internal_value",
            "internal_weight",
            "internal_count",
        ] {
            array::<f64>(&fields, key, nodes)?;
        }
        let decisions = array::<i64>(&fields, "decision_type", nodes)?;
        // Each internal node but the root, and each leaf, is the child of exactly one node.
        let mut seen_nodes = vec![false; nodes];
        let mut seen_leaves = vec![false; leaves];
        for (node, &child) in left.iter().chain(&right).enumerate() {
            let slot = if child >= 0 {
                seen_nodes.get_mut(child as usize).filter(|_| child != 0)
            } else {
                seen_leaves.get_mut((-(child + 1)) as usize)
            };
            match slot {
                Some(seen) if !*seen => *seen = true,
                _ => {
                    return Err(format!(
                        "node {} has child {child}, which is out of range or taken",
                        node % nodes
                    ))
                }
            }
        }
        // Unique children make this walk from the root end; it must reach every node.
        let (mut stack, mut reached) = (vec![0usize], 0usize);
        while let Some(node) = stack.pop().filter(|_| nodes > 0) {
            reached += 1;
            for child in [left[node], right[node]] {
                if child >= 0 {
                    stack.push(child as usize);
                }
            }
        }
        if reached != nodes {
            return Err(format!(
                "{reached} of {nodes} nodes are reached from the root"
            ));
        }
        for (node, &f) in features.iter().enumerate() {
            if f < 0 || f as usize >= n_features {
                return Err(format!("node {node} splits on feature {f} of {n_features}"));
            }
            let decision = decisions.as_ref().map_or(0, |d| d[node]);
            if !(0..=127).contains(&decision) || (decision >> 2) & 3 == 3 {
                return Err(format!("node {node} has decision_type {decision}"));
            }
            // A categorical split's threshold indexes the tree's category sets.
            let t = thresholds[node];
            if decision & 1 == 1 && !(t >= 0.0 && (t as usize) < cats && t.fract() == 0.0) {
                return Err(format!("node {node} names category set {t} of {cats}"));
            }
        }
    }
    if cats > 0 {
        let bounds =
            array::<i64>(&fields, "cat_boundaries", cats + 1)?.ok_or(required("cat_boundaries"))?;
        if bounds[0] != 0 || bounds.windows(2).any(|w| w[1] < w[0]) || bounds[cats] > 1 << 24 {
            return Err(format!(
                "`cat_boundaries` {bounds:?} are not ascending from 0"
            ));
        }
        array::<u32>(&fields, "cat_threshold", bounds[cats] as usize)?
            .ok_or(required("cat_threshold"))?;
    }
    if linear {
        array::<f64>(&fields, "leaf_const", leaves)?;
        if let Some(counts) = array::<i64>(&fields, "num_features", leaves)? {
            if counts.iter().any(|&c| c < 0 || c as usize > n_features) {
                return Err(format!("`num_features` {counts:?} out of range"));
            }
            let total = counts.iter().sum::<i64>() as usize;
            if let Some(used) = array::<i64>(&fields, "leaf_features", total)? {
                if used.iter().any(|&f| f < 0 || f as usize >= n_features) {
                    return Err("`leaf_features` names a feature out of range".into());
                }
            }
            array::<f64>(&fields, "leaf_coeff", total)?;
        }
    }
    Ok(linear)
}

/// Byte offset of the first line of `text` equal to `line`.
fn find_line(text: &str, line: &str) -> Option<usize> {
    let mut at = 0;
    for l in text.split('\n') {
        if l == line {
            return Some(at);
        }
        at += l.len() + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/model.txt");
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn reads_the_demo_model() {
        let m = ModelFile::parse(demo().as_bytes()).unwrap();
        assert_eq!(m.feature_names().len(), 419);
        assert_eq!(m.objective().name, "binary");
        assert!(!m.has_linear_trees());
        assert!(m.n_trees() > 10);
    }

    #[test]
    fn windows_line_endings_read_as_the_same_model() {
        let text = demo();
        let crlf = text.replace('\n', "\r\n");
        let m = ModelFile::parse(crlf.as_bytes()).unwrap();
        assert_eq!(m.text(), text);
        // With a byte order mark too, as some Windows editors save it.
        let bom = [b"\xef\xbb\xbf".as_slice(), crlf.as_bytes()].concat();
        assert_eq!(ModelFile::parse(&bom).unwrap().text(), text);
    }

    #[test]
    fn every_cut_of_the_file_is_refused() {
        let text = demo();
        let end = text.find("end of trees").unwrap();
        // Cut anywhere in the trees (a sample of places) and just before the end marker.
        for cut in (1..end + 12).step_by(997).chain([end - 1, end + 5]) {
            assert!(
                ModelFile::parse(&text.as_bytes()[..cut]).is_err(),
                "cut at byte {cut} was accepted"
            );
        }
    }

    #[test]
    fn files_that_are_not_models_are_refused_with_a_reason() {
        assert!(matches!(ModelFile::parse(b""), Err(ModelFileError::Empty)));
        assert!(matches!(
            ModelFile::parse(b"\n \n"),
            Err(ModelFileError::Empty)
        ));
        assert!(matches!(
            ModelFile::parse(b"name,age\nx,1\n"),
            Err(ModelFileError::NotLightGbm)
        ));
        assert!(matches!(
            ModelFile::parse(b"tree\n\0"),
            Err(ModelFileError::NotText)
        ));
        assert!(matches!(
            ModelFile::parse(&[0xff, 0xfe, 0x00]),
            Err(ModelFileError::NotText)
        ));
        let v3 = demo().replacen("version=v4", "version=v3", 1);
        let err = ModelFile::parse(v3.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("v3"), "{err}");
    }

    #[test]
    fn objectives_other_than_probabilities_are_named_in_the_refusal() {
        let text = demo();
        for (objective, named) in [
            ("regression", "`regression`"),
            ("cross_entropy_lambda", "`cross_entropy_lambda`"),
            ("lambdarank", "`lambdarank`"),
        ] {
            let t = text.replacen(
                "objective=binary sigmoid:1",
                &format!("objective={objective}"),
                1,
            );
            let err = ModelFile::parse(t.as_bytes()).unwrap_err().to_string();
            assert!(
                err.contains(named) && err.contains("`binary` or `cross_entropy`"),
                "{err}"
            );
        }
        let t = text.replacen("objective=binary sigmoid:1\n", "", 1);
        let err = ModelFile::parse(t.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("custom objective"), "{err}");
    }
}
