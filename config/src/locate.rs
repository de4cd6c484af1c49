//! Lines of a config file's text: where a top-level key, a list entry, a repeated key or a
//! `${...}` reference is, so that errors found after parsing (a wrong type, a missing variable)
//! still name `file:line`. Block YAML and JSON as people write them; a line that cannot be
//! found is simply left out of the message.

/// 1-based line of the top-level `key` (`key:` at column 0 in YAML, `"key":` in JSON).
pub(crate) fn top_level_key_line(text: &str, json: bool, key: &str) -> Option<usize> {
    if json {
        let quoted = format!("\"{key}\"");
        return text
            .lines()
            .position(|line| {
                line.find(&quoted)
                    .is_some_and(|at| line[at + quoted.len()..].trim_start().starts_with(':'))
            })
            .map(|i| i + 1);
    }
    text.lines()
        .position(|line| !line.starts_with([' ', '\t', '#', '-']) && is_key_line(line, key))
        .map(|i| i + 1)
}

/// 1-based line of entry `position` (1-based) of the top-level list `list`.
pub(crate) fn list_entry_line(
    text: &str,
    json: bool,
    list: &str,
    position: usize,
) -> Option<usize> {
    let start = top_level_key_line(text, json, list)?;
    if json {
        // One entry per line is the common layout; else the list's own line.
        return Some(start);
    }
    let mut entries = 0;
    let mut indent = None;
    for (i, line) in text.lines().enumerate().skip(start) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let this_indent = line.len() - trimmed.len();
        if this_indent == 0 && !trimmed.starts_with('-') {
            break; // the next top-level key
        }
        if trimmed.starts_with('-') && indent.is_none_or(|i| i == this_indent) {
            indent = Some(this_indent);
            entries += 1;
            if entries == position {
                return Some(i + 1);
            }
        }
    }
    Some(start)
}

/// 1-based line where `key` appears a second time in the block mapping that starts at line
/// `mapping_line`, column `mapping_column` (both 1-based, as serde_yaml reports them).
pub(crate) fn repeated_key_line(
    text: &str,
    mapping_line: usize,
    mapping_column: usize,
    key: &str,
) -> Option<usize> {
    let indent = mapping_column.saturating_sub(1);
    let mut seen = 0;
    for (i, line) in text
        .lines()
        .enumerate()
        .skip(mapping_line.saturating_sub(1))
    {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let this_indent = line.len() - trimmed.len();
        // A list entry's first key sits after its `- `.
        let (this_indent, content) = match trimmed.strip_prefix("- ") {
            Some(rest) if i + 1 == mapping_line => (this_indent + 2, rest.trim_start()),
            _ => (this_indent, trimmed),
        };
        if i + 1 > mapping_line && this_indent < indent {
            break;
        }
        if this_indent == indent && is_key_line(content, key) {
            seen += 1;
            if seen == 2 {
                return Some(i + 1);
            }
        }
    }
    None
}

/// 1-based line of the first occurrence of `needle`.
pub(crate) fn first_line_containing(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// Whether `content` (a line without its indentation) starts with `key:` (quoted or not).
fn is_key_line(content: &str, key: &str) -> bool {
    let content = content.trim_start();
    let after = ["\"", "'", ""].iter().find_map(|q| {
        content
            .strip_prefix(q)
            .and_then(|r| r.strip_prefix(key))
            .and_then(|r| r.strip_prefix(q))
    });
    after.is_some_and(|rest| {
        let rest = rest.trim_start();
        rest.starts_with(':') && (rest.len() == 1 || rest[1..].starts_with([' ', '\t']))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "\
# comment
project: rl
exporters:
  - type: file
    path: a.jsonl
  # between
  - {type: otlp}
queue_capacity: lots
\"run_name\": x
";

    #[test]
    fn finds_keys_entries_and_repeats() {
        assert_eq!(top_level_key_line(YAML, false, "project"), Some(2));
        assert_eq!(top_level_key_line(YAML, false, "queue_capacity"), Some(8));
        assert_eq!(top_level_key_line(YAML, false, "run_name"), Some(9));
        assert_eq!(top_level_key_line(YAML, false, "path"), None);
        assert_eq!(list_entry_line(YAML, false, "exporters", 1), Some(4));
        assert_eq!(list_entry_line(YAML, false, "exporters", 2), Some(7));
        let dup = "a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\n";
        assert_eq!(repeated_key_line(dup, 3, 3, "c"), Some(5));
        let entry = "exporters:\n  - type: file\n    path: x\n    type: otlp\n";
        assert_eq!(repeated_key_line(entry, 2, 5, "type"), Some(4));
        let json = "{\n  \"project\": \"rl\",\n  \"queue_capacity\": \"x\"\n}";
        assert_eq!(top_level_key_line(json, true, "queue_capacity"), Some(3));
        assert_eq!(first_line_containing(YAML, "otlp"), Some(7));
    }
}
