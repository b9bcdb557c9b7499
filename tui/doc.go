// Package tui is the shell of oidcctl's console: the Screen contract, the
// root model that navigates between screens, the global key map, the
// semantic styles and the widgets that screens share (a generic filterable
// table, the generic list screen every list of the console is built on, a
// confirmation dialog, a spinner status line, a pager and a text builder
// for pages longer than the screen, toasts, QR codes, OSC 52 copy).
//
// tui never imports the screens: the command line builds them and hands
// them to New or Run, one per top-level tab.
//
// # Messages
//
// Screens talk to the shell with commands: Push and Pop move along the
// navigation stack of the current tab, ShowError and Toast write the status
// line, Copy puts text on the terminal's clipboard. The results of a
// screen's own commands implement Addressed, so that the shell hands them
// to that screen wherever it is, and drops them once the screen is gone
// (popped): a slow provider answer never lands on the wrong screen.
//
// Everything else that is not a key (spinner ticks, form internals) goes
// to the active screen only; keys too. A screen that becomes active again
// (its tab is chosen, the screen above it popped) gets an ActivatedMsg and
// usually reloads.
//
// # Lists
//
// A List[K, V] is a whole list screen made from a ListConfig: how to load
// the items, key and render them, the detail under the table, and the
// Actions of its keys (ask, then open a screen, run behind a spinner, or
// do at once). Confirmation, the spinner, the reload after an action and
// dropping older loads are written once, here. An action that opens a
// form reads the item afresh (Reread), never from the row shown, which can
// be older than the last save. Screens that are not lists use Load and
// Take for the same load sequence.
//
// # Layout
//
// Row 1 is the tab bar, row 2 the screen's title (a breadcrumb of the
// stack), then the screen, then the status line (errors and toasts, one to
// three rows) and the help line. Every screen works at 80×24.
package tui
