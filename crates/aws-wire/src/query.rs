//! The AWS query protocol's parameters (`Action=...&Name=value`, as received, in
//! order): single values, `Prefix.member.N` lists, `Tags.member.N.Key/Value` and
//! `PolicyArns.member.N.arn`.

/// Query parameters of a request (ordered, as received).
pub type Params = Vec<(String, String)>;

/// The value of a parameter.
pub fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `Prefix.member.N` values in index order.
pub fn member_list(params: &Params, prefix: &str) -> Vec<String> {
    let mut items: Vec<(u32, String)> = params
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix(prefix)?.strip_prefix(".member.")?;
            Some((rest.parse().ok()?, v.clone()))
        })
        .collect();
    items.sort_by_key(|(i, _)| *i);
    items.into_iter().map(|(_, v)| v).collect()
}

/// `Tags.member.N.Key` / `.Value` pairs in index order.
pub fn tag_list(params: &Params) -> Vec<(String, String)> {
    let mut by_index: std::collections::BTreeMap<u32, (Option<String>, Option<String>)> =
        Default::default();
    for (k, v) in params {
        let Some(rest) = k.strip_prefix("Tags.member.") else {
            continue;
        };
        let Some((i, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(i) = i.parse::<u32>() else { continue };
        let e = by_index.entry(i).or_default();
        match field {
            "Key" => e.0 = Some(v.clone()),
            "Value" => e.1 = Some(v.clone()),
            _ => {}
        }
    }
    by_index
        .into_values()
        .filter_map(|(k, v)| Some((k?, v.unwrap_or_default())))
        .collect()
}

/// `PolicyArns.member.N.arn` values in index order.
pub fn policy_arns(params: &Params) -> Vec<String> {
    let mut items: Vec<(u32, String)> = params
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix("PolicyArns.member.")?;
            let (i, field) = rest.split_once('.')?;
            (field == "arn").then(|| Some((i.parse().ok()?, v.clone())))?
        })
        .collect();
    items.sort_by_key(|(i, _)| *i);
    items.into_iter().map(|(_, v)| v).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params() {
        let p: Params = vec![
            ("Tags.member.2.Key".into(), "b".into()),
            ("Tags.member.2.Value".into(), "2".into()),
            ("Tags.member.1.Key".into(), "a".into()),
            ("Tags.member.1.Value".into(), "1".into()),
            ("TransitiveTagKeys.member.1".into(), "a".into()),
            (
                "PolicyArns.member.1.arn".into(),
                "arn:aws:iam::aws:policy/X".into(),
            ),
        ];
        assert_eq!(
            tag_list(&p),
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert_eq!(member_list(&p, "TransitiveTagKeys"), vec!["a".to_string()]);
        assert_eq!(
            policy_arns(&p),
            vec!["arn:aws:iam::aws:policy/X".to_string()]
        );
    }
}
