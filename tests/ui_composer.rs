//! The composer as a user meets it (issue 10, items 4, 5, 10, 15, 16 and 22): pack defaults
//! laid over the user's own settings and never over another pack's, a pack's seed -1 is
//! Random, Load into composer restores the recorded prompts (and can be undone), the draft
//! survives a restart, editable sampler / scheduler / model fields, sizes in steps of 8.
//!
//! The real app runs headless (egui_kittest) on a temporary data folder holding the packs of
//! `tests/fixtures/composer/packs`: Architecture (.txt prompts, settings in Architecture.json
//! with a model and seed -1), Animals (.tsv, no settings) and Portraits (keyed .json, a fixed
//! seed and another model).

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use promptdesk::app::PromptDeskApp;
use promptdesk::app::state::{AppState, Command, Persisted};
use promptdesk::{
    GenerationSettings, HistoryStore, JobRecord, PromptSource, RunConfig,
    build_run_config_for_manual_prompt, job_record_from_run_config,
};

mod support;
use support::*;

const COMPOSER_PACKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/composer/packs");

type App = Harness<'static, PromptDeskApp>;

/// A data folder and a packs folder holding the composer fixture packs.
fn composer_setup() -> Setup {
    setup_with(COMPOSER_PACKS)
}

/// The app restarted on the same folders with what the last run saved.
fn restarted(setup: &Setup, persisted: Persisted) -> App {
    let (data, packs) = (setup.data_dir.clone(), setup.packs_dir.clone());
    harness_of_state(AppState::new(data, packs, persisted))
}

/// Applies commands as the panels would push them, then lets the app settle.
fn push(harness: &mut App, commands: impl IntoIterator<Item = Command>) {
    for command in commands {
        harness.state_mut().push(command);
    }
    settle(harness);
}

/// Selects a pack (as a click in the pack list does) and checks these keys.
fn select(harness: &mut App, pack: &str, keys: &[&str]) {
    let mut commands = vec![Command::SelectPack(pack.to_owned())];
    commands.extend(
        keys.iter()
            .map(|k| Command::SetKeyChecked((*k).to_owned(), true)),
    );
    push(harness, commands);
}

fn submit(harness: &mut App) {
    harness.get_by_label("Submit").click();
    settle(harness);
}

fn records(setup: &Setup) -> Vec<JobRecord> {
    HistoryStore::open(history_file(setup))
        .unwrap()
        .records()
        .to_vec()
}

fn last_record(setup: &Setup) -> JobRecord {
    records(setup).pop().expect("a record")
}

fn settings(harness: &App) -> GenerationSettings {
    harness.state().state.composer.settings.clone()
}

fn type_into(harness: &mut App, role: Role, label: &str, text: &str) {
    harness.get_by_role_and_label(role, label).focus();
    harness.run();
    harness.get_by_role_and_label(role, label).type_text(text);
    harness.run();
}

/// Appends a job to the history file before the app starts.
fn seed_job(setup: &Setup, id: &str, cfg: &RunConfig) {
    let mut store = HistoryStore::open(history_file(setup)).unwrap();
    store.append(&job_record_from_run_config(id, cfg)).unwrap();
}

fn manual_cfg(prompt: &str, settings: GenerationSettings) -> RunConfig {
    let base = RunConfig {
        settings,
        ..RunConfig::default()
    };
    build_run_config_for_manual_prompt(prompt, "", Some(base))
}

/// Selects the job and clicks Load into composer in its details.
fn load_job(harness: &mut App, id: &str) {
    push(harness, [Command::SelectJob(Some(id.to_owned()))]);
    harness.get_by_label("Load into composer").click();
    settle(harness);
}

fn architecture_settings(s: &GenerationSettings, seed: i64) {
    assert_eq!(s.model, "archvision_v2.safetensors");
    assert_eq!(s.sampler, "DPM++ 2M");
    assert_eq!(s.scheduler, "Karras");
    assert_eq!(s.steps, 28);
    assert_eq!(s.cfg_scale, 6.5);
    assert_eq!((s.width, s.height), (832, 1216));
    assert_eq!(s.seed, seed);
}

