//! Panel sizes that hold in any window: the pack browser (left), the history (bottom) and the
//! job details (right) each keep the size the user dragged them to, but only as far as the
//! window has room: each frame they are fitted so the central area (the composer and its
//! Submit button) keeps at least [`CENTRAL_MIN_WIDTH`] × [`CENTRAL_MIN_HEIGHT`], and never
//! below their own minimum. A small window shrinks them for the time it is small; the size the
//! user chose is kept apart (in egui's persisted memory, so it is saved with the window state)
//! and comes back when the window grows again. Only a drag on a panel's edge changes it.
//!
//! [`fit_pair`] and [`fit_one`] are the arithmetic; [`FittedPanel`] applies it to an
//! [`egui::Panel`].

/// The central area keeps at least this width (outer, margins included).
pub const CENTRAL_MIN_WIDTH: f32 = 250.0;
/// The central area keeps at least this height: the view switch, the Submit row and some of
/// the composer (which scrolls).
pub const CENTRAL_MIN_HEIGHT: f32 = 210.0;

/// The history's share of the height until the user drags its edge...
pub const DEFAULT_HISTORY_SHARE: f32 = 0.4;
/// ...but at least this much where the window has room for it (a small window: the filter
/// bar, a notice, the table's header and three rows, the counts).
pub const DEFAULT_HISTORY_MIN: f32 = 200.0;

/// The smallest window the app allows (640 × 480 must stay usable).
pub const MIN_WINDOW: [f32; 2] = [640.0, 480.0];

/// A panel's size as the user wants it and its minimum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Want {
    pub wanted: f32,
    pub min: f32,
}

/// Sizes for one or two panels that share an axis with the central area (left and right
/// panels share the width): each gets what it wants when everything fits in `room`, leaving
/// `central_min`; otherwise they give way in proportion to what they have above their
/// minimum. They never go below their minimum (then the central area gets what is left).
pub fn fit_pair(room: f32, central_min: f32, a: Want, b: Option<Want>) -> (f32, Option<f32>) {
    let a_wanted = a.wanted.max(a.min);
    let b_wanted = b.map(|b| b.wanted.max(b.min));
    let total = a_wanted + b_wanted.unwrap_or(0.0);
    let space = (room - central_min).max(0.0);
    if total <= space {
        return (a_wanted, b_wanted);
    }
    let a_slack = a_wanted - a.min;
    let b_slack = b.map_or(0.0, |b| b_wanted.unwrap_or(0.0) - b.min);
    let slack = a_slack + b_slack;
    let over = total - space;
    if slack <= 0.0 || over >= slack {
        return (a.min, b.map(|b| b.min));
    }
    let a_size = a_wanted - over * a_slack / slack;
    let b_size = b.map(|_| b_wanted.unwrap_or(0.0) - over * b_slack / slack);
    (a_size, b_size)
}

/// The size of one panel alone on its axis (the history, below the central area).
pub fn fit_one(room: f32, central_min: f32, want: Want) -> f32 {
    fit_pair(room, central_min, want, None).0
}

/// Stored as the wanted size until the user drags the panel: the default applies.
const NOT_DRAGGED: f32 = -1.0;

/// Which side a fitted panel is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
    Bottom,
}

impl Side {
    fn axis(self) -> usize {
        match self {
            Side::Left | Side::Right => 0,
            Side::Bottom => 1,
        }
    }
}

/// A resizable panel fitted to the window each frame (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct FittedPanel {
    pub id_salt: &'static str,
    pub side: Side,
    pub min: f32,
    /// A size saved by an earlier version of the app is taken only up to this (and half the
    /// window); above it, it is taken to be a size that version grew by itself, and the
    /// default applies.
    pub earlier_at_most: f32,
}

impl FittedPanel {
    /// The panel's id, as [`egui::Panel`] forms it in `ui`.
    pub fn id(&self, ui: &egui::Ui) -> egui::Id {
        ui.scope_id().with(self.id_salt)
    }

    fn wanted_id(&self, ui: &egui::Ui) -> egui::Id {
        self.id(ui).with("promptdesk_wanted_size")
    }

