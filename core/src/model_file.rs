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
//! - Windows line endings are read: CRLF is turned into LF before anything else, so a
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
    #[error("the model file is empty")]
    Empty,
    #[error(
        "not a LightGBM text model: it does not start with a line `tree` \
         (save the model with Python's `booster.save_model(\"model.txt\")`)"
    )]
    NotLightGbm,
    #[error("the model file is not plain text (it holds a NUL byte or is not UTF-8)")]
    NotText,
    #[error(
        "the model file is format {found}; scorewatch reads LightGBM 4 models (version={SUPPORTED_VERSION}): \
         load it with LightGBM 4 and save it again"
    )]
    Version { found: String },
    #[error(
        "the model's objective is {}: scorewatch serves models whose output is a probability \
         of default, trained with objective {}",
        found.as_deref().map(|o| format!("`{o}`")).unwrap_or_else(|| "not recorded in the file (a custom objective, whose output is a raw margin)".into()),
        SUPPORTED_OBJECTIVES.map(|o| format!("`{o}`")).join(" or ")
    )]
    Objective { found: Option<String> },
    #[error("the model has {n} outputs per row; a probability of default is one (num_class=1)")]
    Classes { n: String },
    #[error("the model file's header lacks `{key}=`")]
    MissingKey { key: &'static str },
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
        let (n_trees, linear) = check_trees(body, get("tree_sizes"))?;
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

    pub fn objective(&self) -> &Objective {
        &self.objective
    }

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
/// `end of trees` must be there. Returns the number of trees and whether any is linear.
fn check_trees(body: &str, tree_sizes: Option<&str>) -> Result<(usize, bool), ModelFileError> {
    let damaged = |why: String| ModelFileError::Damaged { why };
    let Some(end) = find_line(body, "end of trees") else {
        return Err(damaged(
            "the line `end of trees` is missing (the file may be cut short)".into(),
        ));
    };
    let trees = &body[..end];
    let linear = trees
        .split('\n')
        .any(|l| l.strip_prefix("is_linear=").is_some_and(|v| v != "0"));
    let Some(sizes) = tree_sizes else {
        let n = trees.split('\n').filter(|l| l.starts_with("Tree=")).count();
        return Ok((n, linear));
    };
    let mut at = 0usize;
    let mut n = 0usize;
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
        at += size;
        n += 1;
    }
    if trees[at..].trim() != "" {
        return Err(damaged(format!(
            "{} bytes follow the {n} trees that tree_sizes announces",
            trees.len() - at
        )));
    }
    Ok((n, linear))
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