/// Item 4: Architecture (DPM++ 2M, Karras, 28 steps, 832x1216, a model) then Animals (no
/// settings): Animals records the user's own settings, not Architecture's, and no model.
#[test]
fn pack_defaults_never_leak_into_the_next_pack() {
    let setup = composer_setup();
    let mut harness = harness(&setup);
    let mine = settings(&harness);

    select(&mut harness, "Architecture", &["1"]);
    architecture_settings(&settings(&harness), mine.seed);
    // The composer says where the values come from, and offers the way back.
    harness.get_by_label_contains(
        "From Architecture.json: model, sampler, scheduler, steps, CFG scale, width, height, seed.",
    );
    harness.get_by_label("Reset to my settings");
    submit(&mut harness);
    let arch = last_record(&setup);
    assert_eq!(arch.prompt_pack_id.as_deref(), Some("Architecture"));
    architecture_settings(&arch.run_config.settings, -1);

    select(&mut harness, "Animals", &["1"]);
    assert!(harness.query_by_label("Reset to my settings").is_none());
    harness.get_by_label_contains("Your own settings");
    submit(&mut harness);
    let animals = last_record(&setup);
    assert_eq!(animals.prompt_pack_id.as_deref(), Some("Animals"));
    assert_eq!(
        animals.run_config.settings,
        GenerationSettings {
            seed: -1,
            ..mine.clone()
        },
        "Animals names no setting: the user's own settings, not Architecture's"
    );
    assert_eq!(animals.run_config.settings.model, "");

    // Portraits names another model and a fixed seed; Architecture again gets its own model.
    select(&mut harness, "Portraits", &["window light"]);
    submit(&mut harness);
    let portraits = last_record(&setup).run_config.settings;
    assert_eq!(portraits.model, "portrait_xl.safetensors");
    assert_eq!((portraits.seed, portraits.steps), (1234, 35));
    assert_eq!(
        portraits.sampler, mine.sampler,
        "Portraits names no sampler"
    );
    select(&mut harness, "Architecture", &["2"]);
    submit(&mut harness);
    architecture_settings(&last_record(&setup).run_config.settings, -1);

    // What a restart keeps is the user's own settings, never a pack's.
    let persisted = harness.state().state.persisted();
    assert_eq!(persisted.settings.as_ref(), Some(&mine));
    assert_eq!(persisted.random_seed, Some(true));
}

/// Item 4, the rule for hand edits: a value changed while a pack is selected becomes the
/// user's own (kept for other packs, saved, and it wins over that pack's default until a
/// restart); Use pack defaults and Reset to my settings switch between the two.
#[test]
fn a_value_changed_while_a_pack_is_selected_becomes_my_own() {
    let setup = composer_setup();
    let mut harness = harness(&setup);
    select(&mut harness, "Architecture", &["1"]);
    assert_eq!(settings(&harness).steps, 28);

    // Typed into the Steps field as a user would.
    type_into(&mut harness, Role::SpinButton, "Steps", "40");
    harness.key_press(egui::Key::Enter);
    harness.run();
    assert_eq!(settings(&harness).steps, 40);
    harness.get_by_label_contains(
        "From Architecture.json: model, sampler, scheduler, CFG scale, width, height, seed.",
    );
    harness.get_by_label("Use pack defaults");

    // Animals: the user's 40, none of Architecture's other values.
    select(&mut harness, "Animals", &["1"]);
    let s = settings(&harness);
    assert_eq!(s.steps, 40);
    assert_eq!((s.sampler.as_str(), s.width), ("Euler a", 512));
    assert_eq!(
        harness.state().state.persisted().settings.unwrap().steps,
        40
    );

    // A hand edit while Animals is selected is the user's too; Architecture lays its own
    // default over it, but keeps the user's 40 steps.
    harness.state_mut().state.composer.settings.cfg_scale = 3.0;
    harness.run();
    select(&mut harness, "Architecture", &["1"]);
    let s = settings(&harness);
    assert_eq!((s.steps, s.cfg_scale, s.width), (40, 6.5, 832));
    select(&mut harness, "Animals", &["1"]);
    assert_eq!(settings(&harness).cfg_scale, 3.0);

    // Back on Architecture: Use pack defaults brings its 28 back; Reset to my settings drops
    // every value of the pack.
    select(&mut harness, "Architecture", &["1"]);
    harness.get_by_label("Use pack defaults").click();
    harness.run();
    assert_eq!(settings(&harness).steps, 28);
    harness.get_by_label("Reset to my settings").click();
    harness.run();
    let s = settings(&harness);
    assert_eq!((s.steps, s.cfg_scale, s.width), (40, 3.0, 512));
    assert_eq!(s.model, "");
    harness.get_by_label_contains("Pack Architecture's defaults (Architecture.json) are not used");
    submit(&mut harness);
    let recorded = last_record(&setup).run_config.settings;
    assert_eq!(
        (recorded.steps, recorded.width, recorded.model.as_str()),
        (40, 512, "")
    );
}

/// Manual mode uses the user's own settings even while a pack with defaults is selected.
#[test]
fn a_manual_job_does_not_take_the_selected_packs_defaults() {
    let setup = composer_setup();
    let mut harness = harness(&setup);
    let mine = settings(&harness);
    select(&mut harness, "Architecture", &["1"]);
    harness.get_by_label("Manual").click();
    harness.run();
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        "Prompt",
        "a quiet street",
    );
    submit(&mut harness);
    let record = last_record(&setup);
    assert_eq!(record.prompt_source, PromptSource::Manual);
    assert_eq!(
        record.run_config.settings,
        GenerationSettings { seed: -1, ..mine }
    );
}