    /// The size the user last dragged the panel to; else the size a previous version of the
    /// app saved (taken once, the first time, if [`FittedPanel::adopts`] it); else `default`
    /// (which may follow the window). `room` is the window's room on the panel's axis.
    pub fn wanted(&self, ui: &egui::Ui, default: f32, room: f32) -> Want {
        let wanted_id = self.wanted_id(ui);
        let saved: Option<f32> = ui.data_mut(|d| d.get_persisted(wanted_id));
        let saved = saved.unwrap_or_else(|| {
            // Never read the panel's state again: from now on it holds the fitted size.
            let earlier = egui::PanelState::load(ui.ctx(), self.id(ui))
                .map(|s| s.size()[self.side.axis()])
                .filter(|&size| self.adopts(size, room))
                .unwrap_or(NOT_DRAGGED);
            ui.data_mut(|d| d.insert_persisted(wanted_id, earlier));
            earlier
        });
        let wanted = Some(saved)
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(default);
        Want {
            wanted,
            min: self.min,
        }
    }

    /// True when a size an earlier version saved is taken as the size the user wants: at
    /// most [`FittedPanel::earlier_at_most`] and half of `room`.
    pub fn adopts(&self, earlier: f32, room: f32) -> bool {
        earlier.is_finite() && earlier <= self.earlier_at_most.min(room * 0.5)
    }

    /// Shows the panel at `size` (its edge can be dragged up to `max`); a drag becomes the
    /// size the user wants.
    pub fn show<R>(
        &self,
        ui: &mut egui::Ui,
        size: f32,
        max: f32,
        add_contents: impl FnOnce(&mut egui::Ui) -> R,
    ) -> egui::InnerResponse<R> {
        let id = self.id(ui);
        let axis = self.side.axis();
        let max = max.max(size);
        // The panel takes its size from its stored state: store the fitted size, so neither a
        // saved size nor contents that grew last frame can push the central area away.
        let mut rect = ui.available_rect_before_wrap();
        if axis == 0 {
            rect.set_width(size);
        } else {
            rect.set_height(size);
        }
        ui.data_mut(|d| {
            d.insert_persisted(id, egui::containers::panel::PanelState { outer_rect: rect });
        });
        let panel = match self.side {
            Side::Left => egui::Panel::left(self.id_salt),
            Side::Right => egui::Panel::right(self.id_salt),
            Side::Bottom => egui::Panel::bottom(self.id_salt),
        };
        let response = panel
            .resizable(true)
            .size_range(self.min.min(size)..=max)
            .show(ui, add_contents);
        if user_resized(ui, id.with("__resize")) {
            let dragged = response.response.rect.size()[axis];
            let wanted_id = self.wanted_id(ui);
            ui.data_mut(|d| d.insert_persisted(wanted_id, dragged));
        }
        response
    }
}

/// The pack browser, left.
pub const PACK_BROWSER: FittedPanel = FittedPanel {
    id_salt: "pack_browser",
    side: Side::Left,
    min: 180.0,
    earlier_at_most: f32::INFINITY,
};
/// The history, bottom. Versions before the fitting let it grow by itself on every repaint
/// (from its default of 380) and saved the grown size: a larger saved size is not taken.
pub const HISTORY: FittedPanel = FittedPanel {
    id_salt: "history",
    side: Side::Bottom,
    min: 120.0,
    earlier_at_most: 380.0,
};
/// The job details, right (when a job is selected).
pub const JOB_DETAILS: FittedPanel = FittedPanel {
    id_salt: "job_details",
    side: Side::Right,
    min: 200.0,
    earlier_at_most: f32::INFINITY,
};

/// The sizes of the three panels for this frame, and how far each edge can be dragged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub left: f32,
    pub left_max: f32,
    /// None when the details panel is not shown.
    pub right: Option<f32>,
    pub right_max: f32,
    pub history: f32,
    pub history_max: f32,
}

