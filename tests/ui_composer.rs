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
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let packs_dir = dir.path().join("packs");
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::create_dir_all(&packs_dir).unwrap();
    for entry in std::fs::read_dir(COMPOSER_PACKS).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), packs_dir.join(entry.file_name())).unwrap();
    }
    Setup {
        _dir: dir,
        data_dir,
        packs_dir,
    }
}

/// The app restarted on the same folders with what the last run saved.
fn restarted(setup: &Setup, persisted: Persisted) -> App {
    let (data, packs) = (setup.data_dir.clone(), setup.packs_dir.clone());
    let mut harness = Harness::builder()
        .with_max_steps(64)
        .with_size([1400.0, 950.0])
        .build_eframe(move |_cc| PromptDeskApp::with_state(AppState::new(data, packs, persisted)));
    settle(&mut harness);
    harness
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

/// Item 5: after loading a job with a fixed seed (Random unticked), a pack whose seed is -1
/// records -1 (Random), not 0; a pack with a fixed seed records it.
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