/// Item 5: after loading a job with a fixed seed (Random unticked), or unticking Random by
/// hand, a pack whose seed is -1 records -1 (Random), not 0; a pack with a fixed seed records
/// it; a pack naming no seed records the user's own.
#[test]
fn a_pack_seed_of_minus_one_means_random() {
    let setup = composer_setup();
    seed_job(
        &setup,
        "fixed-seed-job",
        &manual_cfg(
            "a fixed seed",
            GenerationSettings {
                seed: 42,
                ..GenerationSettings::default()
            },
        ),
    );
    let mut harness = harness(&setup);
    load_job(&mut harness, "fixed-seed-job");
    assert!(!harness.state().state.composer.random_seed);
    assert_eq!(settings(&harness).seed, 42);

    select(&mut harness, "Architecture", &["1"]);
    assert!(
        harness.state().state.composer.random_seed,
        "-1 from a pack ticks Random"
    );
    submit(&mut harness);
    assert_eq!(last_record(&setup).run_config.settings.seed, -1);

    // Random unticked by hand, seed 42: the user's own; Architecture's -1 is still Random.
    select(&mut harness, "Animals", &["2"]);
    assert!(harness.state().state.composer.random_seed);
    harness.get_by_label("Random").click();
    harness.run();
    type_into(&mut harness, Role::SpinButton, "Seed", "42");
    harness.key_press(egui::Key::Enter);
    harness.run();
    select(&mut harness, "Architecture", &["1"]);
    assert!(harness.state().state.composer.random_seed);
    submit(&mut harness);
    assert_eq!(last_record(&setup).run_config.settings.seed, -1);

    // Portraits' fixed seed unticks it; Animals (no seed) is back to the user's 42.
    select(&mut harness, "Portraits", &["window light"]);
    submit(&mut harness);
    assert_eq!(last_record(&setup).run_config.settings.seed, 1234);
    select(&mut harness, "Animals", &["2"]);
    submit(&mut harness);
    assert_eq!(last_record(&setup).run_config.settings.seed, 42);
}

const OLD_TEXT: &str = "modern concrete house cantilevered over a forest slope";
const NEW_TEXT: &str = "a timber cabin on stilts above a lake";

/// Item 10: after the pack file changed, Load into composer shows and records the prompt the
/// job recorded (source PACK, pack and keys kept) and says the text changed; Use current
/// text switches to the pack's text as it is now.
#[test]
fn load_into_composer_restores_the_recorded_prompt_after_the_pack_changed() {
    let setup = composer_setup();
    let mut harness = harness(&setup);
    select(&mut harness, "Architecture", &["1"]);
    submit(&mut harness);
    let job = last_record(&setup);
    assert_eq!(job.run_config.prompt_pairs()[0].0, OLD_TEXT);

    // The pack is edited, and reloaded; something else is selected meanwhile.
    let txt = setup.packs_dir.join("Architecture.txt");
    let text = std::fs::read_to_string(&txt)
        .unwrap()
        .replace(OLD_TEXT, NEW_TEXT);
    std::fs::write(&txt, text).unwrap();
    push(&mut harness, [Command::ReloadPacks]);
    select(&mut harness, "Animals", &["2"]);
    assert_eq!(harness.state().state.selected_pack().unwrap().id, "Animals");

    load_job(&mut harness, &job.job_id);
    let state = &harness.state().state;
    assert_eq!(state.selected_pack.as_deref(), Some("Architecture"));
    assert_eq!(state.checked_keys, vec!["1"]);
    assert_eq!(state.composer.mode, PromptSource::Pack);
    harness.get_by_label_contains("Architecture.txt has changed since job");
    harness.get_by_label_contains("As recorded by job");

    submit(&mut harness);
    let again = last_record(&setup);
    assert_eq!(again.prompt_source, PromptSource::Pack);
    assert_eq!(again.prompt_pack_id.as_deref(), Some("Architecture"));
    assert_eq!(again.prompt_keys, vec!["1"]);
    assert_eq!(
        again.run_config.prompt_pairs(),
        job.run_config.prompt_pairs()
    );
    assert_eq!(again.run_config.settings, job.run_config.settings);

    // A load over it keeps the recorded prompts in its undo (saved too); Undo load restores
    // them.
    load_job(&mut harness, &job.job_id);
    let persisted = through_eframe_storage(&harness.state().state.persisted());
    assert!(persisted.load_undo.last().unwrap().recorded.is_some());
    harness.get_by_label("Undo load").click();
    settle(&mut harness);
    assert!(harness.state().state.composer.recorded.is_some());

    harness.get_by_label("Use current text").click();
    harness.run();
    assert!(
        harness
            .query_by_label_contains("has changed since job")
            .is_none()
    );
    submit(&mut harness);
    let current = last_record(&setup);
    assert_eq!(current.run_config.prompt_pairs()[0].0, NEW_TEXT);
    assert_eq!(current.prompt_keys, vec!["1"]);
}