/// Fits the panels to the room left in `ui` (below the menu and status bars).
pub fn fit(ui: &egui::Ui, details_open: bool) -> Fit {
    let room = ui.available_rect_before_wrap().size();
    // Until dragged, the pack browser takes 30% of a small window's width (up to 320 px), so
    // the history's columns and the composer keep room there.
    let left_default = (room.x * 0.3).round().clamp(PACK_BROWSER.min, 320.0);
    let left_want = PACK_BROWSER.wanted(ui, left_default, f32::INFINITY);
    let right_want = JOB_DETAILS.wanted(ui, 380.0, f32::INFINITY);
    let (left, right) = fit_pair(
        room.x,
        CENTRAL_MIN_WIDTH,
        left_want,
        details_open.then_some(right_want),
    );
    let history_default = (room.y * DEFAULT_HISTORY_SHARE)
        .round()
        .max(DEFAULT_HISTORY_MIN);
    let history_want = HISTORY.wanted(ui, history_default, room.y);
    Fit {
        left,
        left_max: room.x - CENTRAL_MIN_WIDTH - right.unwrap_or(0.0),
        right,
        right_max: room.x - CENTRAL_MIN_WIDTH - left,
        history: fit_one(room.y, CENTRAL_MIN_HEIGHT, history_want),
        history_max: room.y - CENTRAL_MIN_HEIGHT,
    }
}

/// True when the user moves the panel edge this frame: dragging it (or releasing it), or
/// through assistive technologies (the handle is an AccessKit splitter).
fn user_resized(ui: &egui::Ui, resize_id: egui::Id) -> bool {
    use egui::accesskit::Action;
    let dragged = ui
        .ctx()
        .read_response(resize_id)
        .is_some_and(|r| r.dragged() || r.drag_stopped());
    dragged
        || ui.input(|i| {
            [Action::Increment, Action::Decrement, Action::SetValue]
                .into_iter()
                .any(|a| i.has_accesskit_action_request(resize_id, a))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(wanted: f32, min: f32) -> Want {
        Want { wanted, min }
    }

    #[test]
    fn panels_get_what_they_want_when_it_fits() {
        assert_eq!(
            fit_pair(1280.0, 250.0, want(320.0, 180.0), Some(want(380.0, 200.0))),
            (320.0, Some(380.0))
        );
        assert_eq!(fit_one(776.0, 210.0, want(300.0, 120.0)), 300.0);
    }

    #[test]
    fn panels_give_way_in_proportion_and_keep_their_minimum() {
        // 800 wide: 320 + 380 + 250 does not fit; 100 too much, slack 140 and 180.
        let (left, right) = fit_pair(800.0, 250.0, want(320.0, 180.0), Some(want(380.0, 200.0)));
        let right = right.unwrap();
        assert!((left + right - 550.0).abs() < 0.01, "{left} + {right}");
        assert!(left > 180.0 && right > 200.0);
        assert!((320.0 - left) / 140.0 - (380.0 - right) / 180.0 < 0.01);
        // 630 wide: both at their minimum, the central area keeps its own.
        assert_eq!(
            fit_pair(630.0, 250.0, want(600.0, 180.0), Some(want(800.0, 200.0))),
            (180.0, Some(200.0))
        );
        // 640 wide: the 10 px over the minimums are shared.
        let (left, right) = fit_pair(640.0, 250.0, want(600.0, 180.0), Some(want(800.0, 200.0)));
        assert!((left + right.unwrap() - 390.0).abs() < 0.01);
        assert!(left >= 180.0 && right.unwrap() >= 200.0);
        // Smaller still: the panels keep their minimum, the central area gets the rest.
        assert_eq!(
            fit_pair(400.0, 250.0, want(300.0, 180.0), None),
            (180.0, None)
        );
        // A huge saved history height cannot squeeze the composer.
        assert_eq!(fit_one(456.0, 210.0, want(2000.0, 120.0)), 246.0);
    }

    #[test]
    fn a_history_size_an_earlier_version_grew_is_not_taken() {
        assert!(HISTORY.adopts(300.0, 900.0));
        assert!(!HISTORY.adopts(381.0, 900.0), "above the old default");
        assert!(!HISTORY.adopts(300.0, 560.0), "above half the window");
        assert!(PACK_BROWSER.adopts(700.0, f32::INFINITY));
    }

    #[test]
    fn a_wanted_size_below_the_minimum_is_raised() {
        assert_eq!(fit_one(800.0, 210.0, want(10.0, 120.0)), 120.0);
    }
}
