//! Times `sma check` phases on a config (development aid): `cargo run --release -p
//! check --example profile -- CONFIG`.
fn main() {
    let path = std::env::args().nth(1).expect("config path");
    let templates = templates::Templates::embedded().unwrap();
    let plan = model::load(std::path::Path::new(&path)).unwrap();
    let t = std::time::Instant::now();
    let files = templates::render_plan(&plan, &templates).unwrap();
    println!("render {:?}", t.elapsed());
    let artifacts: Vec<check::Artifact> = files.iter().map(check::Artifact::from).collect();
    for access in &plan.accesses {
        let t = std::time::Instant::now();
        let findings = check::check_access(access, &artifacts).unwrap();
        println!(
            "{} {:?} {} finding(s)",
            access.name,
            t.elapsed(),
            findings.len()
        );
    }
}