/// Item 22: Load into composer replaces a typed draft, says so, and Undo load brings back the
/// draft, the mode, the pack selection and the settings.
#[test]
fn undo_load_brings_back_the_draft_and_settings() {
    let setup = composer_setup();
    seed_job(
        &setup,
        "old-job",
        &manual_cfg("the recorded prompt", GenerationSettings::default()),
    );
    let mut harness = harness(&setup);
    harness.get_by_label("Manual").click();
    harness.run();
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        "Prompt",
        "my unsaved draft",
    );
    harness.state_mut().state.composer.settings.steps = 44;
    harness.run();

    load_job(&mut harness, "old-job");
    assert_eq!(harness.state().state.composer.prompt, "the recorded prompt");
    assert_eq!(settings(&harness).steps, 20);
    let message = format!("{:?}", harness.state().state.message);
    assert!(message.contains("Undo load"), "{message}");
    harness.get_by_label("Loaded job old-job into the composer.");

    harness.get_by_label("Undo load").click();
    settle(&mut harness);
    let state = &harness.state().state;
    assert_eq!(state.composer.prompt, "my unsaved draft");
    assert_eq!(state.composer.mode, PromptSource::Manual);
    assert_eq!(state.composer.settings.steps, 44);
    assert!(harness.query_by_label("Undo load").is_none());
    let message = format!("{:?}", harness.state().state.message);
    assert!(message.contains("undone"), "{message}");

    // Loading a pack job while a pack was selected: undo restores that pack and its keys.
    select(&mut harness, "Animals", &["2"]);
    submit(&mut harness);
    let animals_job = last_record(&setup).job_id;
    select(&mut harness, "Architecture", &["1", "2"]);
    load_job(&mut harness, &animals_job);
    assert_eq!(
        harness.state().state.selected_pack.as_deref(),
        Some("Animals")
    );
    harness.get_by_label("Undo load").click();
    settle(&mut harness);
    let state = &harness.state().state;
    assert_eq!(state.selected_pack.as_deref(), Some("Architecture"));
    assert_eq!(state.checked_keys, vec!["1", "2"]);
    assert_eq!(state.composer.settings.steps, 28);
}

/// Item 22: the draft (prompt, negative, mode) and the user's own settings survive a restart;
/// the selected pack's defaults do not become them. An older saved state still loads.
#[test]
fn the_draft_and_my_settings_survive_a_restart() {
    let setup = composer_setup();
    let persisted = {
        let mut harness = harness(&setup);
        harness.get_by_label("Manual").click();
        harness.run();
        type_into(
            &mut harness,
            Role::MultilineTextInput,
            "Prompt",
            "half-written idea",
        );
        type_into(
            &mut harness,
            Role::MultilineTextInput,
            "Negative prompt",
            "no text",
        );
        harness.state_mut().state.composer.settings.steps = 31;
        harness.run();
        // Into Pack mode on Architecture: its 28 steps are not the user's.
        select(&mut harness, "Architecture", &["1"]);
        harness.get_by_label("Manual").click();
        settle(&mut harness);
        harness.state().state.persisted()
    };
    let mut harness = restarted(&setup, persisted);
    let composer = &harness.state().state.composer;
    assert_eq!(composer.prompt, "half-written idea");
    assert_eq!(composer.negative, "no text");
    assert_eq!(composer.mode, PromptSource::Manual);
    assert_eq!(composer.settings.steps, 31);
    assert_eq!(composer.settings.sampler, "Euler a");
    assert_eq!(
        harness
            .get_by_role_and_label(Role::MultilineTextInput, "Prompt")
            .value()
            .as_deref(),
        Some("half-written idea")
    );
    submit(&mut harness);
    assert_eq!(last_record(&setup).first_prompt(), "half-written idea");

    // A state saved before the draft was kept (no prompt, negative or mode) still loads.
    let old: Persisted = serde_json::from_str(
        r#"{"theme":"Dark","settings":{"steps":33,"sampler":"DPM++ 2M"},"random_seed":false}"#,
    )
    .unwrap();
    assert_eq!(old.prompt, None);
    let harness = restarted(&setup, old);
    let composer = &harness.state().state.composer;
    assert_eq!((composer.settings.steps, composer.random_seed), (33, false));
    assert_eq!(composer.prompt, "");
}

/// Item 15: sampler, scheduler and model are editable combos: any name can be typed (a
/// ComfyUI sampler), and each has a list of suggestions (A1111 and ComfyUI names; the models
/// seen in the history and the packs).
#[test]
fn sampler_scheduler_and_model_take_any_name_and_offer_suggestions() {
    let setup = composer_setup();
    seed_job(
        &setup,
        "seen-model",
        &manual_cfg(
            "an earlier job",
            GenerationSettings {
                model: "juggernaut_xl_v9.safetensors".into(),
                ..GenerationSettings::default()
            },
        ),
    );
    let mut harness = harness(&setup);
    harness.get_by_label("Manual").click();
    harness.run();
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        "Prompt",
        "a red kite",
    );

    // Typed: a ComfyUI sampler name no fixed list had.
    harness
        .get_by_role_and_label(Role::TextInput, "Sampler")
        .focus();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness
        .get_by_role_and_label(Role::TextInput, "Sampler")
        .type_text("dpmpp_2m_sde");
    harness.run();
    assert_eq!(settings(&harness).sampler, "dpmpp_2m_sde");

    // Picked from the suggestions: a ComfyUI scheduler.
    harness.get_by_label("Scheduler suggestions").click();
    harness.run();
    harness.get_by_label("Karras");
    harness.get_by_label("sgm_uniform").scroll_to_me();
    harness.run();
    harness.get_by_label("sgm_uniform").click();
    harness.run();
    assert_eq!(settings(&harness).scheduler, "sgm_uniform");

    // Models: those of the history and of the packs.
    harness.get_by_label("Model suggestions").click();
    harness.run();
    // (the history table shows the earlier job's model too: the suggestions are buttons)
    harness.get_by_role_and_label(Role::Button, "archvision_v2.safetensors");
    harness.get_by_role_and_label(Role::Button, "portrait_xl.safetensors");
    harness
        .get_by_role_and_label(Role::Button, "juggernaut_xl_v9.safetensors")
        .click();
    harness.run();
    assert_eq!(settings(&harness).model, "juggernaut_xl_v9.safetensors");

    submit(&mut harness);
    let s = last_record(&setup).run_config.settings;
    assert_eq!(
        (s.sampler.as_str(), s.scheduler.as_str(), s.model.as_str()),
        (
            "dpmpp_2m_sde",
            "sgm_uniform",
            "juggernaut_xl_v9.safetensors"
        )
    );
}

/// Item 16: a width or height typed off A1111's step of 8 is rounded when the field is left;
/// a size that is no multiple of 8 from elsewhere (a loaded job) is flagged.
#[test]
fn width_and_height_round_to_multiples_of_8() {
    let setup = composer_setup();
    seed_job(
        &setup,
        "odd-size",
        &manual_cfg(
            "odd size",
            GenerationSettings {
                width: 1001,
                ..GenerationSettings::default()
            },
        ),
    );
    let mut harness = harness(&setup);
    type_into(&mut harness, Role::SpinButton, "Width", "1001");
    harness.key_press(egui::Key::Enter);
    harness.run();
    assert_eq!(settings(&harness).width, 1000);
    type_into(&mut harness, Role::SpinButton, "Height", "771");
    harness.key_press(egui::Key::Tab);
    harness.run();
    assert_eq!(settings(&harness).height, 768);
    assert!(
        harness
            .query_by_label_contains("not a multiple of 8")
            .is_none()
    );

    load_job(&mut harness, "odd-size");
    assert_eq!(
        settings(&harness).width,
        1001,
        "a loaded job keeps what it recorded"
    );
    harness.get_by_label_contains("not a multiple of 8");
}

// ---- Review findings (values out of range, loaded settings, missing packs, undo depth,
// ---- old saved states, Ctrl+Enter in a size field, model names off the UI thread).

/// Writes a pack file into the packs folder (before the app starts).
fn write_pack(setup: &Setup, file: &str, text: &str) {
    std::fs::write(setup.packs_dir.join(file), text).unwrap();
}

/// A pack job's RunConfig as something else (an import, an older version) recorded it.
fn pack_cfg(
    pack: Option<&str>,
    keys: &[&str],
    payload: serde_json::Value,
    settings: GenerationSettings,
) -> RunConfig {
    RunConfig {
        prompt_source: PromptSource::Pack,
        prompt_pack_id: pack.map(str::to_owned),
        prompt_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        prompt_payload: payload.as_object().unwrap().clone(),
        settings,
        ..RunConfig::default()
    }
}

fn message(harness: &App) -> String {
    match &harness.state().state.message {
        Some(promptdesk::app::state::Message::Info(m))
        | Some(promptdesk::app::state::Message::Error(m)) => m.clone(),
        None => String::new(),
    }
}

/// Review 1: a pack's value outside a field's range (steps 200, width 8192) is recorded as
/// the pack says and flagged, never clamped into the user's own settings (so the next pack
/// does not get it); a loaded seed above u32::MAX is recorded as it was.
#[test]
fn values_outside_a_fields_range_are_kept_flagged_and_never_leak() {
    let setup = composer_setup();
    write_pack(
        &setup,
        "Big.json",
        r#"{"name": "Big", "settings": {"steps": 200, "width": 8192}, "prompts": {"a": "a very large canvas"}}"#,
    );
    write_pack(
        &setup,
        "Small.json",
        r#"{"name": "Small", "prompts": {"a": "a small canvas"}}"#,
    );
    seed_job(
        &setup,
        "big-seed",
        &manual_cfg(
            "a big seed",
            GenerationSettings {
                seed: 5_000_000_000,
                ..GenerationSettings::default()
            },
        ),
    );
    let mut harness = harness(&setup);
    let mine = settings(&harness);

    select(&mut harness, "Big", &["a"]);
    harness.get_by_label_contains("outside");
    submit(&mut harness);
    let big = last_record(&setup).run_config.settings;
    assert_eq!((big.steps, big.width), (200, 8192));

    select(&mut harness, "Small", &["a"]);
    assert!(harness.query_by_label_contains("outside").is_none());
    submit(&mut harness);
    let small = last_record(&setup).run_config.settings;
    assert_eq!(
        (small.steps, small.width),
        (mine.steps, mine.width),
        "Big's values must not become the user's"
    );
    let saved = harness.state().state.persisted().settings.unwrap();
    assert_eq!((saved.steps, saved.width), (mine.steps, mine.width));

    load_job(&mut harness, "big-seed");
    assert_eq!(settings(&harness).seed, 5_000_000_000);
    submit(&mut harness);
    assert_eq!(last_record(&setup).run_config.settings.seed, 5_000_000_000);
}

/// Review 2: a loaded job's settings are a layer of their own: shown as coming from the job,
/// gone when another pack is selected, never saved as the user's own settings.
#[test]
fn a_loaded_jobs_settings_do_not_become_my_own() {
    let setup = composer_setup();
    seed_job(
        &setup,
        "manual-job",
        &manual_cfg(
            "a manual job",
            GenerationSettings {
                steps: 44,
                model: "manual_model.safetensors".into(),
                ..GenerationSettings::default()
            },
        ),
    );
    seed_job(
        &setup,
        "arch-job",
        &pack_cfg(
            Some("Architecture"),
            &["1"],
            serde_json::json!({"pack_id": "Architecture", "prompts": {
                "1": {"prompt": OLD_TEXT, "negative_prompt": "people, clutter"}}}),
            GenerationSettings {
                model: "big_model.safetensors".into(),
                steps: 33,
                seed: 77,
                ..GenerationSettings::default()
            },
        ),
    );
    let mut harness = harness(&setup);
    let mine = settings(&harness);
    select(&mut harness, "Animals", &["1"]);

    load_job(&mut harness, "arch-job");
    let s = settings(&harness);
    assert_eq!(
        (s.model.as_str(), s.steps, s.seed, s.sampler.as_str()),
        ("big_model.safetensors", 33, 77, "Euler a"),
        "the job's settings, over Architecture's defaults"
    );
    harness.get_by_label_contains("From job arch-job: model, sampler, scheduler, steps");
    submit(&mut harness);
    assert_eq!(last_record(&setup).run_config.settings.steps, 33);
    // Reset to my settings drops the job's values (and the pack's).
    harness.get_by_label("Reset to my settings").click();
    harness.run();
    assert_eq!(settings(&harness), mine);
    assert!(harness.query_by_label_contains("From job").is_none());
    load_job(&mut harness, "arch-job");
    assert_eq!(settings(&harness).steps, 33);
    assert_eq!(
        harness.state().state.persisted().settings.as_ref(),
        Some(&mine),
        "a loaded job's settings are not saved as the user's"
    );

    select(&mut harness, "Animals", &["1"]);
    submit(&mut harness);
    assert_eq!(
        last_record(&setup).run_config.settings,
        GenerationSettings {
            seed: -1,
            ..mine.clone()
        },
        "Animals gets the user's own settings, not the loaded job's"
    );
    assert_eq!(
        harness.state().state.persisted().settings.as_ref(),
        Some(&mine)
    );

    // A manual job's settings last until the mode changes; a field edited meanwhile is mine.
    load_job(&mut harness, "manual-job");
    assert_eq!(settings(&harness).steps, 44);
    harness.state_mut().state.composer.settings.cfg_scale = 4.0;
    harness.run();
    select(&mut harness, "Animals", &["1"]);
    let s = settings(&harness);
    assert_eq!(
        (s.steps, s.model.as_str(), s.cfg_scale),
        (mine.steps, "", 4.0)
    );
}

/// Review 3 (and 13): a pack job whose pack is gone, or that names no pack, loads its recorded
/// prompt as a manual prompt and says why; so does one whose keys are all gone from its pack
/// (without claiming "the others were loaded"). A StableNew import of several keys recorded
/// one text for all of them: the load says the pack's current text is used.
#[test]
fn a_job_whose_pack_or_keys_are_gone_loads_as_a_manual_prompt() {
    let setup = composer_setup();
    let steps = |n| GenerationSettings {
        steps: n,
        ..GenerationSettings::default()
    };
    seed_job(
        &setup,
        "gone-pack",
        &pack_cfg(
            Some("Vanished"),
            &["1", "2"],
            serde_json::json!({"pack_id": "Vanished", "prompts": {
                "1": {"prompt": "a vanished castle", "negative_prompt": "fog"},
                "2": {"prompt": "a second prompt", "negative_prompt": ""}}}),
            steps(31),
        ),
    );
    seed_job(
        &setup,
        "no-pack-id",
        &pack_cfg(
            None,
            &[],
            serde_json::json!({"prompt": "an imported prompt", "negative_prompt": "lowres",
                "imported_from": "StableNew"}),
            steps(32),
        ),
    );
    seed_job(
        &setup,
        "keys-gone",
        &pack_cfg(
            Some("Animals"),
            &["7"],
            serde_json::json!({"pack_id": "Animals", "prompts": {
                "7": {"prompt": "a heron in reeds", "negative_prompt": ""}}}),
            steps(33),
        ),
    );
    seed_job(
        &setup,
        "multi-key",
        &pack_cfg(
            Some("Architecture"),
            &["1", "2"],
            serde_json::json!({"pack_id": "Architecture", "prompt": "one text for two keys",
                "negative_prompt": "", "imported_from": "StableNew"}),
            steps(34),
        ),
    );
    let mut harness = harness(&setup);

    load_job(&mut harness, "gone-pack");
    let composer = &harness.state().state.composer;
    assert_eq!(composer.mode, PromptSource::Manual);
    assert_eq!(
        (composer.prompt.as_str(), composer.negative.as_str()),
        ("a vanished castle", "fog")
    );
    let m = message(&harness);
    assert!(
        m.contains("Vanished") && m.contains("manual prompt") && m.contains("first of its 2"),
        "{m}"
    );
    submit(&mut harness);
    let again = last_record(&setup);
    assert_eq!(again.prompt_source, PromptSource::Manual);
    assert_eq!(again.first_prompt(), "a vanished castle");
    assert_eq!(again.run_config.settings.steps, 31);

    load_job(&mut harness, "no-pack-id");
    let composer = &harness.state().state.composer;
    assert_eq!(composer.mode, PromptSource::Manual);
    assert_eq!(composer.prompt, "an imported prompt");
    let m = message(&harness);
    assert!(
        m.contains("names no pack") && m.contains("manual prompt"),
        "{m}"
    );
    assert!(!m.contains("\"\""), "{m}");
    harness.get_by_label("Submit");
    assert!(
        harness.state().state.submit_blocker().is_none(),
        "the loaded prompt can be submitted"
    );

    load_job(&mut harness, "keys-gone");
    let composer = &harness.state().state.composer;
    assert_eq!(composer.mode, PromptSource::Manual);
    assert_eq!(composer.prompt, "a heron in reeds");
    let m = message(&harness);
    assert!(m.contains("no longer has key 7"), "{m}");
    assert!(!m.contains("the others were loaded"), "{m}");

    load_job(&mut harness, "multi-key");
    let state = &harness.state().state;
    assert_eq!(state.composer.mode, PromptSource::Pack);
    assert_eq!(state.selected_pack.as_deref(), Some("Architecture"));
    assert_eq!(state.checked_keys, vec!["1", "2"]);
    let m = message(&harness);
    assert!(
        m.contains("not which key") && m.contains("current text"),
        "{m}"
    );
}

/// Review 8: Undo load goes back several loads, Hide only hides the bar (Undo load stays
/// offered), and the loads can still be undone after a restart.
#[test]
fn undo_load_is_several_levels_deep_and_survives_a_restart() {
    let setup = composer_setup();
    seed_job(
        &setup,
        "job-a",
        &manual_cfg("prompt of job a", GenerationSettings::default()),
    );
    seed_job(
        &setup,
        "job-b",
        &manual_cfg("prompt of job b", GenerationSettings::default()),
    );
    let mut harness = harness(&setup);
    harness.get_by_label("Manual").click();
    harness.run();
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        "Prompt",
        "my typed draft",
    );
    load_job(&mut harness, "job-a");
    load_job(&mut harness, "job-b");
    assert_eq!(harness.state().state.composer.prompt, "prompt of job b");
    harness.get_by_label("Undo load").click();
    settle(&mut harness);
    assert_eq!(harness.state().state.composer.prompt, "prompt of job a");
    harness.get_by_label("Undo load").click();
    settle(&mut harness);
    assert_eq!(harness.state().state.composer.prompt, "my typed draft");
    assert!(harness.query_by_label("Undo load").is_none());

    // Hide hides the bar only; the loads survive a restart.
    load_job(&mut harness, "job-a");
    harness.get_by_label("Loaded job job-a into the composer.");
    harness.get_by_label("Hide").click();
    harness.run();
    assert!(
        harness
            .query_by_label("Loaded job job-a into the composer.")
            .is_none()
    );
    harness.get_by_label("Undo load");
    let persisted = through_eframe_storage(&harness.state().state.persisted());
    assert_eq!(persisted.load_undo.len(), 1);
    let mut harness = restarted(&setup, persisted);
    assert_eq!(harness.state().state.composer.prompt, "prompt of job a");
    harness.get_by_label("Undo load").click();
    settle(&mut harness);
    assert_eq!(harness.state().state.composer.prompt, "my typed draft");

    // The stack keeps the last ten loads.
    for i in 0..12 {
        load_job(&mut harness, if i % 2 == 0 { "job-a" } else { "job-b" });
    }
    assert_eq!(harness.state().state.composer.undo_load.len(), 10);
}

/// What eframe's storage gives back of `persisted` (it is saved as RON).
fn through_eframe_storage(persisted: &Persisted) -> Persisted {
    #[derive(Default)]
    struct Memory(std::collections::HashMap<String, String>);
    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_owned(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }
    let mut storage = Memory::default();
    eframe::set_value(&mut storage, "state", persisted);
    let back: Persisted = eframe::get_value(&storage, "state").expect("saved state reads back");
    assert_eq!(&back, persisted);
    back
}

/// Review 9: a state saved before the user's own settings were kept apart (no mode, no draft)
/// held the shown values, pack defaults included: its model is not taken as the user's.
#[test]
fn an_old_saved_state_does_not_keep_a_packs_model() {
    let setup = composer_setup();
    let old: Persisted = serde_json::from_str(
        r#"{"theme":"Dark","settings":{"model":"archvision_v2.safetensors","steps":28},"random_seed":true}"#,
    )
    .unwrap();
    let mut harness = restarted(&setup, old);
    let s = settings(&harness);
    assert_eq!((s.model.as_str(), s.steps), ("", 28));
    select(&mut harness, "Animals", &["1"]);
    submit(&mut harness);
    assert_eq!(last_record(&setup).run_config.settings.model, "");
}

/// Review 10: Ctrl+Enter with the focus still in Width after typing 1001 records 1000.
#[test]
fn ctrl_enter_in_a_size_field_records_a_rounded_size() {
    let setup = composer_setup();
    let mut harness = harness(&setup);
    select(&mut harness, "Animals", &["1"]);
    type_into(&mut harness, Role::SpinButton, "Width", "1001");
    assert_eq!(settings(&harness).width, 1001);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    settle(&mut harness);
    assert_eq!(records(&setup).len(), 1, "Ctrl+Enter submitted");
    assert_eq!(last_record(&setup).run_config.settings.width, 1000);
    assert_eq!(settings(&harness).width, 1000);
    assert_eq!(
        harness.state().state.persisted().settings.unwrap().width,
        1000
    );
}

/// Review 11: the Model suggestions of the history are collected by the background scan
/// (with the pack ids), not read from the store on the UI thread when the list opens: they
/// are there before the list was ever opened, and a new job's model is added after it.
#[test]
fn model_suggestions_come_from_the_background_history_scan() {
    let setup = composer_setup();
    seed_job(
        &setup,
        "seen-model",
        &manual_cfg(
            "an earlier job",
            GenerationSettings {
                model: "juggernaut_xl_v9.safetensors".into(),
                ..GenerationSettings::default()
            },
        ),
    );
    let mut harness = harness(&setup);
    let models = |h: &App| h.state().state.composer.suggestions.models.clone();
    assert!(
        models(&harness).contains(&"juggernaut_xl_v9.safetensors".to_owned()),
        "{:?}",
        models(&harness)
    );
    assert!(models(&harness).contains(&"portrait_xl.safetensors".to_owned()));

    select(&mut harness, "Animals", &["1"]);
    harness.state_mut().state.composer.settings.model = "fresh_model.safetensors".into();
    harness.run();
    submit(&mut harness);
    assert!(
        models(&harness).contains(&"fresh_model.safetensors".to_owned()),
        "{:?}",
        models(&harness)
    );
}
